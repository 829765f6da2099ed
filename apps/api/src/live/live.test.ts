/**
 * The log tail, its fan-out, the per-subscriber buffer and resume, on a real SQLite database:
 * the test appends through EventStore (as the collector does) on one connection and the tail
 * reads on another, as the API process does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStore, LiveQueries, newEvent, openDatabase, type Database, type NewEvent } from '../../../../libs/state/src';
import { event, heartbeat, successfulTask, T0 } from '../../../../test/support/event-factory';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-databases';
import { ApiMetrics } from '../api-metrics';
import { eventsFeed, taskUpdatesFeed, workerUpdatesFeed } from './live-feeds';
import { batchesOf } from './live-batches';
import { LiveHub } from './live-hub';
import type { LiveSubscription } from './live-subscription';
import { LogTailer } from './log-tailer';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pulls `n` items, failing after `timeoutMs`. */
async function take<T>(sub: LiveSubscription<T>, n: number, timeoutMs = 10_000): Promise<T[]> {
  const out: T[] = [];
  const deadline = sleep(timeoutMs).then(() => 'timeout' as const);
  while (out.length < n) {
    const r = await Promise.race([sub.next(), deadline]);
    if (r === 'timeout') throw new Error(`timed out after ${out.length} of ${n} items`);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Whether another item arrives within `ms` (the pending next() is left to resolve later). */
async function nothingWithin<T>(sub: LiveSubscription<T>, ms: number): Promise<boolean> {
  const r = await Promise.race([sub.next(), sleep(ms).then(() => 'quiet' as const)]);
  return r === 'quiet';
}

describe('live subscriptions over the log tail (SQLite)', () => {
  let testDb: TestDatabase;
  let store: EventStore;
  let reader: Database;
  let queries: LiveQueries;
  let statements: string[];
  let tailer: LogTailer;
  let metrics: ApiMetrics;
  let hub: LiveHub;
  let clock = 0;
  let t = T0;

  const append = async (events: NewEvent[]) => (await store.append({ events, rejected: [] })).stored.map((e) => e.position);
  const progress = (source = 'rabbitmq', hostname = 'celery@w1') => ((t += 0.001), event({ type: 'task-progress', hostname, uuid: 'p', timestamp: t, clock: ++clock }, source));
  const progressBatch = (n: number, source?: string) => Array.from({ length: n }, () => progress(source));
  const makeHub = (capacity: number, intervalMs = 5) => {
    tailer = new LogTailer(queries, { intervalMs, onPosition: (p) => metrics.tailPosition.set(p) });
    hub = new LiveHub(tailer, { capacity, metrics, catchUpPageSize: 50 });
  };

  beforeEach(async () => {
    testDb = createTestDatabase('sqlite');
    store = await EventStore.open(testDb.url);
    statements = [];
    reader = openDatabase(testDb.url, { onQuery: (_ms, sql) => statements.push(sql) });
    queries = new LiveQueries(reader);
    metrics = new ApiMetrics();
    makeHub(1000);
  });

  afterEach(async () => {
    await tailer.stop();
    await reader.close();
    await store.close();
    await testDb.drop();
  });

  it('fans every new event out to every live subscriber, in order, filters applied', async () => {
    await append(progressBatch(5)); // history: not delivered to live-only subscribers
    await tailer.start();
    const a = hub.subscribe(eventsFeed(queries, null));
    const b = hub.subscribe(eventsFeed(queries, {}));
    const failed = hub.subscribe(eventsFeed(queries, { types: ['task-failed'], source: ['redis'] }));
    const p1 = await append(progressBatch(30));
    const [f1] = await append([event({ type: 'task-failed', hostname: 'celery@w2', uuid: 'x', exception: 'E', timestamp: t, clock: ++clock }, 'redis')]);
    const p2 = await append(progressBatch(30, 'redis'));
    const all = [...p1, f1!, ...p2];
    expect((await take(a, all.length)).map((e) => e.position)).toEqual(all);
    expect((await take(b, all.length)).map((e) => e.position)).toEqual(all);
    const [only] = await take(failed, 1);
    expect(only).toMatchObject({ position: f1, type: 'task-failed', source: 'redis', hostname: 'celery@w2', uuid: 'x' });
    expect(await nothingWithin(failed, 50)).toBe(true);
    expect(tailer.position()).toBe(p2.at(-1));
    expect((await metrics.tailPosition.get()).values[0]!.value).toBe(p2.at(-1));
    expect((await metrics.openSubscriptions.get()).values.find((v) => v.labels.field === 'events')!.value).toBe(3);
    expect(tailer.lagSeconds()).toBe(0);
  });

  it("catches up a uuid filter through the task's row and the partial index, then goes on live", async () => {
    const note = () => ((t += 0.001), event({ type: 'app-note', hostname: 'celery@w1', uuid: 'p', timestamp: t, clock: ++clock }));
    const other = () => ((t += 0.001), event({ type: 'task-failed', hostname: 'celery@w2', uuid: 'other', exception: 'E', timestamp: t, clock: ++clock }));
    const history = await append([...progressBatch(3), note(), other(), ...progressBatch(2)]);
    await tailer.start();
    const fromStart = hub.subscribe(eventsFeed(queries, { uuid: 'p' }), 0);
    const fromMiddle = hub.subscribe(eventsFeed(queries, { uuid: 'p', types: ['app-note', 'task-progress'] }), history[2]);
    const live = await append([other(), note(), ...progressBatch(2)]);
    const mine = [...history.slice(0, 4), ...history.slice(5), ...live.slice(1)];
    const got = await take(fromStart, mine.length);
    expect(got.map((e) => e.position)).toEqual(mine);
    expect(got.map((e) => e.type)).toEqual(['task-progress', 'task-progress', 'task-progress', 'app-note', 'task-progress', 'task-progress', 'app-note', 'task-progress', 'task-progress']);
    expect((await take(fromMiddle, mine.length - 3)).map((e) => e.position)).toEqual(mine.slice(3));
    expect(await nothingWithin(fromStart, 50)).toBe(true);
  });

  it('resumes from any afterPosition without gap or duplicate while the log keeps growing', async () => {
    await append(progressBatch(40));
    await tailer.start();
    const total = 1200;
    let appended = 0;
    let finalHead: number | undefined;
    const appender = (async () => {
      while (appended < total) {
        const n = 1 + Math.floor(Math.random() * 30);
        await append(progressBatch(n));
        appended += n;
        await sleep(Math.random() * 4);
      }
      finalHead = await queries.head();
    })();
    // Subscribers join at random moments, from random past positions (some ahead of the tail, some live only).
    const runs: Promise<number>[] = [];
    for (let i = 0; i < 24; i++) {
      await sleep(Math.random() * 40);
      const head = tailer.position();
      // Ahead of the tail: the log's newest position (another replica may have sent it already).
      const after = i % 6 === 5 ? undefined : i % 6 === 4 ? await queries.head() : Math.floor(Math.random() * head);
      const sub = hub.subscribe(eventsFeed(queries, null), after);
      const start = after ?? sub.lastDelivered;
      runs.push(
        (async () => {
          const got: number[] = [];
          const slowCatchUp = i % 3 === 0; // pulls slowly at first: catch-up is paced by the client
          // Every subscriber must reach the log's final head: one that stalls fails here.
          let pending = sub.next();
          let waitedSince = Date.now();
          while (finalHead === undefined || (got.at(-1) ?? start) < finalHead) {
            const r = await Promise.race([pending, sleep(100).then(() => null)]);
            if (r === null) {
              if (Date.now() - waitedSince > 10_000) {
                throw new Error(`subscriber ${i} (after ${String(after)}) stalled at ${String(got.at(-1) ?? start)}, head ${String(finalHead)}`);
              }
              continue;
            }
            if (r.done) throw new Error('ended early');
            got.push(r.value.position);
            if (slowCatchUp && got.length < 60) await sleep(1);
            pending = sub.next();
            waitedSince = Date.now();
          }
          await sub.return();
          const expected = (await store.readEvents(start, 100_000)).map((e) => e.position);
          expect(expected.at(-1) ?? start).toBe(finalHead);
          expect(got).toEqual(expected);
          return got.length;
        })(),
      );
    }
    await appender;
    const delivered = await Promise.all(runs);
    // Most joined while the log grew: the comparison above was over real deliveries.
    expect(delivered.filter((n) => n > 0).length).toBeGreaterThan(12);
    expect(tailer.subscriberCount).toBe(0);
    expect((await metrics.subscribersCutOff.get()).values).toEqual([]);
  });

  it('nextBatch takes every waiting item up to max, in order, and tracks the last one delivered', async () => {
    const history = await append(progressBatch(7));
    await tailer.start();
    const sub = hub.subscribe(eventsFeed(queries, null), history[0]! - 1); // catch-up pages of 50
    const sizes: number[] = [];
    const got: number[] = [];
    while (got.length < 7) {
      const r = await sub.nextBatch(3);
      if (r.done) throw new Error('ended early');
      sizes.push(r.value.length);
      got.push(...r.value.map((e) => e.position));
      expect(sub.lastDelivered).toBe(got.at(-1));
    }
    expect(sizes).toEqual([3, 3, 1]);
    expect(got).toEqual(history);
    const live = await append(progressBatch(120));
    const liveGot: number[] = [];
    while (liveGot.length < 120) {
      const r = await sub.nextBatch(100);
      if (r.done) throw new Error('ended early');
      expect(r.value.length).toBeLessThanOrEqual(100);
      liveGot.push(...r.value.map((e) => e.position));
    }
    expect(liveGot).toEqual(live);
    await sub.return();
    expect(await sub.nextBatch(10)).toEqual({ value: undefined, done: true });
  });

  it('subscribers in step get the same batch object (executed once); others get their own', async () => {
    await tailer.start();
    const wrap = (events: unknown[], lastPosition: number) => ({ events, lastPosition });
    const byPosition = (e: { position: number }) => e.position;
    const a = batchesOf(hub.subscribe(eventsFeed(queries, null, 'eventBatches')), 500, byPosition, wrap);
    const b = batchesOf(hub.subscribe(eventsFeed(queries, null, 'eventBatches')), 500, byPosition, wrap);
    const small = batchesOf(hub.subscribe(eventsFeed(queries, null, 'eventBatches')), 2, byPosition, wrap);
    const positions = await append(progressBatch(5));
    const [ra, rb, rs] = await Promise.all([a.next(), b.next(), small.next()]);
    expect(ra.value).toBe(rb.value);
    expect(ra.value).toEqual({ events: expect.any(Array), lastPosition: positions[4] });
    expect((ra.value as { events: { position: number }[] }).events.map((e) => e.position)).toEqual(positions);
    expect(rs.value).not.toBe(ra.value);
    expect((rs.value as { events: { position: number }[] }).events.map((e) => e.position)).toEqual(positions.slice(0, 2));
    for (const it of [a, b, small]) await it.return!();
  });

  it('cuts off a subscriber that stops pulling, without slowing the tail or the others; resuming from its last position loses nothing', async () => {
    makeHub(10);
    await tailer.start();
    const slow = hub.subscribe(eventsFeed(queries, null));
    const fast = hub.subscribe(eventsFeed(queries, null));
    const first = await append(progressBatch(5));
    expect((await take(slow, 3)).map((e) => e.position)).toEqual(first.slice(0, 3));
    expect((await take(fast, 5)).map((e) => e.position)).toEqual(first);
    // The slow one has 2 waiting; 9 more exceed its 10: it is cut off. The fast one goes on.
    const second = await append(progressBatch(9));
    expect((await take(fast, 9)).map((e) => e.position)).toEqual(second);
    const third = await append(progressBatch(8));
    expect((await take(fast, 8)).map((e) => e.position)).toEqual(third);
    expect(tailer.position()).toBe(third.at(-1));

    const error = await slow.next().then(
      () => null,
      (e: { message: string; extensions: Record<string, unknown> }) => e,
    );
    expect(error?.extensions).toEqual({ code: 'SUBSCRIBER_TOO_SLOW', lastPosition: first[2] });
    expect(error?.message).toContain(`The last position delivered was ${first[2]}: subscribe again with afterPosition: ${first[2]}`);
    expect(await slow.next()).toEqual({ value: undefined, done: true });
    expect((await metrics.subscribersCutOff.get()).values).toEqual([{ value: 1, labels: { field: 'events' } }]);
    expect((await metrics.openSubscriptions.get()).values.find((v) => v.labels.field === 'events')!.value).toBe(1);

    // Resume: catch-up from the log (not bounded by the buffer), then live.
    const again = hub.subscribe(eventsFeed(queries, null), first[2]);
    const rest = [...first.slice(3), ...second, ...third];
    expect((await take(again, rest.length)).map((e) => e.position)).toEqual(rest);
    const live = await append(progressBatch(3));
    expect((await take(again, 3)).map((e) => e.position)).toEqual(live);
  });

  it('a page larger than the buffer cuts off only the subscribers that want it', async () => {
    makeHub(10);
    await tailer.start();
    const everything = hub.subscribe(eventsFeed(queries, null));
    const failures = hub.subscribe(eventsFeed(queries, { types: ['task-failed'] }));
    const start = tailer.position();
    await append(progressBatch(11));
    await expect(everything.next()).rejects.toMatchObject({ extensions: { code: 'SUBSCRIBER_TOO_SLOW', lastPosition: start } });
    const [f] = await append([event({ type: 'task-failed', hostname: 'celery@w1', uuid: 'f', timestamp: t, clock: ++clock })]);
    expect((await take(failures, 1))[0]!.position).toBe(f);
  });

  it('reads the task rows touched by a page in one batched statement: per task the newest row, after the row at each state it went through', async () => {
    await tailer.init();
    const sub = hub.subscribe(taskUpdatesFeed(queries, { names: ['app.add'] }));
    const events = Array.from({ length: 50 }, (_, i) => successfulTask(`task-${i}`, T0 + i, 'celery@w1', i % 5 === 0 ? 'app.mul' : 'app.add')).flat();
    const stored = await append(events);
    statements.length = 0;
    await tailer.poll();
    // Probe, then one snapshot: begin, events, tasks, the earlier events of tasks with several
    // in the page (by position), commit — whatever the number of events.
    expect(statements.filter((s) => /from "tasks"/.test(s))).toHaveLength(1);
    expect(statements.length).toBeLessThanOrEqual(6);
    const updates = await take(sub, 160);
    expect(updates.map((u) => u.task.name)).toEqual(Array(160).fill('app.add'));
    const byTask = new Map<string, string[]>();
    for (const u of updates) byTask.set(u.task.uuid, [...(byTask.get(u.task.uuid) ?? []), u.task.state]);
    expect(byTask.size).toBe(40);
    for (const states of byTask.values()) expect(states).toEqual(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS']);
    // Each row is the row as it stood after its event.
    expect(updates.every((u) => u.task.lastPosition === u.position)).toBe(true);
    const positions = updates.map((u) => u.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(positions.at(-1)).toBe(stored.at(-1));
    expect(await nothingWithin(sub, 30)).toBe(true);

    // Without task or worker subscribers an idle or busy poll reads events only.
    await sub.return();
    await append(progressBatch(3));
    statements.length = 0;
    await tailer.poll();
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/from "events"/);
  });

  it('a row subscriber that joins during a read is served: the page is read again with its rows', async () => {
    await tailer.init();
    const [p] = await append(successfulTask('joined', T0).slice(0, 2));
    const polling = tailer.poll(); // starts reading without task rows
    const sub = hub.subscribe(taskUpdatesFeed(queries, null)); // joins before the read returns
    await polling;
    const [sent, received] = await take(sub, 2);
    expect(sent).toMatchObject({ position: p!, task: { uuid: 'joined', state: 'PENDING' } });
    expect(received).toMatchObject({ position: p! + 1, task: { uuid: 'joined', state: 'RECEIVED' } });
  });

  it('task updates follow each state change across pages, and skip events that change no state', async () => {
    await tailer.init();
    const sub = hub.subscribe(taskUpdatesFeed(queries, null));
    const [sent, received, started, succeeded] = successfulTask('x', T0);
    const first = await append([sent!, received!]);
    await tailer.poll();
    // Out of position order: task-started is stored before the task-received that precedes it.
    const second = await append([started!, event({ type: 'task-received', hostname: 'celery@w1', uuid: 'x', name: 'app.add', timestamp: T0 + 0.015, clock: 9 })]);
    await tailer.poll();
    const third = await append([succeeded!]);
    await tailer.poll();
    expect((await take(sub, 5)).map((u) => [u.position, u.task.state])).toEqual([
      [first[0], 'PENDING'],
      [first[1], 'RECEIVED'],
      [second[0], 'STARTED'],
      [second[1], 'STARTED'], // the page's newest row: a late task-received changes no state but is its newest event
      [third[0], 'SUCCESS'],
    ]);
    expect(await nothingWithin(sub, 30)).toBe(true);
  });

  it('a commit larger than a page of the tail: each state once, each row as it stood after its event (not the newer row of the snapshot)', async () => {
    tailer = new LogTailer(queries, { intervalMs: 5, pageSize: 3 });
    hub = new LiveHub(tailer, { capacity: 1000, metrics, catchUpPageSize: 50 });
    await tailer.init();
    const sub = hub.subscribe(taskUpdatesFeed(queries, null));
    const stored = await append(['a', 'b', 'c', 'd', 'e'].flatMap((uuid, i) => successfulTask(uuid, T0 + i))); // one commit of 20 events
    while (tailer.position() < stored.at(-1)!) await tailer.poll(); // pages of 3 cut through each task's events
    const updates = await take(sub, 20);
    const byTask = new Map<string, string[]>();
    for (const u of updates) byTask.set(u.task.uuid, [...(byTask.get(u.task.uuid) ?? []), u.task.state]);
    for (const states of byTask.values()) expect(states).toEqual(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS']);
    expect(updates.every((u) => u.task.lastPosition === u.position)).toBe(true);
    expect(updates.map((u) => u.position)).toEqual(stored);
    expect(await nothingWithin(sub, 30)).toBe(true);
  });

  it('catching up in pages that cut through tasks sends every state once, each row as it stood then', async () => {
    const stored = await append(Array.from({ length: 30 }, (_, i) => successfulTask(`t-${i}`, T0 + i)).flat()); // 120 events
    await tailer.start();
    const sub = hub.subscribe(taskUpdatesFeed(queries, null), 0); // catch-up pages of 50 events
    const updates = await take(sub, 120);
    const byTask = new Map<string, string[]>();
    for (const u of updates) byTask.set(u.task.uuid, [...(byTask.get(u.task.uuid) ?? []), u.task.state]);
    expect(byTask.size).toBe(30);
    for (const states of byTask.values()) expect(states).toEqual(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS']);
    expect(updates.every((u) => u.task.lastPosition === u.position)).toBe(true);
    expect(updates.map((u) => u.position)).toEqual(stored);
  });

  it('a task with more than 1,000 stored events gets only its newest row per page (its history is not re-read on every poll)', async () => {
    const received = () => event({ type: 'task-received', hostname: 'celery@w1', uuid: 'busy', name: 'app.long', timestamp: (t += 0.001), clock: ++clock });
    for (let i = 0; i < 4; i++) await append(Array.from({ length: 250 }, received)); // 1,000 events of one task
    await tailer.init(); // from the head: the tail reads only what follows
    const sub = hub.subscribe(taskUpdatesFeed(queries, null));
    await append([
      event({ type: 'task-started', hostname: 'celery@w1', uuid: 'busy', timestamp: (t += 0.001), clock: ++clock }),
      event({ type: 'task-succeeded', hostname: 'celery@w1', uuid: 'busy', result: '1', runtime: 0.1, timestamp: (t += 0.001), clock: ++clock }),
    ]);
    await tailer.poll();
    expect((await take(sub, 1)).map((u) => u.task.state)).toEqual(['SUCCESS']);
    expect(await nothingWithin(sub, 30)).toBe(true); // no STARTED row before it
  });

  it('worker updates: heartbeats and task events, filtered by status, source and hostname glob', async () => {
    await tailer.start();
    const web = hub.subscribe(workerUpdatesFeed(queries, { hostname: 'celery@web-*', status: ['online' as never] }));
    const positions = await append([heartbeat('celery@web-1', T0, 1), heartbeat('celery@db-1', T0, 1), ...successfulTask('w', T0 + 1, 'celery@web-2')]);
    const updates = await take(web, 2);
    expect(updates.map((u) => [u.position, u.worker.hostname, u.worker.status])).toEqual([
      [positions[0], 'celery@web-1', 'online'],
      [positions[5], 'celery@web-2', 'online'],
    ]);
    expect(updates[1]!.worker.taskCounts).toEqual([{ state: 'SUCCESS', count: 1 }]);
  });

  it("worker updates: the collector's task-lost verdict moves the offline worker's task counts, and is sent", async () => {
    await tailer.start();
    const sub = hub.subscribe(workerUpdatesFeed(queries, { hostname: 'celery@dead' }));
    const started = await append([
      event({ type: 'task-received', hostname: 'celery@dead', uuid: 'cut', name: 'app.long', timestamp: T0, clock: 1 }),
      event({ type: 'task-started', hostname: 'celery@dead', uuid: 'cut', timestamp: T0 + 1, clock: 2 }),
      event({ type: 'worker-offline', hostname: 'celery@dead', timestamp: T0 + 5, clock: 3 }),
    ]);
    expect((await take(sub, 1)).map((u) => [u.position, u.worker.status, u.worker.taskCounts])).toEqual([
      [started[2], 'offline', [{ state: 'STARTED', count: 1 }]],
    ]);
    const fields = { type: 'task-lost', uuid: 'cut', hostname: 'celery@dead', timestamp: T0 + 5, reason: 'worker-offline', started_at: T0 + 1, broker_source: 'rabbitmq' };
    const [lost] = await append([newEvent('collector:lost-tasks', T0 + 6, { type: 'task-lost', hostname: 'celery@dead', timestamp: T0 + 5, clock: null, uuid: 'cut', fields })]);
    expect((await take(sub, 1)).map((u) => [u.position, u.worker.status, u.worker.taskCounts])).toEqual([[lost, 'offline', [{ state: 'LOST', count: 1 }]]]);
  });

  it('task updates catch up from afterPosition, then go live', async () => {
    const before = await append(successfulTask('old', T0));
    const a = await append(successfulTask('a', T0 + 1));
    const b = await append(successfulTask('b', T0 + 2, 'celery@w2'));
    await tailer.start();
    const sub = hub.subscribe(taskUpdatesFeed(queries, { workers: ['celery@w2'] }), before.at(-1));
    const fromW1 = hub.subscribe(taskUpdatesFeed(queries, { workers: ['celery@w1'], states: ['SUCCESS'] }), 0);
    // b's task-sent (a client's event) has no worker yet: its PENDING row does not match.
    expect((await take(sub, 3)).map((u) => [u.position, u.task.uuid, u.task.state])).toEqual([
      [b[1], 'b', 'RECEIVED'],
      [b[2], 'b', 'STARTED'],
      [b.at(-1), 'b', 'SUCCESS'],
    ]);
    expect((await take(fromW1, 2)).map((u) => [u.position, u.task.uuid])).toEqual([
      [before.at(-1), 'old'],
      [a.at(-1), 'a'],
    ]);
    const [received] = await append([successfulTask('c', T0 + 3, 'celery@w2')[1]!]);
    expect((await take(sub, 1)).map((u) => [u.position, u.task.uuid, u.task.state])).toEqual([[received, 'c', 'RECEIVED']]);
    expect(await nothingWithin(fromW1, 30)).toBe(true);
  });

  it('event filters select the same events live (in memory) and catching up (in SQL)', async () => {
    await tailer.start();
    const start = tailer.position();
    const filters = [
      { types: ['task-failed', 'worker-heartbeat'] },
      { hostname: 'celery@w2' },
      { uuid: 'b' },
      { source: ['redis'] },
      { types: ['task-started'], source: ['rabbitmq'], hostname: 'celery@w1' },
      { types: [], source: [] },
    ];
    const live = filters.map((f) => hub.subscribe(eventsFeed(queries, f)));
    const events = [
      ...successfulTask('a', T0, 'celery@w1'),
      ...successfulTask('b', T0 + 1, 'celery@w2').map((e) => ({ ...e, source: 'redis' })),
      event({ type: 'task-failed', hostname: 'celery@w2', uuid: 'c', timestamp: T0 + 2, clock: 9 }),
      heartbeat('celery@w1', T0 + 3, 10),
    ];
    const positions = await append(events);
    await sleep(50);
    for (const [i, f] of filters.entries()) {
      const fromLog = hub.subscribe(eventsFeed(queries, f), start);
      const expected = live[i]!.pending;
      expect(expected, JSON.stringify(f)).toBeGreaterThan(0);
      const a = (await take(live[i]!, expected)).map((e) => e.position);
      const b = (await take(fromLog, expected)).map((e) => e.position);
      expect(b, JSON.stringify(f)).toEqual(a);
      expect(await nothingWithin(fromLog, 20)).toBe(true);
    }
    expect(live[5]!.lastDelivered).toBe(positions.at(-1));
  });

  it("an afterPosition ahead of this tail (another replica's) delivers only later positions; one beyond the log is refused", async () => {
    await append(progressBatch(3));
    await tailer.init();
    const head = tailer.position();
    const next = await append(progressBatch(8)); // stored; this tail has not read them yet
    const sub = hub.subscribe(eventsFeed(queries, null), head + 4);
    const beyond = hub.subscribe(eventsFeed(queries, null), next.at(-1)! + 1);
    await expect(beyond.next()).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'afterPosition' } });
    const pending = take(sub, 4);
    await tailer.poll();
    expect((await pending).map((e) => e.position)).toEqual(next.filter((p) => p > head + 4));
    expect(tailer.subscriberCount).toBe(1);
  });

  it('resuming ahead of the tail misses nothing when the tail moves on while the log head is read', async () => {
    await append(progressBatch(3));
    await tailer.init();
    const head = tailer.position();
    const next = await append(progressBatch(8)); // stored; this tail has not read them yet
    const readHead = tailer.logHead.bind(tailer);
    tailer.logHead = async () => {
      const h = await readHead();
      await tailer.poll(); // the tail hands out the 8 events meanwhile (to nobody: the subscription has not joined)
      return h;
    };
    const sub = hub.subscribe(eventsFeed(queries, null), head + 2);
    expect((await take(sub, 6)).map((e) => e.position)).toEqual(next.filter((p) => p > head + 2));
  });

  it('catching up gives the event loop a turn per page: timers, probes and the client\'s own complete are not held up', async () => {
    await append(progressBatch(2000));
    await tailer.start();
    const sub = hub.subscribe(eventsFeed(queries, null), 0); // pages of 50
    let takenWhenTimerRan = -1;
    let taken = 0;
    setTimeout(() => (takenWhenTimerRan = taken), 0);
    while (taken < 2000) {
      const r = await sub.nextBatch(5000);
      if (r.done) break;
      taken += r.value.length;
    }
    expect(taken).toBe(2000);
    expect(takenWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(takenWhenTimerRan).toBeLessThan(2000);
    await sub.return();
  });

  it('return() ends a waiting subscription: done, unregistered, gauge back', async () => {
    await tailer.start();
    const sub = hub.subscribe(eventsFeed(queries, null));
    const pending = sub.next();
    await sleep(20);
    expect(tailer.subscriberCount).toBe(1);
    await sub.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(tailer.subscriberCount).toBe(0);
    expect((await metrics.openSubscriptions.get()).values.find((v) => v.labels.field === 'events')!.value).toBe(0);
  });

  it('reports lag for /readyz: null before the first poll, 0 while current', async () => {
    let now = 1_000_000;
    tailer = new LogTailer(queries, { intervalMs: 50, now: () => now });
    await tailer.init();
    expect(tailer.lagSeconds()).toBeNull();
    await tailer.poll();
    expect(tailer.lagSeconds()).toBe(0);
    now += 500;
    expect(tailer.lagSeconds()).toBe(0);
    now += 4_500;
    expect(tailer.lagSeconds()).toBe(5);
  });
});
