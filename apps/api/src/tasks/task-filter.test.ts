/** Unit tests: validation of the `tasks` arguments into a read query. */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { encodeTaskCursor } from './task-cursor';
import { MAX_FILTER_VALUES, MAX_SEARCH_LENGTH, toTaskListQuery, validateFirst, type TasksArgs } from './task-filter';
import type { TaskFilter, TaskOrder } from './task.model';

const LIMITS = { maxPageSize: 500, defaultPageSize: 50 };

function refusal(args: TasksArgs): { message: string; code: unknown; argument: unknown } {
  try {
    toTaskListQuery(args, LIMITS);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    const e = error as GraphQLError;
    return { message: e.message, code: e.extensions.code, argument: e.extensions.argument };
  }
  throw new Error('accepted');
}

const filter = (f: Record<string, unknown>) => ({ filter: f as TaskFilter });

describe('tasks arguments', () => {
  it('defaults to the default page size, newest received first, no filter', () => {
    expect(toTaskListQuery({}, LIMITS)).toEqual({ filter: {}, order: { field: 'received', direction: 'desc' }, first: 50, after: null });
  });

  it('turns a full filter into read criteria (dates to epoch seconds, duplicates dropped, empty lists ignored)', () => {
    const query = toTaskListQuery(
      {
        filter: {
          states: ['FAILURE', 'FAILURE', 'RETRY'],
          names: [],
          workers: ['celery@a'],
          sources: ['redis'],
          queues: ['q'],
          received: { from: new Date('2026-01-01T00:00:00.500Z'), to: new Date('2026-01-02T00:00:00Z') },
          started: { to: new Date('2026-01-03T00:00:00Z') },
          finished: { from: new Date('2026-01-01T00:00:00Z') },
          runtime: { min: 0.5 },
          rootId: 'r',
          parentId: 'p',
          search: '50%_off',
        },
        orderBy: { field: 'runtime', direction: 'asc' } as unknown as TaskOrder,
        first: 10,
      },
      LIMITS,
    );
    expect(query).toEqual({
      filter: {
        states: ['FAILURE', 'RETRY'],
        workers: ['celery@a'],
        sources: ['redis'],
        queues: ['q'],
        received: { from: 1767225600.5, to: 1767312000 },
        started: { from: null, to: 1767398400 },
        finished: { from: 1767225600, to: null },
        runtime: { min: 0.5, max: null },
        rootId: 'r',
        parentId: 'p',
        search: '50%_off',
      },
      order: { field: 'runtime', direction: 'asc' },
      first: 10,
      after: null,
    });
  });

  it('refuses a page size out of bounds, naming the argument and the limit', () => {
    for (const first of [0, -1, 501]) {
      expect(refusal({ first })).toEqual({ message: `first must be between 1 and 500 (the maximum page size), got ${first}`, code: 'BAD_USER_INPUT', argument: 'first' });
    }
    expect(validateFirst(500, LIMITS, 'first')).toBe(500);
    expect(validateFirst(undefined, LIMITS, 'first')).toBe(50);
  });

  it('refuses empty strings in lists, naming the item', () => {
    expect(refusal(filter({ states: ['SUCCESS', ''] }))).toEqual({
      message: 'filter.states[1] is an empty string: list only non-empty values',
      code: 'BAD_USER_INPUT',
      argument: 'filter.states',
    });
    for (const key of ['names', 'workers', 'sources', 'queues']) {
      expect(refusal(filter({ [key]: ['  '] })).message).toBe(`filter.${key}[0] is an empty string: list only non-empty values`);
    }
  });

  it('refuses overlong lists and searches', () => {
    const many = Array.from({ length: MAX_FILTER_VALUES + 1 }, (_, i) => `s${i}`);
    expect(refusal(filter({ states: many })).message).toBe(`filter.states has ${MAX_FILTER_VALUES + 1} values; at most ${MAX_FILTER_VALUES} are accepted`);
    expect(refusal(filter({ search: 'x'.repeat(MAX_SEARCH_LENGTH + 1) })).message).toBe(
      `filter.search is ${MAX_SEARCH_LENGTH + 1} characters long; at most ${MAX_SEARCH_LENGTH} are accepted`,
    );
  });

  it('refuses inverted and empty ranges, naming both ends', () => {
    expect(refusal(filter({ received: { from: new Date('2026-01-02T00:00:00Z'), to: new Date('2026-01-01T00:00:00Z') } }))).toEqual({
      message: 'filter.received.from (2026-01-02T00:00:00.000Z) is after filter.received.to (2026-01-01T00:00:00.000Z): from must not be later than to',
      code: 'BAD_USER_INPUT',
      argument: 'filter.received',
    });
    expect(refusal(filter({ finished: {} })).message).toBe('filter.finished must give from, to or both (from inclusive, to exclusive)');
    expect(refusal(filter({ runtime: { min: 5, max: 1 } })).message).toBe('filter.runtime.min (5) is greater than filter.runtime.max (1): min must not exceed max');
    expect(refusal(filter({ runtime: {} })).message).toBe('filter.runtime must give min, max or both (both inclusive)');
    // An empty interval (from = to) is not inverted: it matches nothing.
    const at = new Date('2026-01-01T00:00:00Z');
    expect(toTaskListQuery(filter({ started: { from: at, to: at } }), LIMITS).filter?.started).toEqual({ from: 1767225600, to: 1767225600 });
  });

  it('refuses empty ids and an empty search', () => {
    expect(refusal(filter({ rootId: '' })).message).toBe('filter.rootId must not be empty: give a task id, or omit it');
    expect(refusal(filter({ parentId: ' ' })).argument).toBe('filter.parentId');
    expect(refusal(filter({ search: '' })).message).toBe('filter.search must not be empty: omit it to match every task');
  });

  it('accepts a cursor of the same order, refuses one of another or garbage', () => {
    const cursor = encodeTaskCursor({ field: 'received', direction: 'desc' }, [1795486235.25, 'u']);
    expect(toTaskListQuery({ after: cursor }, LIMITS).after).toEqual([1795486235.25, 'u']);
    const other = refusal({ after: cursor, orderBy: { field: 'name', direction: 'asc' } as unknown as TaskOrder });
    expect(other.argument).toBe('after');
    expect(other.message).toMatch(/^after is not a valid cursor here: it was issued for orderBy \{field: RECEIVED, direction: DESC\}/);
    expect(refusal({ after: 'bogus' })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  });
});
