/**
 * Reads behind the API's live subscriptions: the log after a position (optionally bounded and
 * filtered), and the task and worker rows a page of events touched: one update per row, plus one
 * per state a task went through within the page.
 *
 * Writers serialise and positions become visible in commit order, so reading `position > last`
 * page after page never skips an event.
 */
import { toStoredEvent, type StoredEvent } from '../stored-event';
import type { Kysely } from 'kysely';
import type { Database } from '../database';
import type { DB } from '../schema';
import type { TaskRecord } from '../repositories/task.repository';
import type { WorkerRecord } from '../repositories/worker.repository';
import { changesWorkerRow, isTaskEvent } from '../projections/batch-projector';
import { mergeRulesOf, mergeTaskEvent, type MergeRules } from '../projections/task-merge';
import { eventsOfTasks, eventsSource } from './events-of-tasks';

/** Criteria on the event columns; every given one must hold (an empty list is no criterion). */
export interface LogEventFilter {
  types?: readonly string[];
  hostname?: string;
  uuid?: string;
  sources?: readonly string[];
}

/** Which projection rows a page of events should come with. */
export interface LiveReadNeeds {
  tasks: boolean;
  workers: boolean;
}

/**
 * A row as it stood after the event at `position`: the newest event of the page touching it, or
 * (tasks only) an earlier event of the page after which the task's state had changed.
 */
export interface RowUpdate<R> {
  position: number;
  row: R;
}

export interface LiveBatch {
  /** Events after the position, in position order. */
  events: StoredEvent[];
  /**
   * Per task the page's task events touched, in position order (when asked for): the row after
   * the newest of them, preceded by the row after each earlier one that changed the task's state
   * (a page holding task-received, task-started and task-succeeded of one task yields RECEIVED,
   * STARTED and SUCCESS, never only the last).
   */
  taskUpdates: RowUpdate<TaskRecord>[];
  /** One update per worker the page's worker events touched, in position order (when asked for). */
  workerUpdates: RowUpdate<WorkerRecord>[];
}

export interface LiveBatchOptions {
  /** Inclusive upper bound on positions. */
  upTo?: number;
  /**
   * Read the events and the rows from one snapshot (a read-only REPEATABLE READ transaction on
   * Postgres, a read transaction on SQLite), so each row is exactly the row after its update's
   * event. Without it the rows are read as they are when the second statement runs.
   */
  snapshot?: boolean;
}

/** Above this many keys an IN list is split (bound parameters stay far below both dialects' limits). */
const IN_CHUNK = 1000;
/**
 * A task with more stored events than this (custom task events by the thousand, say) gets only
 * its newest row per page: re-reading its whole history on every poll would cost too much.
 */
const MAX_TRANSITION_HISTORY = 1000;

export class LiveQueries {
  constructor(private readonly database: Pick<Database, 'db'>) {}

  /** The newest position in the log (0 when empty). */
  async head(): Promise<number> {
    const row = await this.database.db.selectFrom('events').select((eb) => eb.fn.max('position').as('p')).executeTakeFirst();
    return Number(row?.p ?? 0);
  }

  /** Events with `after < position <= upTo` matching the filter, in position order, at most `limit`. */
  async events(after: number, limit: number, options: { upTo?: number; filter?: LogEventFilter } = {}, db: Kysely<DB> = this.database.db): Promise<StoredEvent[]> {
    const f = options.filter;
    let q = eventsSource(db, f?.uuid).selectAll().where('position', '>', after);
    if (options.upTo !== undefined) q = q.where('position', '<=', options.upTo);
    if (f?.types?.length) q = q.where('type', 'in', [...f.types]);
    if (f?.hostname !== undefined) q = q.where('hostname', '=', f.hostname);
    if (f?.sources?.length) q = q.where('source', 'in', [...f.sources]);
    const rows = await q.orderBy('position').limit(limit).execute();
    return rows.map(toStoredEvent);
  }

  async tasksByUuids(uuids: readonly string[], db: Kysely<DB> = this.database.db): Promise<Map<string, TaskRecord>> {
    const found = new Map<string, TaskRecord>();
    for (let i = 0; i < uuids.length; i += IN_CHUNK) {
      const rows = await db.selectFrom('tasks').selectAll().where('uuid', 'in', uuids.slice(i, i + IN_CHUNK)).execute();
      for (const row of rows) found.set(row.uuid, row);
    }
    return found;
  }

  async workersByHostnames(hostnames: readonly string[], db: Kysely<DB> = this.database.db): Promise<Map<string, WorkerRecord>> {
    const found = new Map<string, WorkerRecord>();
    for (let i = 0; i < hostnames.length; i += IN_CHUNK) {
      const rows = await db.selectFrom('workers').selectAll().where('hostname', 'in', hostnames.slice(i, i + IN_CHUNK)).execute();
      for (const row of rows) found.set(row.hostname, row);
    }
    return found;
  }

  /**
   * A page of events after `after` with the rows they touched: one statement for the events and
   * one per kind of row asked for (never one per event). With `snapshot`, an idle poll costs one
   * statement; a page with events is read again inside the snapshot together with its rows.
   */
  async batch(after: number, limit: number, needs: LiveReadNeeds, options: LiveBatchOptions = {}): Promise<LiveBatch> {
    const read = async (db: Kysely<DB>): Promise<LiveBatch> => {
      const events = await this.events(after, limit, { upTo: options.upTo }, db);
      const [taskUpdates, workerUpdates] = [
        needs.tasks && events.length > 0 ? await this.taskUpdates(events, db) : [],
        needs.workers && events.length > 0 ? await this.workerUpdates(events, db) : [],
      ];
      return { events, taskUpdates, workerUpdates };
    };
    if (!options.snapshot || (!needs.tasks && !needs.workers)) return read(this.database.db);
    const probe = await this.events(after, 1, { upTo: options.upTo });
    if (probe.length === 0) return { events: [], taskUpdates: [], workerUpdates: [] };
    return this.database.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(read);
  }

  private async taskUpdates(events: readonly StoredEvent[], db: Kysely<DB>): Promise<RowUpdate<TaskRecord>[]> {
    const last = lastPositionBy(events, isTaskEvent, (e) => e.uuid!);
    const rows = await this.tasksByUuids([...last.keys()], db);
    const pageEnd = events[events.length - 1]!.position;
    const { updates: folded, replaced } = await this.foldedUpdates(events, rows, pageEnd, db);
    const updates = updatesOf(last, rows).filter((u) => !replaced.has(u.row.uuid));
    if (folded.length === 0) return updates;
    return [...updates, ...folded].sort((a, b) => a.position - b.position);
  }

  /**
   * Rows the snapshot cannot give, folded from the tasks' own events in the log up to a position
   * (the log is complete, so the fold is the row the collector had projected then), in one read of
   * those tasks' events up to the page's end (eventsOfTasks, as a task's timeline is read):
   * - for a task with several events in the page, the row after each of them but the newest at
   *   which the state changed;
   * - for a task whose row already holds events after the page (the page was cut at `limit` and
   *   the rest of a commit follows), the row after its newest event in the page, which then
   *   replaces the row as stored: sending that one would show a later state now and again with
   *   the next page, skipping the states in between.
   * Tasks with more than MAX_TRANSITION_HISTORY events are not folded (their stored row is sent).
   */
  private async foldedUpdates(
    events: readonly StoredEvent[],
    rows: ReadonlyMap<string, TaskRecord>,
    pageEnd: number,
    db: Kysely<DB>,
  ): Promise<{ updates: RowUpdate<TaskRecord>[]; replaced: Set<string> }> {
    const inPage = new Map<string, number[]>();
    for (const e of events) {
      if (!isTaskEvent(e)) continue;
      const list = inPage.get(e.uuid!);
      if (list) list.push(e.position);
      else inPage.set(e.uuid!, [e.position]);
    }
    /** Per task to fold: the in-page positions after which its state changed (`earlier`) or its row is wanted whatever it is (`newest`). */
    const wanted = new Map<string, { earlier: Set<number>; newest: number | null; rules: MergeRules }>();
    for (const [uuid, positions] of inPage) {
      const row = rows.get(uuid);
      if (row === undefined || row.event_count > MAX_TRANSITION_HISTORY) continue;
      const ahead = row.last_position > pageEnd;
      if (positions.length < 2 && !ahead) continue;
      wanted.set(uuid, { earlier: new Set(positions.slice(0, -1)), newest: ahead ? positions[positions.length - 1]! : null, rules: mergeRulesOf(row) });
    }
    const replaced = new Set<string>();
    for (const [uuid, w] of wanted) if (w.newest !== null) replaced.add(uuid);
    if (wanted.size === 0) return { updates: [], replaced };
    const uuids = [...wanted.keys()];
    const history: StoredEvent[] = [];
    for (let i = 0; i < uuids.length; i += IN_CHUNK) {
      const chunk = await db
        .selectFrom(eventsOfTasks(db, uuids.slice(i, i + IN_CHUNK)).as('events'))
        .selectAll()
        .where('position', '<=', pageEnd)
        .execute();
      for (const r of chunk) history.push(toStoredEvent(r));
    }
    history.sort((a, b) => a.position - b.position);
    const folded = new Map<string, TaskRecord>();
    const updates: RowUpdate<TaskRecord>[] = [];
    for (const e of history) {
      if (!isTaskEvent(e)) continue;
      const w = wanted.get(e.uuid!);
      if (!w) continue;
      const before = folded.get(e.uuid!);
      // By the rules the stored row was written with (rows from before merge_meta v2 keep theirs).
      const row = mergeTaskEvent(before, e, w.rules) as TaskRecord;
      folded.set(e.uuid!, row);
      if (e.position === w.newest || (w.earlier.has(e.position) && row.state !== before?.state)) updates.push({ position: e.position, row });
    }
    return { updates, replaced };
  }

  private async workerUpdates(events: readonly StoredEvent[], db: Kysely<DB>): Promise<RowUpdate<WorkerRecord>[]> {
    const last = lastPositionBy(events, changesWorkerRow, (e) => e.hostname);
    const rows = await this.workersByHostnames([...last.keys()], db);
    return updatesOf(last, rows);
  }
}

function lastPositionBy(events: readonly StoredEvent[], touches: (e: StoredEvent) => boolean, key: (e: StoredEvent) => string): Map<string, number> {
  const last = new Map<string, number>();
  for (const e of events) if (touches(e)) last.set(key(e), e.position);
  return last;
}

function updatesOf<R>(last: ReadonlyMap<string, number>, rows: ReadonlyMap<string, R>): RowUpdate<R>[] {
  const updates: RowUpdate<R>[] = [];
  for (const [key, position] of last) {
    const row = rows.get(key);
    if (row !== undefined) updates.push({ position, row });
  }
  return updates.sort((a, b) => a.position - b.position);
}
