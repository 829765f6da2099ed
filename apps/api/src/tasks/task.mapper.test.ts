/** Task rows to GraphQL tasks: derived fields. */
import { describe, expect, it } from 'vitest';
import type { StoredEvent, TaskRecord } from '../../../../libs/state/src';
import { mergeTaskEvents } from '../../../../libs/state/src/projections/task-merge';
import { toTaskModel } from './task.mapper';

const T = 1_795_486_200;
let position = 0;
const ev = (type: string, timestamp: number, fields: Record<string, unknown> = {}): StoredEvent => ({
  position: ++position,
  dedup_key: `k${position}`,
  source: 'rabbitmq',
  type,
  hostname: 'celery@w1',
  uuid: 'u1',
  clock: position,
  timestamp,
  received_at: timestamp + 0.01,
  payload: { type, hostname: 'celery@w1', uuid: 'u1', timestamp, clock: position, ...fields },
});
const row = (events: StoredEvent[]) => mergeTaskEvents(undefined, events) as TaskRecord;

describe('toTaskModel', () => {
  it('queueWait is started − received once the current run has started', () => {
    expect(toTaskModel(row([ev('task-received', T, { name: 'app.add' }), ev('task-started', T + 0.25)])).queueWait).toBe(0.25);
    expect(toTaskModel(row([ev('task-received', T, { name: 'app.add' })])).queueWait).toBeNull();
  });

  it('queueWait is null while a retry received again after the last start has not started', () => {
    const retried = row([
      ev('task-received', T, { name: 'app.add' }),
      ev('task-started', T + 1),
      ev('task-retried', T + 2, { exception: 'Retry' }),
      ev('task-received', T + 2.5, { name: 'app.add', retries: 1 }),
    ]);
    expect([retried.received_at, retried.started_at]).toEqual([T + 2.5, T + 1]);
    expect(toTaskModel(retried).queueWait).toBeNull();
  });
});
