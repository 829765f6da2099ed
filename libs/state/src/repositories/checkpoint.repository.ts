/** Projection and source checkpoints: the only SQL that touches them. */
import type { Kysely } from 'kysely';
import type { DB } from '../schema';
import type { PreparedStatements } from '../sqlite/prepared-statements';

export interface SourceCheckpoint {
  source: string;
  last_received_at: number;
  last_position: number;
}

const SQLITE_SET_PROJECTION = 'insert into projection_checkpoints (name, position) values (?, ?) on conflict (name) do update set position = excluded.position';
const SQLITE_ADVANCE_SOURCE =
  'insert into source_checkpoints (source, last_received_at, last_position) values (?, ?, ?) on conflict (source) do update set ' +
  'last_received_at = max(source_checkpoints.last_received_at, excluded.last_received_at), ' +
  'last_position = max(source_checkpoints.last_position, excluded.last_position)';

export class CheckpointRepository {
  /** `sqlite`: prepared statements of the SQLite connection (null on Postgres). */
  constructor(private readonly sqlite: PreparedStatements | null = null) {}

  async projectionPosition(db: Kysely<DB>, name: string): Promise<number> {
    const row = await db.selectFrom('projection_checkpoints').select('position').where('name', '=', name).executeTakeFirst();
    return row?.position ?? 0;
  }

  async setProjectionPosition(db: Kysely<DB>, name: string, position: number): Promise<void> {
    if (this.sqlite) {
      this.sqlite.get(SQLITE_SET_PROJECTION).run(name, position);
      return;
    }
    await db
      .insertInto('projection_checkpoints')
      .values({ name, position })
      .onConflict((oc) => oc.column('name').doUpdateSet({ position }))
      .execute();
  }

  async deleteProjection(db: Kysely<DB>, name: string): Promise<void> {
    await db.deleteFrom('projection_checkpoints').where('name', '=', name).execute();
  }

  async source(db: Kysely<DB>, source: string): Promise<SourceCheckpoint | undefined> {
    return db.selectFrom('source_checkpoints').selectAll().where('source', '=', source).executeTakeFirst();
  }

  async allSources(db: Kysely<DB>): Promise<SourceCheckpoint[]> {
    return db.selectFrom('source_checkpoints').selectAll().orderBy('source').execute();
  }

  /** Moves a source's checkpoint forward only (never back), so concurrent writers agree. */
  async advanceSources(db: Kysely<DB>, checkpoints: readonly SourceCheckpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    if (this.sqlite) {
      const advance = this.sqlite.get(SQLITE_ADVANCE_SOURCE);
      for (const cp of checkpoints) advance.run(cp.source, cp.last_received_at, cp.last_position);
      return;
    }
    await db
      .insertInto('source_checkpoints')
      .values([...checkpoints])
      .onConflict((oc) =>
        oc.column('source').doUpdateSet((eb) => ({
          last_received_at: eb
            .case()
            .when('excluded.last_received_at', '>', eb.ref('source_checkpoints.last_received_at'))
            .then(eb.ref('excluded.last_received_at'))
            .else(eb.ref('source_checkpoints.last_received_at'))
            .end(),
          last_position: eb
            .case()
            .when('excluded.last_position', '>', eb.ref('source_checkpoints.last_position'))
            .then(eb.ref('excluded.last_position'))
            .else(eb.ref('source_checkpoints.last_position'))
            .end(),
        })),
      )
      .execute();
  }
}
