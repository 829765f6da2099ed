/**
 * Medium tests: the event store against real databases, SQLite and Postgres, same suite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStore } from './event-store';
import type { NewEvent, NewRejection } from './new-event';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/test-databases';
import { event, heartbeat, successfulTask, T0 } from '../../../test/support/event-factory';
import { damageProjections } from '../../../test/support/damage-projections';

function rejection(detail: string): NewRejection {
  return {
    source: 'rabbitmq', reason: 'not-json', detail, routing_key: 'task.multi', content_type: 'application/json',
    raw: Buffer.from('{not json'), raw_size: 9, received_at: T0,
  };
}

describe.each(DIALECTS)('EventStore on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;

  beforeEach(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url);
  });

  afterEach(async () => {
    await store.close();
    await db.drop();
  });

  it('appends events with increasing positions and projects a task and its worker', async () => {
    const events = successfulTask('task-1', T0);
    const result = await store.append({ events, rejected: [] });
    expect(result.stored.map((e) => e.type)).toEqual(['task-sent', 'task-received', 'task-started', 'task-succeeded']);
    const positions = result.stored.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(positions).size).toBe(4);
    expect(result.duplicates).toBe(0);

    const task = await store.task('task-1');
    expect(task).toMatchObject({
      uuid: 'task-1', name: 'app.add', state: 'SUCCESS', args: '(2, 3)', kwargs: '{}', result: '5', runtime: 0.0123,
      worker: 'celery@w1', client: 'gen1@client', queue: 'celery', routing_key: 'celery', root_id: 'task-1', retries: 0,
      sent_at: T0, received_at: T0 + 0.01, started_at: T0 + 0.02, succeeded_at: T0 + 0.04, event_count: 4,
      first_position: positions[0], last_position: positions[3], source: 'rabbitmq',
    });
    const worker = await store.worker('celery@w1');
    expect(worker).toMatchObject({ hostname: 'celery@w1', status: 'online', source: 'rabbitmq' });
    expect(JSON.parse(worker!.task_counts)).toEqual({ SUCCESS: 1 });
    // task-sent comes from the client, which is no worker.
    expect(await store.worker('gen1@client')).toBeUndefined();
    expect(await store.projectionPosition()).toBe(positions[3]);
  });

  it('stores and projects an event delivered twice only once (across and within batches)', async () => {
    const events = successfulTask('task-2', T0);
    await store.append({ events: events.slice(0, 2), rejected: [] });
    const again = await store.append({ events: [...events, ...events], rejected: [] });
    expect(again.stored.map((e) => e.type)).toEqual(['task-started', 'task-succeeded']);
    expect(again.duplicates).toBe(6);
    const replay = await store.append({ events, rejected: [] });
    expect(replay.stored).toEqual([]);
    expect(replay.duplicates).toBe(4);
    expect(await store.readEvents(0, 100)).toHaveLength(4);
    const task = await store.task('task-2');
    expect(task?.event_count).toBe(4);
    expect(JSON.parse((await store.worker('celery@w1'))!.task_counts)).toEqual({ SUCCESS: 1 });
  });

  it('keeps rejected messages aside with reason and bytes, once each', async () => {
    const r = rejection('Unexpected token n in JSON at position 1');
    const first = await store.append({ events: [], rejected: [r, rejection('another'), r] });
    expect(first.rejectedNew).toEqual([0, 1]);
    const second = await store.append({ events: [], rejected: [rejection('a third'), r] });
    expect(second.rejectedNew).toEqual([0]);
    const rows = await store.database.db.selectFrom('rejected_messages').selectAll().orderBy('id').execute();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ reason: 'not-json', detail: r.detail, routing_key: 'task.multi', raw_size: 9, source: 'rabbitmq' });
    expect(Buffer.from(rows[0]!.raw).toString()).toBe('{not json');
  });

  it('stores NUL (U+0000) in task and worker text: U+FFFD in the rows (Postgres text refuses NUL), the original in the payload; nothing else of the batch is lost', async () => {
    const traceback = 'Traceback (most recent call last):\nValueError: a\u0000b\n';
    const result = await store.append({
      events: [
        heartbeat('celery@w1', T0, 1),
        event({ type: 'worker-online', hostname: 'celery@w2', timestamp: T0, clock: 2, sw_sys: 'Linux\u0000' }),
        event({ type: 'task-failed', hostname: 'celery@w1', uuid: 'nul-1', timestamp: T0 + 1, clock: 3, exception: 'ValueError(a\u0000b)', traceback }),
      ],
      rejected: [{ ...rejection('Unexpected token \u0000 in JSON'), routing_key: 'task\u0000multi', content_type: 'application/json\u0000' }],
    });
    expect(result.stored).toHaveLength(3);
    expect(result.rejectedNew).toEqual([0]);
    const task = await store.task('nul-1');
    expect(task).toMatchObject({ state: 'FAILURE', exception: 'ValueError(a\uFFFDb)', traceback: traceback.replace('\u0000', '\uFFFD') });
    expect((await store.worker('celery@w2'))?.sw_sys).toBe('Linux\uFFFD');
    const [stored] = (await store.readEvents(0, 10)).filter((e) => e.uuid === 'nul-1');
    expect(stored!.payload.traceback).toBe(traceback);
    const [rejected] = await store.database.db.selectFrom('rejected_messages').selectAll().execute();
    expect(rejected).toMatchObject({ detail: 'Unexpected token \uFFFD in JSON', routing_key: 'task\uFFFDmulti', content_type: 'application/json\uFFFD' });
  });

  it('moves task counts between workers and states as tasks progress', async () => {
    const [sent, received, started, succeeded] = successfulTask('task-3', T0, 'celery@w2');
    await store.append({ events: [sent!, received!], rejected: [] });
    expect(JSON.parse((await store.worker('celery@w2'))!.task_counts)).toEqual({ RECEIVED: 1 });
    await store.append({ events: [started!], rejected: [] });
    expect(JSON.parse((await store.worker('celery@w2'))!.task_counts)).toEqual({ STARTED: 1 });
    await store.append({ events: [succeeded!], rejected: [] });
    expect(JSON.parse((await store.worker('celery@w2'))!.task_counts)).toEqual({ SUCCESS: 1 });
  });

  it('tracks worker heartbeats, expiry and offline events', async () => {
    await store.append({ events: [heartbeat('celery@w3', T0, 1), heartbeat('celery@w3', T0 + 2, 2, { active: 3 })], rejected: [] });
    let w = await store.worker('celery@w3');
    expect(w).toMatchObject({ status: 'online', active: 3, processed: 2, freq: 2, last_heartbeat_at: T0 + 2, sw_ver: '5.2.6' });
    expect(w!.heartbeat_expires_at).toBeCloseTo(T0 + 2 + 0.01 + 4, 6);
    expect(await store.expiredWorkers(T0 + 5)).toEqual([]);
    expect((await store.expiredWorkers(T0 + 7)).map((x) => x.hostname)).toEqual(['celery@w3']);

    await store.append({ events: [event({ type: 'worker-offline', hostname: 'celery@w3', timestamp: T0 + 3, clock: 3, freq: 2.0 })], rejected: [] });
    w = await store.worker('celery@w3');
    expect(w).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', offline_since: T0 + 3 });
    expect(await store.expiredWorkers(T0 + 100)).toEqual([]);
  });

  it('rebuilds projections from the log into tables identical to the live ones', async () => {
    const events: NewEvent[] = [];
    for (let i = 0; i < 40; i += 1) events.push(...successfulTask(`t-${i}`, T0 + i, `celery@w${i % 3}`));
    for (let i = 0; i < 10; i += 1) events.push(heartbeat(`celery@w${i % 3}`, T0 + i * 2, 100 + i));
    events.push(event({ type: 'task-failed', hostname: 'celery@w1', uuid: 't-7', exception: "ValueError('x')", traceback: 'Traceback…', timestamp: T0 + 7.5, clock: 9 }));
    events.push(event({ type: 'worker-offline', hostname: 'celery@w2', timestamp: T0 + 60, reason: 'heartbeat-timeout' }, 'collector:liveness'));
    events.push(event({ type: 'collector-gap', hostname: 'celery-monitor@x', timestamp: T0 + 61, gap_from: T0, gap_to: T0 + 61 }, 'collector:gap'));
    // Shuffle deterministically and append in uneven batches, as a live stream would.
    const shuffled = events.map((e, i) => ({ e, k: (i * 7919) % events.length })).sort((a, b) => a.k - b.k).map((x) => x.e);
    for (let i = 0; i < shuffled.length; i += 17) await store.append({ events: shuffled.slice(i, i + 17), rejected: [] });

    const liveTasks = await store.allTasks();
    const liveWorkers = await store.allWorkers();
    expect(liveTasks).toHaveLength(40);
    expect(liveWorkers.map((w) => w.hostname)).toEqual(['celery@w0', 'celery@w1', 'celery@w2']);

    await damageProjections(store.database.db);
    const progress: number[] = [];
    const result = await store.rebuildProjections((p) => progress.push(p.done), 25);
    expect(result).toEqual({ done: events.length, total: events.length });
    expect(progress.at(-1)).toBe(events.length);
    expect(await store.allTasks()).toEqual(liveTasks);
    expect(await store.allWorkers()).toEqual(liveWorkers);
  });

  it('records per-source checkpoints of the newest received event', async () => {
    await store.append({ events: [heartbeat('celery@r1', T0, 1)].map((e) => ({ ...e, source: 'redis', received_at: T0 + 5 })), rejected: [] });
    await store.append({ events: [heartbeat('celery@r1', T0 - 10, 0)].map((e) => ({ ...e, source: 'redis', received_at: T0 + 1 })), rejected: [] });
    expect(await store.sourceCheckpoint('redis')).toMatchObject({ source: 'redis', last_received_at: T0 + 5 });
  });
});
