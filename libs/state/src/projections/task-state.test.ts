import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BUILTIN_STATES,
  CUSTOM_PRECEDENCE,
  READY_STATES,
  isReadyState,
  precedence,
  resolveTaskState,
  stateForEventType,
  timestampColumnForEventType,
} from './task-state';

describe('stateForEventType', () => {
  it.each([
    ['task-sent', 'PENDING'],
    ['task-received', 'RECEIVED'],
    ['task-started', 'STARTED'],
    ['task-succeeded', 'SUCCESS'],
    ['task-failed', 'FAILURE'],
    ['task-retried', 'RETRY'],
    ['task-revoked', 'REVOKED'],
    ['task-rejected', 'REJECTED'],
    ['task-cancelled', 'CANCELLED'],
    ['task-progress', 'PROGRESS'],
    ['task-my-custom-thing', 'MY-CUSTOM-THING'],
    ['task-Progress', 'PROGRESS'],
  ])('%s -> %s', (type, state) => {
    expect(stateForEventType(type)).toBe(state);
  });

  it('maps the built-in subjects to their <x>_at column only', () => {
    expect(timestampColumnForEventType('task-sent')).toBe('sent_at');
    expect(timestampColumnForEventType('task-succeeded')).toBe('succeeded_at');
    expect(timestampColumnForEventType('task-rejected')).toBe('rejected_at');
    expect(timestampColumnForEventType('task-progress')).toBeUndefined();
  });
});

describe('precedence', () => {
  it('follows Celery PRECEDENCE (lower index wins), custom states between FAILURE and REVOKED', () => {
    const order = ['SUCCESS', 'FAILURE', 'PROGRESS', 'REVOKED', 'STARTED', 'RECEIVED', 'REJECTED', 'RETRY', 'PENDING'];
    expect(order.map(precedence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(precedence('CANCELLED')).toBe(CUSTOM_PRECEDENCE);
    expect(precedence('')).toBe(CUSTOM_PRECEDENCE);
  });

  it('knows the ready states', () => {
    expect([...READY_STATES].sort()).toEqual(['FAILURE', 'REVOKED', 'SUCCESS']);
    expect(isReadyState('SUCCESS')).toBe(true);
    expect(isReadyState('STARTED')).toBe(false);
    expect(isReadyState('PROGRESS')).toBe(false);
    expect(BUILTIN_STATES.size).toBe(9); // Celery's eight and the collector's LOST
  });
});

describe('resolveTaskState', () => {
  const r = (at: Record<string, number>): string | null => resolveTaskState(new Map(Object.entries(at)));

  it('is null with no state', () => {
    expect(r({})).toBeNull();
  });

  it('lets SUCCESS, FAILURE, custom, REVOKED win whatever their timestamps', () => {
    expect(r({ SUCCESS: 1, FAILURE: 2, REVOKED: 3, STARTED: 9 })).toBe('SUCCESS');
    expect(r({ FAILURE: 2, PROGRESS: 5, REVOKED: 3, RETRY: 9 })).toBe('FAILURE');
    expect(r({ PROGRESS: 10, REVOKED: 3, RETRY: 9 })).toBe('PROGRESS');
    expect(r({ REVOKED: 1, STARTED: 3, RETRY: 9 })).toBe('REVOKED');
    expect(r({ SUCCESS: 1, RETRY: 9 })).toBe('SUCCESS');
  });

  it('drops a custom state that a RETRY at least as new supersedes (Celery: RETRY bypasses precedence)', () => {
    expect(r({ STARTED: 2, PROGRESS: 3, RETRY: 4 })).toBe('RETRY');
    expect(r({ PROGRESS: 4, RETRY: 4 })).toBe('RETRY');
    expect(r({ PROGRESS: 3, RETRY: 4, RECEIVED: 5 })).toBe('RECEIVED');
    expect(r({ PROGRESS: 3, RETRY: 4, REVOKED: 1 })).toBe('REVOKED');
    expect(r({ PROGRESS: 6, CHECKPOINT: 3, RETRY: 4, STARTED: 5 })).toBe('PROGRESS');
  });

  it('picks the newest custom state, ties by greatest name', () => {
    expect(r({ PROGRESS: 5, CHECKPOINT: 4 })).toBe('PROGRESS');
    expect(r({ PROGRESS: 5, CHECKPOINT: 6 })).toBe('CHECKPOINT');
    expect(r({ PROGRESS: 5, CHECKPOINT: 5 })).toBe('PROGRESS');
    expect(r({ AAA: 5, ZZZ: 5, MMM: 5 })).toBe('ZZZ');
  });

  it('without RETRY takes the best precedence among PENDING, RECEIVED, STARTED, REJECTED', () => {
    expect(r({ PENDING: 5, RECEIVED: 1 })).toBe('RECEIVED');
    expect(r({ RECEIVED: 1, STARTED: 0 })).toBe('STARTED');
    expect(r({ RECEIVED: 1, REJECTED: 2 })).toBe('RECEIVED');
    expect(r({ REJECTED: 2, PENDING: 3 })).toBe('REJECTED');
    expect(r({ PENDING: 3 })).toBe('PENDING');
  });

  it('with RETRY only states strictly newer than it compete', () => {
    expect(r({ RECEIVED: 1, STARTED: 2, RETRY: 3 })).toBe('RETRY');
    expect(r({ RECEIVED: 4, STARTED: 2, RETRY: 3 })).toBe('RECEIVED');
    expect(r({ RECEIVED: 4, STARTED: 5, RETRY: 3 })).toBe('STARTED');
    expect(r({ RECEIVED: 3, RETRY: 3 })).toBe('RETRY');
    expect(r({ PENDING: 4, RETRY: 3 })).toBe('PENDING');
    expect(r({ RETRY: 3 })).toBe('RETRY');
  });

  it('LOST: after SUCCESS and FAILURE, unless REVOKED or outlived by a newer event of the worker side', () => {
    expect(r({ STARTED: 2, LOST: 5 })).toBe('LOST');
    expect(r({ RECEIVED: 1, STARTED: 2, LOST: 2 })).toBe('LOST'); // stamped at the start itself: not outlived
    expect(r({ STARTED: 2, LOST: 5, SUCCESS: 3 })).toBe('SUCCESS'); // the worker reported after all
    expect(r({ STARTED: 2, LOST: 5, FAILURE: 9 })).toBe('FAILURE');
    expect(r({ STARTED: 2, LOST: 5, REVOKED: 1 })).toBe('REVOKED');
    expect(r({ STARTED: 2, LOST: 5, PROGRESS: 4 })).toBe('LOST'); // a custom state before the loss
    expect(r({ STARTED: 2, LOST: 5, PROGRESS: 6 })).toBe('PROGRESS');
    // Redelivered (acks_late) and received or started again on another worker.
    expect(r({ STARTED: 2, LOST: 5, RECEIVED: 6 })).toBe('RECEIVED');
    expect(r({ STARTED: 7, LOST: 5, RECEIVED: 6 })).toBe('STARTED');
    expect(r({ STARTED: 2, LOST: 5, REJECTED: 6 })).toBe('REJECTED');
    expect(r({ STARTED: 2, LOST: 5, RETRY: 6 })).toBe('RETRY');
    expect(r({ STARTED: 2, LOST: 5, RETRY: 6, RECEIVED: 7 })).toBe('RECEIVED');
    // A task-sent says nothing of the worker: a client clock ahead does not undo the verdict.
    expect(r({ PENDING: 9, STARTED: 2, LOST: 5 })).toBe('LOST');
  });

  it('is a function of the map only (insertion order irrelevant)', () => {
    const states = ['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED', 'REJECTED', 'LOST', 'PROGRESS', 'CANCELLED'];
    fc.assert(
      fc.property(
        fc
          .uniqueArray(fc.tuple(fc.constantFrom(...states), fc.integer({ min: 0, max: 5 })), {
            selector: (t) => t[0],
            maxLength: 10,
          })
          .chain((entries) =>
            fc.tuple(
              fc.constant(entries),
              fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }),
            ),
          ),
        ([entries, permuted]) => {
          expect(resolveTaskState(new Map(permuted))).toBe(resolveTaskState(new Map(entries)));
        },
      ),
    );
  });
});
