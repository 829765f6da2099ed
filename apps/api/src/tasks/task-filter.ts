/**
 * Validates the arguments of `tasks` and turns them into a read query: each problem becomes a
 * BAD_USER_INPUT error naming the argument, what was given and what is accepted.
 */
import type { TaskListFilter, TaskListQuery, TaskSortOrder, TimeBounds } from '../../../../libs/state/src';
import { badUserInput } from '../graphql/errors';
import { decodeTaskCursor } from './task-cursor';
import type { FloatRange, TaskFilter, TaskOrder, TimeRange } from './task.model';

/** Most values accepted in one list of a filter. */
export const MAX_FILTER_VALUES = 100;
/** Longest text search accepted. */
export const MAX_SEARCH_LENGTH = 200;

export interface PageLimits {
  maxPageSize: number;
  defaultPageSize: number;
}

export interface TasksArgs {
  filter?: TaskFilter | null;
  orderBy?: TaskOrder | null;
  first?: number | null;
  after?: string | null;
}

export const DEFAULT_TASK_ORDER: TaskSortOrder = { field: 'received', direction: 'desc' };

/** The read query for valid arguments; throws BAD_USER_INPUT for the first problem found. */
export function toTaskListQuery(args: TasksArgs, limits: PageLimits): TaskListQuery {
  const first = validateFirst(args.first, limits, 'first');
  const order = toSortOrder(args.orderBy);
  const filter = toTaskListFilter(args.filter ?? {});
  let after = null;
  if (args.after !== null && args.after !== undefined) {
    const decoded = decodeTaskCursor(args.after, order);
    if (!decoded.ok) throw badUserInput(`after is not a valid cursor here: ${decoded.problem}`, 'after');
    after = decoded.key;
  }
  return { filter, order, first, after };
}

/** `first` of a list: the default when omitted, else an integer from 1 to the maximum page size. */
export function validateFirst(first: number | null | undefined, limits: PageLimits, argument: string): number {
  if (first === null || first === undefined) return limits.defaultPageSize;
  if (!Number.isInteger(first) || first < 1 || first > limits.maxPageSize) {
    throw badUserInput(`${argument} must be between 1 and ${limits.maxPageSize} (the maximum page size), got ${first}`, argument);
  }
  return first;
}

export function toSortOrder(orderBy: TaskOrder | null | undefined): TaskSortOrder {
  // The GraphQL enums carry the read layer's values ('received', 'desc', …).
  return {
    field: (orderBy?.field ?? DEFAULT_TASK_ORDER.field) as TaskSortOrder['field'],
    direction: (orderBy?.direction ?? DEFAULT_TASK_ORDER.direction) as TaskSortOrder['direction'],
  };
}

export function toTaskListFilter(filter: TaskFilter): TaskListFilter {
  const out: TaskListFilter = {};
  const states = list(filter.states, 'filter.states');
  if (states) out.states = states;
  const names = list(filter.names, 'filter.names');
  if (names) out.names = names;
  const workers = list(filter.workers, 'filter.workers');
  if (workers) out.workers = workers;
  const sources = list(filter.sources, 'filter.sources');
  if (sources) out.sources = sources;
  const queues = list(filter.queues, 'filter.queues');
  if (queues) out.queues = queues;
  const received = timeRange(filter.received, 'filter.received');
  if (received) out.received = received;
  const started = timeRange(filter.started, 'filter.started');
  if (started) out.started = started;
  const finished = timeRange(filter.finished, 'filter.finished');
  if (finished) out.finished = finished;
  if (filter.runtime !== null && filter.runtime !== undefined) out.runtime = floatRange(filter.runtime, 'filter.runtime');
  const rootId = id(filter.rootId, 'filter.rootId');
  if (rootId !== undefined) out.rootId = rootId;
  const parentId = id(filter.parentId, 'filter.parentId');
  if (parentId !== undefined) out.parentId = parentId;
  if (filter.search !== null && filter.search !== undefined) {
    if (filter.search === '') throw badUserInput('filter.search must not be empty: omit it to match every task', 'filter.search');
    if (filter.search.length > MAX_SEARCH_LENGTH) {
      throw badUserInput(`filter.search is ${filter.search.length} characters long; at most ${MAX_SEARCH_LENGTH} are accepted`, 'filter.search');
    }
    out.search = filter.search;
  }
  return out;
}

function list(values: readonly string[] | null | undefined, argument: string): string[] | undefined {
  if (values === null || values === undefined || values.length === 0) return undefined;
  if (values.length > MAX_FILTER_VALUES) {
    throw badUserInput(`${argument} has ${values.length} values; at most ${MAX_FILTER_VALUES} are accepted`, argument);
  }
  values.forEach((v, i) => {
    if (v.trim() === '') throw badUserInput(`${argument}[${i}] is an empty string: list only non-empty values`, argument);
  });
  return [...new Set(values)];
}

function id(value: string | null | undefined, argument: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.trim() === '') throw badUserInput(`${argument} must not be empty: give a task id, or omit it`, argument);
  return value;
}

function epochSeconds(date: Date, argument: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw badUserInput(`${argument} is not a valid date-time`, argument);
  return ms / 1000;
}

function timeRange(range: TimeRange | null | undefined, argument: string): TimeBounds | undefined {
  if (range === null || range === undefined) return undefined;
  const hasFrom = range.from !== null && range.from !== undefined;
  const hasTo = range.to !== null && range.to !== undefined;
  if (!hasFrom && !hasTo) throw badUserInput(`${argument} must give from, to or both (from inclusive, to exclusive)`, argument);
  const from = hasFrom ? epochSeconds(range.from!, `${argument}.from`) : null;
  const to = hasTo ? epochSeconds(range.to!, `${argument}.to`) : null;
  if (from !== null && to !== null && from > to) {
    throw badUserInput(
      `${argument}.from (${range.from!.toISOString()}) is after ${argument}.to (${range.to!.toISOString()}): from must not be later than to`,
      argument,
    );
  }
  return { from, to };
}

function floatRange(range: FloatRange, argument: string): { min: number | null; max: number | null } {
  const min = range.min ?? null;
  const max = range.max ?? null;
  if (min === null && max === null) throw badUserInput(`${argument} must give min, max or both (both inclusive)`, argument);
  if (min !== null && max !== null && min > max) {
    throw badUserInput(`${argument}.min (${min}) is greater than ${argument}.max (${max}): min must not exceed max`, argument);
  }
  return { min, max };
}
