/** The tasks projection table: the only SQL that touches it. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, TasksTable } from '../schema';
import type { PreparedStatements } from '../sqlite/prepared-statements';
import { columnList, placeholders } from '../sqlite/sql-lists';
import { STARTED } from '../projections/task-state';

export type TaskRecord = Selectable<TasksTable>;

const LOOKUP_CHUNK = 500;
/** 40 columns per row: stays well under the bound-parameter limits of both dialects. */
const UPSERT_CHUNK = 200;

const TASK_COLUMNS = [
  'name', 'state', 'state_at', 'sent_at', 'received_at', 'started_at', 'succeeded_at', 'failed_at',
  'retried_at', 'revoked_at', 'rejected_at', 'args', 'kwargs', 'result', 'exception', 'traceback',
  'runtime', 'retries', 'eta', 'expires', 'worker', 'client', 'queue', 'exchange', 'routing_key',
  'root_id', 'parent_id', 'revoked_terminated', 'revoked_signum', 'revoked_expired',
  'rejected_requeue', 'source', 'first_position', 'last_position', 'event_count', 'event_positions', 'merge_meta',
] as const satisfies readonly (keyof TasksTable)[];

/**
 * A task still STARTED on a worker that went offline after the task started, or has said since
 * that it runs no task: the lost-task policy's candidates, with what it needs to judge them.
 */
export interface StrandedTask {
  uuid: string;
  /** The worker the task started on (its hostname). */
  worker: string;
  started_at: number;
  /** The broker the task's events came from. */
  source: string | null;
  worker_status: string;
  worker_offline_since: number | null;
  worker_offline_reason: string | null;
  worker_last_started_at: number | null;
  worker_last_idle_at: number | null;
  worker_last_goodbye_at: number | null;
  worker_last_heartbeat_at: number | null;
}

/** A projected row and what it was before this batch (undefined: a new task). */
export interface TaskChange {
  before: TaskRecord | undefined;
  after: TaskRecord;
}

const SQLITE_SELECT_TASK = 'select * from tasks where uuid = ?';
const SQLITE_INSERT_TASK = `insert into tasks (${columnList(['uuid', ...TASK_COLUMNS])}) values (${placeholders(TASK_COLUMNS.length + 1)})`;

export class TaskRepository {
  /** `sqlite`: prepared statements of the SQLite connection (null on Postgres). */
  constructor(private readonly sqlite: PreparedStatements | null = null) {}

  async findByUuids(db: Kysely<DB>, uuids: readonly string[]): Promise<Map<string, TaskRecord>> {
    const found = new Map<string, TaskRecord>();
    if (this.sqlite) {
      const select = this.sqlite.get(SQLITE_SELECT_TASK);
      for (const uuid of uuids) {
        const row = select.get(uuid) as TaskRecord | undefined;
        if (row) found.set(uuid, row);
      }
      return found;
    }
    for (let i = 0; i < uuids.length; i += LOOKUP_CHUNK) {
      const chunk = uuids.slice(i, i + LOOKUP_CHUNK);
      const rows = await db.selectFrom('tasks').selectAll().where('uuid', 'in', chunk).execute();
      for (const row of rows) found.set(row.uuid, row);
    }
    return found;
  }

  /**
   * Writes projected rows. On SQLite a changed row is updated in the columns that changed only, so
   * indexes over untouched columns are not rewritten (the task table carries several ordering
   * indexes for the API); on Postgres rows are upserted in multi-row statements.
   */
  async write(db: Kysely<DB>, changes: readonly TaskChange[]): Promise<void> {
    if (!this.sqlite) return this.upsert(db, changes.map((c) => c.after));
    const insert = this.sqlite.get(SQLITE_INSERT_TASK);
    for (const { before, after } of changes) {
      if (!before) {
        insert.run(after.uuid, ...TASK_COLUMNS.map((c) => after[c]));
        continue;
      }
      const changed = TASK_COLUMNS.filter((c) => before[c] !== after[c]);
      if (changed.length === 0) continue;
      const update = this.sqlite.get(`update tasks set ${changed.map((c) => `"${c}" = ?`).join(', ')} where uuid = ?`);
      update.run(...changed.map((c) => after[c]), after.uuid);
    }
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

  /**
   * Tasks STARTED, and not rejected since, on a worker that has since gone offline (at or after the start) or reported that
   * it runs no task (`last_idle_at` after the start: e.g. killed and restarted before its
   * heartbeats were missed), by uuid, after `afterUuid` when given (keyset paging), at most
   * `limit`. Read through the `tasks_state_order` index (state first; on Postgres it is built on
   * `state collate "C"`, so the filter says so too): STARTED tasks are the ones running now.
   */
  async findStranded(db: Kysely<DB>, limit: number, afterUuid: string | null = null): Promise<StrandedTask[]> {
    const postgres = this.sqlite === null;
    const state = postgres ? sql<string>`t.state collate "C"` : sql<string>`t.state`;
    const uuid = postgres ? sql<string>`t.uuid collate "C"` : sql<string>`t.uuid`;
    let query = db
      .selectFrom('tasks as t')
      .innerJoin('workers as w', 'w.hostname', 't.worker')
      .select([
        't.uuid',
        't.worker',
        't.started_at',
        't.source',
        'w.status as worker_status',
        'w.offline_since as worker_offline_since',
        'w.offline_reason as worker_offline_reason',
        'w.last_started_at as worker_last_started_at',
        'w.last_idle_at as worker_last_idle_at',
        'w.last_goodbye_at as worker_last_goodbye_at',
        'w.last_heartbeat_at as worker_last_heartbeat_at',
      ])
      .where(state, '=', STARTED)
      .where('t.started_at', 'is not', null)
      // Received again since it started (redelivered): it waits on its new worker, it does not run.
      .where((eb) => eb.or([eb('t.received_at', 'is', null), eb('t.received_at', '<=', eb.ref('t.started_at'))]))
      // A worker without a heart (--without-heartbeat) tells nothing of its tasks: its offline
      // verdicts are only its task events stopping.
      .where('w.last_heartbeat_at', 'is not', null)
      // Rejected since it started (Reject(), requeue=False): its end was reported. (Celery's
      // precedence keeps such a task STARTED.)
      .where((eb) => eb.or([eb('t.rejected_at', 'is', null), eb('t.rejected_at', '<', eb.ref('t.started_at'))]))
      .where((eb) =>
        eb.or([
          eb.and([eb('w.status', '=', 'offline'), eb('t.started_at', '<=', eb.ref('w.offline_since'))]),
          eb('w.last_idle_at', '>', eb.ref('t.started_at')),
        ]),
      );
    if (afterUuid !== null) query = query.where(uuid, '>', afterUuid);
    const rows = await query.orderBy(uuid).limit(limit).execute();
    return rows.map((r) => ({ ...r, worker: r.worker as string, started_at: r.started_at as number }));
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
