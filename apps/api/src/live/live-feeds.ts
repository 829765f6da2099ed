/**
 * The three kinds of live subscription as LiveFeeds: what each takes from a tail page, how each
 * catches up from the log, and the GraphQL values it yields.
 *
 * taskUpdated / workerUpdated yield per row and page the row after the newest of the page's events
 * touching it (read in the same snapshot as the events); taskUpdated also yields, before it, the
 * row after each earlier event of the page that changed the task's state (LiveQueries.batch). Task
 * rows that already hold events after the page (a page cut at its limit, or catching up from
 * afterPosition) are folded from the log up to the page instead, so each is the row as it stood
 * after its event. Worker rows are not (a worker's history is its every heartbeat): while catching
 * up, or on a cut page, a worker row may already reflect later events.
 */
import type { LiveQueries, RowUpdate, StoredEvent, TaskRecord, WorkerRecord } from '../../../../libs/state/src';
import type { EventModel } from '../events/event.model';
import { toEventModel } from '../events/event.mapper';
import type { TaskModel } from '../tasks/task.model';
import { toTaskModel } from '../tasks/task.mapper';
import type { WorkerModel } from '../workers/worker.model';
import { toWorkerModel } from '../workers/worker.mapper';
import { eventMatcher, type EventFilterInput, eventCriteria, taskMatcher, type TaskFilterInput, workerMatcher, type WorkerFilterInput } from './live-filters';
import type { LiveFeed } from './live-subscription';

export interface TaskUpdateValue {
  position: number;
  task: TaskModel;
}

export interface WorkerUpdateValue {
  position: number;
  worker: WorkerModel;
}

// Pages are shared by every subscriber: map each event or row once, whoever asks first.
const eventModels = new WeakMap<StoredEvent, EventModel>();
const taskUpdates = new WeakMap<RowUpdate<TaskRecord>, TaskUpdateValue>();
const workerUpdates = new WeakMap<RowUpdate<WorkerRecord>, WorkerUpdateValue>();

function memo<K extends object, V>(cache: WeakMap<K, V>, key: K, make: (k: K) => V): V {
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = make(key)));
  return value;
}

const eventModel = (e: StoredEvent) => memo(eventModels, e, toEventModel);
const taskUpdate = (u: RowUpdate<TaskRecord>) => memo(taskUpdates, u, (x) => ({ position: x.position, task: toTaskModel(x.row) }));
const workerUpdate = (u: RowUpdate<WorkerRecord>) => memo(workerUpdates, u, (x) => ({ position: x.position, worker: toWorkerModel(x.row) }));

const scanned = (events: readonly StoredEvent[], limit: number, upTo: number) => (events.length < limit ? upTo : events[events.length - 1]!.position);

/** Validates the filter (throws BAD_USER_INPUT) and returns the feed. */
export function eventsFeed(queries: LiveQueries, filter: EventFilterInput | null | undefined, field: 'events' | 'eventBatches' = 'events'): LiveFeed<EventModel> {
  const criteria = eventCriteria(filter);
  const matches = eventMatcher(criteria);
  return {
    field,
    needs: { tasks: false, workers: false },
    select: (page, after) => {
      const out: EventModel[] = [];
      for (const e of page.events) if (e.position > after && matches(e)) out.push(eventModel(e));
      return out;
    },
    catchUp: async (after, upTo, limit) => {
      // The filter is applied in SQL: a selective subscription skips history without reading it.
      const events = await queries.events(after, limit, { upTo, filter: criteria });
      return { items: events.map(eventModel), scannedTo: scanned(events, limit, upTo) };
    },
    positionOf: (item) => item.position,
  };
}

export function taskUpdatesFeed(
  queries: LiveQueries,
  filter: TaskFilterInput | null | undefined,
  field: 'taskUpdated' | 'taskUpdateBatches' = 'taskUpdated',
): LiveFeed<TaskUpdateValue> {
  const matches = taskMatcher(filter);
  return {
    field,
    needs: { tasks: true, workers: false },
    select: (page, after) => {
      const out: TaskUpdateValue[] = [];
      for (const u of page.tasks) if (u.position > after && matches(u.row)) out.push(taskUpdate(u));
      return out;
    },
    catchUp: async (after, upTo, limit) => {
      const batch = await queries.batch(after, limit, { tasks: true, workers: false }, { upTo });
      return { items: batch.taskUpdates.filter((u) => matches(u.row)).map(taskUpdate), scannedTo: scanned(batch.events, limit, upTo) };
    },
    positionOf: (item) => item.position,
  };
}

export function workerUpdatesFeed(
  queries: LiveQueries,
  filter: WorkerFilterInput | null | undefined,
  field: 'workerUpdated' | 'workerUpdateBatches' = 'workerUpdated',
): LiveFeed<WorkerUpdateValue> {
  const matches = workerMatcher(filter);
  return {
    field,
    needs: { tasks: false, workers: true },
    select: (page, after) => {
      const out: WorkerUpdateValue[] = [];
      for (const u of page.workers) if (u.position > after && matches(u.row)) out.push(workerUpdate(u));
      return out;
    },
    catchUp: async (after, upTo, limit) => {
      const batch = await queries.batch(after, limit, { tasks: false, workers: true }, { upTo });
      return { items: batch.workerUpdates.filter((u) => matches(u.row)).map(workerUpdate), scannedTo: scanned(batch.events, limit, upTo) };
    },
    positionOf: (item) => item.position,
  };
}
