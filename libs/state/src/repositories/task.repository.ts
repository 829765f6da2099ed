/** The tasks projection table: the only SQL that touches it. */
import type { Kysely, Selectable } from 'kysely';
import type { DB, TasksTable } from '../schema';

export type TaskRecord = Selectable<TasksTable>;

const LOOKUP_CHUNK = 500;
/** 40 columns per row: stays well under the bound-parameter limits of both dialects. */
const UPSERT_CHUNK = 200;

const TASK_COLUMNS = [
  'name', 'state', 'state_at', 'sent_at', 'received_at', 'started_at', 'succeeded_at', 'failed_at',
  'retried_at', 'revoked_at', 'rejected_at', 'args', 'kwargs', 'result', 'exception', 'traceback',
  'runtime', 'retries', 'eta', 'expires', 'worker', 'client', 'queue', 'exchange', 'routing_key',
  'root_id', 'parent_id', 'revoked_terminated', 'revoked_signum', 'revoked_expired',
  'rejected_requeue', 'source', 'first_position', 'last_position', 'event_count', 'merge_meta',
] as const satisfies readonly (keyof TasksTable)[];

export class TaskRepository {
  async findByUuids(db: Kysely<DB>, uuids: readonly string[]): Promise<Map<string, TaskRecord>> {
    const found = new Map<string, TaskRecord>();
    for (let i = 0; i < uuids.length; i += LOOKUP_CHUNK) {
      const chunk = uuids.slice(i, i + LOOKUP_CHUNK);
      const rows = await db.selectFrom('tasks').selectAll().where('uuid', 'in', chunk).execute();
      for (const row of rows) found.set(row.uuid, row);
    }
    return found;
  }

  async upsert(db: Kysely<DB>, rows: readonly TaskRecord[]): Promise<void> {
    for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
      const chunk = rows.slice(i, i + UPSERT_CHUNK);
      await db
        .insertInto('tasks')
        .values(chunk as TaskRecord[])
        .onConflict((oc) =>
          oc.column('uuid').doUpdateSet((eb) => Object.fromEntries(TASK_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)]))),
        )
        .execute();
    }
  }

  async deleteAll(db: Kysely<DB>): Promise<void> {
    await db.deleteFrom('tasks').execute();
  }

  async all(db: Kysely<DB>): Promise<TaskRecord[]> {
    return db.selectFrom('tasks').selectAll().orderBy('uuid').execute();
  }

  async findByUuid(db: Kysely<DB>, uuid: string): Promise<TaskRecord | undefined> {
    return db.selectFrom('tasks').selectAll().where('uuid', '=', uuid).executeTakeFirst();
  }
}
