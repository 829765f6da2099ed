/**
 * Subscription arguments: validation (BAD_USER_INPUT naming the argument) and the predicates the
 * tail applies to each event or row. Plain functions: the resolver calls them, tests import them.
 *
 * A list criterion matches any of its values; an empty list is no criterion (as in the queries).
 */
import type { LogEventFilter, TaskRecord, WorkerRecord } from '../../../../libs/state/src';
import { badUserInput } from '../graphql/errors';
import { globToRegExp } from '../graphql/scalars';
import { toEventCriteria, type EventFilterInput } from '../events/event-args';
import { toTaskListFilter } from '../tasks/task-filter';
import type { TaskFilter } from '../tasks/task.model';

/** The subscription fields, as metric labels and in messages. */
export type LiveField = 'events' | 'taskUpdated' | 'workerUpdated' | 'eventBatches' | 'taskUpdateBatches' | 'workerUpdateBatches';

export type { EventFilterInput } from '../events/event-args';

export interface TaskFilterInput {
  states?: string[] | null;
  names?: string[] | null;
  workers?: string[] | null;
  sources?: string[] | null;
  queues?: string[] | null;
  rootId?: string | null;
  parentId?: string | null;
}

export interface WorkerFilterInput {
  status?: string[] | null;
  source?: string[] | null;
  hostname?: string | null;
}

/** TaskFilter criteria a subscription can decide from the task row alone. */
const TASK_CRITERIA = ['states', 'names', 'workers', 'sources', 'queues', 'rootId', 'parentId'] as const;

/** `afterPosition`: absent (live from the current head) or a position >= 0. */
export function validateAfterPosition(afterPosition: number | null | undefined): number | undefined {
  if (afterPosition === null || afterPosition === undefined) return undefined;
  if (!Number.isFinite(afterPosition) || afterPosition < 0) {
    throw badUserInput(`afterPosition must be a log position >= 0 (the last position you received), got ${afterPosition}`, 'afterPosition');
  }
  return afterPosition;
}

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;
const list = (v: readonly string[] | null | undefined): readonly string[] | undefined => (v && v.length > 0 ? v : undefined);

/** EventFilter to column criteria (also pushed down into SQL for catch-up), validated as the query does. */
export function eventCriteria(filter: EventFilterInput | null | undefined): LogEventFilter {
  return toEventCriteria(filter);
}

export function eventMatcher(c: LogEventFilter): (e: { type: string; hostname: string; uuid: string | null; source: string }) => boolean {
  const types = c.types ? new Set(c.types) : null;
  const sources = c.sources ? new Set(c.sources) : null;
  return (e) =>
    (types === null || types.has(e.type)) &&
    (sources === null || sources.has(e.source)) &&
    (c.hostname === undefined || e.hostname === c.hostname) &&
    (c.uuid === undefined || e.uuid === c.uuid);
}

/**
 * TaskFilter for taskUpdated: the row criteria, validated as the tasks query validates them;
 * time ranges, runtime and text search are refused (BAD_USER_INPUT) rather than silently
 * ignored — a subscription decides on each changed row as it arrives, and those belong to the
 * tasks query.
 */
export function taskMatcher(filter: TaskFilterInput | null | undefined): (row: TaskRecord) => boolean {
  const f = filter ?? {};
  for (const [key, value] of Object.entries(f as object)) {
    if (!present(value) || (TASK_CRITERIA as readonly string[]).includes(key)) continue;
    throw badUserInput(
      `filter.${key} is not supported by taskUpdated: a subscription can filter on ${TASK_CRITERIA.join(', ')}; use the tasks query for time ranges, runtime and search`,
      `filter.${key}`,
    );
  }
  const c = toTaskListFilter(f as TaskFilter); // GraphQL gives null for explicit nulls: the tasks query accepts them too
  const set = (v: readonly string[] | undefined) => (v ? new Set(v) : null);
  const states = set(c.states);
  const names = set(c.names);
  const workers = set(c.workers);
  const sources = set(c.sources);
  const queues = set(c.queues);
  const has = (s: Set<string> | null, v: string | null) => s === null || (v !== null && s.has(v));
  return (row) =>
    has(states, row.state) &&
    has(names, row.name) &&
    has(workers, row.worker) &&
    has(sources, row.source) &&
    has(queues, row.queue) &&
    (c.rootId === undefined || row.root_id === c.rootId) &&
    (c.parentId === undefined || (row.parent_id === c.parentId && row.uuid !== c.parentId));
}

/** WorkerFilter: status, source, and a shell-style glob on the hostname (as the workers query). */
export function workerMatcher(filter: WorkerFilterInput | null | undefined): (row: WorkerRecord) => boolean {
  const f = filter ?? {};
  if (present(f.hostname) && f.hostname.trim() === '') {
    throw badUserInput('filter.hostname must be a non-empty glob such as "celery@web-*"', 'filter.hostname');
  }
  const statuses = list(f.status) ? new Set(f.status) : null;
  const sources = list(f.source) ? new Set(f.source) : null;
  const pattern = present(f.hostname) ? globToRegExp(f.hostname) : null;
  return (row) =>
    (statuses === null || statuses.has(row.status)) &&
    (sources === null || (row.source !== null && sources.has(row.source))) &&
    (pattern === null || pattern.test(row.hostname));
}
