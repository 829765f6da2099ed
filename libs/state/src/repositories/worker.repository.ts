/** The workers projection table: the only SQL that touches it. */
import type { Kysely, Selectable } from 'kysely';
import type { DB, WorkersTable } from '../schema';
import type { PreparedStatements } from '../sqlite/prepared-statements';
import { columnList, placeholders } from '../sqlite/sql-lists';

export type WorkerRecord = Selectable<WorkersTable>;

const UPSERT_CHUNK = 200;

const WORKER_COLUMNS = [
  'source', 'status', 'offline_reason', 'sw_ident', 'sw_ver', 'sw_sys', 'pid', 'freq', 'active',
  'processed', 'loadavg', 'last_started_at', 'last_idle_at', 'last_goodbye_at', 'last_heartbeat_at', 'last_seen_at', 'last_seen_received_at',
  'heartbeat_expires_at', 'online_since', 'offline_since', 'task_counts', 'first_position',
  'last_position', 'merge_meta',
] as const satisfies readonly (keyof WorkersTable)[];

const SQLITE_SELECT_WORKER = 'select * from workers where hostname = ?';
const SQLITE_UPSERT_WORKER =
  `insert into workers (${columnList(['hostname', ...WORKER_COLUMNS])}) values (${placeholders(WORKER_COLUMNS.length + 1)}) ` +
  `on conflict (hostname) do update set ${WORKER_COLUMNS.map((c) => `"${c}" = excluded."${c}"`).join(', ')}`;

export class WorkerRepository {
  /** `sqlite`: prepared statements of the SQLite connection (null on Postgres). */
  constructor(private readonly sqlite: PreparedStatements | null = null) {}

  async findByHostnames(db: Kysely<DB>, hostnames: readonly string[]): Promise<Map<string, WorkerRecord>> {
    const found = new Map<string, WorkerRecord>();
    if (this.sqlite) {
      const select = this.sqlite.get(SQLITE_SELECT_WORKER);
      for (const hostname of hostnames) {
        const row = select.get(hostname) as WorkerRecord | undefined;
        if (row) found.set(hostname, row);
      }
      return found;
    }
    for (let i = 0; i < hostnames.length; i += 500) {
      const rows = await db.selectFrom('workers').selectAll().where('hostname', 'in', hostnames.slice(i, i + 500)).execute();
      for (const row of rows) found.set(row.hostname, row);
    }
    return found;
  }

  async upsert(db: Kysely<DB>, rows: readonly WorkerRecord[]): Promise<void> {
    if (this.sqlite) {
      const upsert = this.sqlite.get(SQLITE_UPSERT_WORKER);
      for (const row of rows) upsert.run(row.hostname, ...WORKER_COLUMNS.map((c) => row[c]));
      return;
    }
    for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
      await db
        .insertInto('workers')
        .values(rows.slice(i, i + UPSERT_CHUNK) as WorkerRecord[])
        .onConflict((oc) =>
          oc.column('hostname').doUpdateSet((eb) => Object.fromEntries(WORKER_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)]))),
        )
        .execute();
    }
  }

  /** Online workers whose heartbeat expiry (collector clock) is before `now`. */
  async findExpired(db: Kysely<DB>, now: number): Promise<WorkerRecord[]> {
    return db
      .selectFrom('workers')
      .selectAll()
      .where('status', '=', 'online')
      .where('heartbeat_expires_at', '<', now)
      .orderBy('hostname')
      .execute();
  }

  async deleteAll(db: Kysely<DB>): Promise<void> {
    await db.deleteFrom('workers').execute();
  }

  async all(db: Kysely<DB>): Promise<WorkerRecord[]> {
    return db.selectFrom('workers').selectAll().orderBy('hostname').execute();
  }

  async findByHostname(db: Kysely<DB>, hostname: string): Promise<WorkerRecord | undefined> {
    return db.selectFrom('workers').selectAll().where('hostname', '=', hostname).executeTakeFirst();
  }
}
