/**
 * Validates the arguments of `events` and turns them into a read query: each problem becomes a
 * BAD_USER_INPUT error naming the argument, what was given and what is accepted.
 */
import type { EventPageQuery } from '../../../../libs/state/src';
import { badUserInput } from '../graphql/errors';

/** Most values accepted in one list of the filter. */
export const MAX_EVENT_FILTER_VALUES = 100;

export interface EventsArgs {
  filter?: EventFilterInput | null;
  after?: number | null;
  first?: number | null;
}

export interface PageLimits {
  maxPageSize: number;
  defaultPageSize: number;
}

export function toEventPageQuery(args: EventsArgs, limits: PageLimits): EventPageQuery {
  const after = args.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw badUserInput(`after must be a log position: an integer >= 0 (0 for the start of the log, else the endPosition of the previous page), got ${after}`, 'after');
  }
  const first = args.first ?? limits.defaultPageSize;
  if (!Number.isInteger(first) || first < 1 || first > limits.maxPageSize) {
    throw badUserInput(`first must be between 1 and ${limits.maxPageSize} (the maximum page size), got ${first}`, 'first');
  }
  return { after, limit: first, ...toEventCriteria(args.filter) };
}

/** EventFilter criteria, validated: shared by the `events` query and the `events` subscription. */
export interface EventCriteria {
  types?: string[];
  sources?: string[];
  hostname?: string;
  uuid?: string;
}

/** An EventFilter (of the query or of a subscription) to validated column criteria. */
export function toEventCriteria(filter: EventFilterInput | null | undefined): EventCriteria {
  const f = filter ?? {};
  const criteria: EventCriteria = {};
  const types = list(f.types, 'filter.types');
  const sources = list(f.source, 'filter.source');
  if (types) criteria.types = types;
  if (sources) criteria.sources = sources;
  const hostname = text(f.hostname, 'filter.hostname', 'a node name such as "celery@web-1"');
  const uuid = text(f.uuid, 'filter.uuid', 'a task id');
  if (hostname !== undefined) criteria.hostname = hostname;
  if (uuid !== undefined) criteria.uuid = uuid;
  return criteria;
}

/** The fields of an EventFilter, however it arrives (GraphQL input object or plain object). */
export interface EventFilterInput {
  types?: readonly string[] | null;
  hostname?: string | null;
  uuid?: string | null;
  source?: readonly string[] | null;
}

/** A list criterion: absent or empty is no criterion; values must be non-empty strings. */
function list(values: readonly string[] | null | undefined, argument: string): string[] | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > MAX_EVENT_FILTER_VALUES) {
    throw badUserInput(`${argument} has ${values.length} values; at most ${MAX_EVENT_FILTER_VALUES} are accepted`, argument);
  }
  values.forEach((v, i) => {
    if (v.trim() === '') throw badUserInput(`${argument}[${i}] is an empty string: list only non-empty values`, argument);
  });
  return [...values];
}

function text(value: string | null | undefined, argument: string, example: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.trim() === '') throw badUserInput(`${argument} must not be empty: give ${example} or omit it`, argument);
  return value;
}
