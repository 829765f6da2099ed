import { describe, expect, it } from 'vitest';
import type { TaskRecord, WorkerRecord } from '../../../../libs/state/src';
import { eventCriteria, eventMatcher, taskMatcher, validateAfterPosition, workerMatcher } from './live-filters';

const code = (fn: () => unknown) => {
  try {
    fn();
    return null;
  } catch (e) {
    return (e as { extensions: { code: string; argument?: string } }).extensions;
  }
};

const task = (over: Partial<TaskRecord>): TaskRecord =>
  ({ uuid: 'u', name: 'app.add', state: 'SUCCESS', worker: 'celery@w1', source: 'rabbitmq', queue: 'celery', root_id: 'r', parent_id: null, ...over }) as TaskRecord;
const worker = (over: Partial<WorkerRecord>): WorkerRecord => ({ hostname: 'celery@web-1', status: 'online', source: 'rabbitmq', ...over }) as WorkerRecord;

describe('subscription arguments', () => {
  it('afterPosition: absent, or a position >= 0', () => {
    expect(validateAfterPosition(undefined)).toBeUndefined();
    expect(validateAfterPosition(null)).toBeUndefined();
    expect(validateAfterPosition(0)).toBe(0);
    expect(validateAfterPosition(42)).toBe(42);
    expect(code(() => validateAfterPosition(-1))).toEqual({ code: 'BAD_USER_INPUT', argument: 'afterPosition' });
    expect(code(() => validateAfterPosition(Number.NaN))).toEqual({ code: 'BAD_USER_INPUT', argument: 'afterPosition' });
  });

  it('EventFilter: lists match any value, empty lists and nulls are no criterion, empty strings are refused', () => {
    const c = eventCriteria({ types: ['task-failed', 'task-retried'], source: [], hostname: 'celery@w1', uuid: null });
    expect(c).toEqual({ types: ['task-failed', 'task-retried'], hostname: 'celery@w1' });
    const m = eventMatcher(c);
    expect(m({ type: 'task-failed', hostname: 'celery@w1', uuid: 'x', source: 's' })).toBe(true);
    expect(m({ type: 'task-succeeded', hostname: 'celery@w1', uuid: 'x', source: 's' })).toBe(false);
    expect(m({ type: 'task-failed', hostname: 'celery@w2', uuid: 'x', source: 's' })).toBe(false);
    expect(eventMatcher(eventCriteria({ uuid: 'x', source: ['redis'] }))({ type: 't', hostname: 'h', uuid: 'x', source: 'redis' })).toBe(true);
    expect(code(() => eventCriteria({ hostname: '' }))).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.hostname' });
    expect(code(() => eventCriteria({ uuid: ' ' }))).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.uuid' });
  });

  it('TaskFilter: row criteria match; time ranges, runtime and search are refused, not ignored', () => {
    expect(taskMatcher(null)(task({}))).toBe(true);
    const m = taskMatcher({ states: ['SUCCESS', 'FAILURE'], names: ['app.add'], workers: ['celery@w1'], sources: ['rabbitmq'], queues: ['celery'], rootId: 'r' });
    expect(m(task({}))).toBe(true);
    expect(m(task({ state: 'STARTED' }))).toBe(false);
    expect(m(task({ name: null }))).toBe(false);
    expect(m(task({ worker: 'celery@w2' }))).toBe(false);
    expect(m(task({ queue: 'other' }))).toBe(false);
    expect(m(task({ root_id: 'q' }))).toBe(false);
    expect(taskMatcher({ parentId: 'p' })(task({ parent_id: 'p' }))).toBe(true);
    expect(taskMatcher({ parentId: 'p' })(task({ uuid: 'p', parent_id: 'p' }))).toBe(false); // a retry naming itself as parent
    expect(taskMatcher({ states: [] })(task({ state: 'X' }))).toBe(true);
    for (const key of ['search', 'received', 'started', 'finished', 'runtime']) {
      expect(code(() => taskMatcher({ [key]: key === 'search' ? 'boom' : { from: new Date() } } as never))).toEqual({ code: 'BAD_USER_INPUT', argument: `filter.${key}` });
    }
    expect(taskMatcher({ search: null } as never)(task({}))).toBe(true);
    expect(code(() => taskMatcher({ rootId: '' }))).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.rootId' });
    // The lists are validated as the tasks query validates them.
    expect(code(() => taskMatcher({ states: ['SUCCESS', ' '] }))).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.states' });
    expect(code(() => taskMatcher({ names: Array.from({ length: 101 }, (_, i) => `n${i}`) }))).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.names' });
  });

  it('WorkerFilter: status, source and a hostname glob', () => {
    const m = workerMatcher({ hostname: 'celery@web-*', status: ['online'], source: ['rabbitmq'] });
    expect(m(worker({}))).toBe(true);
    expect(m(worker({ hostname: 'celery@db-1' }))).toBe(false);
    expect(m(worker({ status: 'offline' }))).toBe(false);
    expect(m(worker({ source: null }))).toBe(false);
    expect(workerMatcher({ hostname: 'celery@web-?' })(worker({ hostname: 'celery@web-12' }))).toBe(false);
    // `?` is one character, even outside the BMP; brackets are literal.
    expect(workerMatcher({ hostname: 'celery@?' })(worker({ hostname: 'celery@\u{1F680}' }))).toBe(true);
    expect(workerMatcher({ hostname: 'celery@[ab]' })(worker({ hostname: 'celery@a' }))).toBe(false);
    expect(workerMatcher({ hostname: 'celery@[ab]' })(worker({ hostname: 'celery@[ab]' }))).toBe(true);
    expect(code(() => workerMatcher({ hostname: ' ' }))).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.hostname' });
  });
});
