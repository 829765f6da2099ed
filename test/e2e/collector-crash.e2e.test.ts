/**
 * Crash safety of the collector on RabbitMQ, with SQLite and with Postgres: while a real Celery
 * worker processes a stream of tasks, the collector process is SIGKILLed twice, each time at an
 * instant when it holds received-but-uncommitted (hence unacknowledged) deliveries (on Postgres,
 * possibly inside an open transaction); more tasks are sent while it is down
 * (their events wait in the durable collector queue); it is restarted on the same database and
 * queue. For the last part a twin collector (own queue, same database) receives every event a
 * second time. Proves: no event is lost and none is stored twice (each task has exactly one
 * task-sent, task-received, task-started and task-succeeded event), and the projections agree.
 */
import * as amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../libs/state/src';
import { sendBurst } from '../support/celery-client';
import { startCeleryWorker, uniqueNodeName, uniqueQueueName, type CeleryWorker } from '../support/celery-worker';
import { metricValue, openStoreForAssertions, startCollector, type CollectorProcess } from '../support/collector-process';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
/**
 * The batch delay of these collectors, set explicitly (CM_BATCH_MAX_DELAY_MS; the default is 20 ms):
 * the kill moment is chosen relative to it (while the oldest delivery has waited under half of it).
 */
const BATCH_DELAY_MS = 50;
/** At least this many tasks, in bursts of PER_BURST (more bursts follow until both kills happened). */
const MIN_TASKS = 300;
const PER_BURST = 50;
const MAX_TASKS = 800;
/** Run time of each task (the test app's `sleep`), s. */
const TASK_SECONDS = 0.02;
const TASK_TYPES = ['task-received', 'task-sent', 'task-started', 'task-succeeded'];

describe.each(DIALECTS)('collector crash safety: SIGKILL mid-stream (RabbitMQ + %s)', (dialect) => {
  const taskQueue = uniqueQueueName('e2e-crash');
  const collectorQueue = uniqueQueueName('e2e-crash-collector');
  /** Queue of a twin collector on the same database: it receives every event a second time. */
  const twinQueue = uniqueQueueName('e2e-crash-twin');
  const nodeName = uniqueNodeName('wcrash');
  let db: TestDatabase | undefined;
  let worker: CeleryWorker | undefined;
  let store: EventStore | undefined;
  let amqpConnection: amqp.ChannelModel | undefined;
  const collectors: CollectorProcess[] = [];
  /** The background task sender; afterAll stops it so it cannot re-declare the deleted queue. */
  let stopSending = false;
  let sender: Promise<void> | undefined;

  const start = async (amqpQueue = collectorQueue): Promise<CollectorProcess> => {
    const c = await startCollector({
      brokers: `rabbitmq=${AMQP_URL}`,
      databaseUrl: db!.url,
      amqpQueue,
      env: { CM_BATCH_MAX_DELAY_MS: String(BATCH_DELAY_MS) },
    });
    collectors.push(c);
    return c;
  };

  /** Ready messages in the collector queue (unacknowledged ones are not counted). */
  const backlog = async (): Promise<number> => {
    const channel = await amqpConnection!.createChannel();
    try {
      return (await channel.checkQueue(collectorQueue)).messageCount;
    } finally {
      await channel.close().catch(() => undefined);
    }
  };

  const storedEvents = (metrics: string): number => metricValue(metrics, 'celery_monitor_events_stored_total', { source: 'rabbitmq' });

  /**
   * SIGKILLs the collector at an instant when (1) at least `minSent` tasks were sent and it has
   * committed events itself, (2) it holds deliveries that arrived less than half the batch delay
   * ago, so their commit — and ack — is still ≥ 25 ms away, and (3) the database shows tasks of
   * ours that were sent but have not finished, so the kill cuts through running tasks. Fails if
   * the stream ends first.
   */
  const killMidStream = async (
    c: CollectorProcess,
    stream: { ids: readonly string[]; done: () => boolean },
    minSent: number,
  ): Promise<{ lagSeconds: number; storedByThisCollector: number; unfinishedTasks: number; sentBeforeKill: number }> => {
    const seen = await waitFor(
      async () => {
        if (stream.done()) return 'stream-ended' as const;
        if (stream.ids.length < minSent) return undefined;
        const m = await c.metrics();
        if (storedEvents(m) === 0) return undefined; // this collector has committed events itself
        const lagSeconds = metricValue(m, 'celery_monitor_consumer_lag_seconds', { source: 'rabbitmq' });
        if (!(lagSeconds > 0 && lagSeconds < BATCH_DELAY_MS / 2000)) return undefined;
        const unfinished = await store!.database.db
          .selectFrom('tasks')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('queue', '=', taskQueue)
          .where('state', '<>', 'SUCCESS')
          .executeTakeFirst();
        const unfinishedTasks = Number(unfinished?.n ?? 0);
        if (unfinishedTasks === 0) return undefined;
        return { lagSeconds, storedByThisCollector: storedEvents(m), unfinishedTasks };
      },
      { timeoutMs: 30_000, intervalMs: 5, description: `a moment to kill collector ${c.pid} mid-stream with deliveries in flight` },
    );
    if (seen === 'stream-ended') throw new Error(`the task stream ended before a moment to kill collector ${c.pid} mid-stream was found`);
    const sentBeforeKill = stream.ids.length;
    await c.kill();
    expect((await c.exited).signal).toBe('SIGKILL');
    return { ...seen, sentBeforeKill };
  };

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    amqpConnection = await amqp.connect(AMQP_URL);
    amqpConnection.on('error', () => undefined);
    await start(); // declares the durable collector queue before the worker sends anything
    store = await openStoreForAssertions(db.url);
    worker = await startCeleryWorker({ brokerUrl: AMQP_URL, nodeName, queues: [taskQueue], concurrency: 2 });
  });

  afterAll(async () => {
    stopSending = true;
    await sender?.catch(() => undefined);
    await worker?.kill();
    await Promise.all(collectors.map((c) => c.kill()));
    await store?.close();
    await amqpConnection?.close().catch(() => undefined);
    await deleteTestQueue(AMQP_URL, taskQueue).catch(() => undefined);
    await deleteTestQueue(AMQP_URL, collectorQueue).catch(() => undefined);
    await deleteTestQueue(AMQP_URL, twinQueue).catch(() => undefined);
    await db?.drop();
  });

  it('loses no event and stores none twice across two SIGKILLs with deliveries in flight', async () => {
    // A stream of ≥ 300 tasks in bursts of 50, sent in the background the whole time, and kept
    // going until both kills happened (so a slow machine cannot run out of stream).
    const ids: string[] = [];
    // Tasks that run for TASK_SECONDS: a kill then finds started-but-unfinished tasks in the
    // database (with instant tasks, received, started and succeeded mostly share one commit).
    const burst = () => sendBurst(AMQP_URL, 'sleep', PER_BURST, { args: [TASK_SECONDS], queue: taskQueue });
    let senderDone = false;
    let killsDone = false;
    sender = (async () => {
      try {
        while (!stopSending && (ids.length < MIN_TASKS || !killsDone) && ids.length < MAX_TASKS) ids.push(...(await burst()));
      } finally {
        senderDone = true;
      }
    })();
    const [c1] = collectors as [CollectorProcess];
    const stream = { ids, done: () => senderDone };

    // Kill 1 after about a third of the stream, kill 2 after about two thirds.
    const kill1 = await killMidStream(c1, stream, 100);
    const p1 = await store!.lastPosition(); // c1 is dead: everything it committed is at or before p1
    // While it is down, one more burst: its events wait in the durable queue.
    ids.push(...(await burst()));
    const backlog1 = await waitFor(async () => {
      const n = await backlog();
      return n >= PER_BURST ? n : undefined;
    }, { timeoutMs: 15_000, description: `a backlog of ≥ ${PER_BURST} messages in the collector queue while the collector is down` });

    const c2 = await start();
    const kill2 = await killMidStream(c2, stream, 200);
    killsDone = true;
    const p2 = await store!.lastPosition();
    expect(p2).toBeGreaterThan(p1);
    // A twin collector on its own queue and the same database: from now on every event reaches the
    // database twice (deterministically), so "stored once" is really put to the test.
    const twin = await start(twinQueue);
    ids.push(...(await burst()));
    const backlog2 = await waitFor(async () => {
      const n = await backlog();
      return n >= PER_BURST ? n : undefined;
    }, { timeoutMs: 15_000, description: `a backlog of ≥ ${PER_BURST} messages in the collector queue while the second collector is down` });

    const c3 = await start();
    await sender;
    expect(ids.length).toBeGreaterThanOrEqual(MIN_TASKS);
    expect(new Set(ids).size).toBe(ids.length);
    // Wait until every task-succeeded is stored — or, if events were lost, until nothing moves any
    // more (queue empty, count unchanged for 3 s): the assertions below then name what is missing.
    let lastCount = -1;
    let lastChange = Date.now();
    await waitFor(
      async () => {
        const row = await store!.database.db
          .selectFrom('events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('type', '=', 'task-succeeded')
          .where('uuid', 'in', ids)
          .executeTakeFirst();
        const n = Number(row?.n ?? 0);
        if (n === ids.length) return true;
        if (n !== lastCount) [lastCount, lastChange] = [n, Date.now()];
        return Date.now() - lastChange > 3_000 && (await backlog()) === 0;
      },
      { timeoutMs: 40_000, intervalMs: 250, description: `task-succeeded stored for all ${ids.length} tasks` },
    );
    const c3Metrics = await c3.metrics();
    const twinMetrics = await twin.metrics();
    await Promise.all([c3.stop(), twin.stop()]);

    // Per task: its first and last event position, to see which tasks the kills cut through.
    const spans = await store!.database.db
      .selectFrom('events')
      .select(['uuid', (eb) => eb.fn.min<number>('position').as('first'), (eb) => eb.fn.max<number>('position').as('last')])
      .where('uuid', 'in', ids)
      .groupBy('uuid')
      .execute();
    const cutBy = (p: number) => spans.filter((s) => Number(s.first) <= p && Number(s.last) > p).length;
    const diagnostics = {
      kill1: { ...kill1, position: p1, tasksCut: cutBy(p1), backlogWhileDown: backlog1 },
      kill2: { ...kill2, position: p2, tasksCut: cutBy(p2), backlogWhileDown: backlog2 },
      c3: { stored: storedEvents(c3Metrics), duplicates: metricValue(c3Metrics, 'celery_monitor_events_duplicate_total') },
      twin: { stored: storedEvents(twinMetrics), duplicates: metricValue(twinMetrics, 'celery_monitor_events_duplicate_total') },
    };
    if (process.env['CM_TEST_VERBOSE']) console.log(JSON.stringify(diagnostics));

    // Zero lost, zero stored twice: exactly one event of each type per task.
    const groups = await store!.database.db
      .selectFrom('events')
      .select(['uuid', 'type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('uuid', 'in', ids)
      .groupBy(['uuid', 'type'])
      .execute();
    const byTask = new Map<string, Map<string, number>>();
    for (const g of groups) {
      let types = byTask.get(g.uuid!);
      if (!types) byTask.set(g.uuid!, (types = new Map()));
      types.set(g.type, Number(g.n));
    }
    const lost = ids.flatMap((id) => TASK_TYPES.filter((t) => !byTask.get(id)?.get(t)).map((t) => `${t} of ${id}`));
    const twice = groups.filter((g) => Number(g.n) > 1).map((g) => `${g.type} of ${g.uuid} ×${g.n}`);
    const strange = groups.filter((g) => !TASK_TYPES.includes(g.type));
    expect(lost.length, `events lost: ${lost.length} (e.g. ${lost.slice(0, 5).join(', ')})`).toBe(0);
    expect(twice.length, `events stored twice: ${twice.length} (e.g. ${twice.slice(0, 5).join(', ')})`).toBe(0);
    expect(strange, 'unexpected event types').toEqual([]);
    expect(byTask.size).toBe(ids.length);
    const total = await store!.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('uuid', 'in', ids)
      .executeTakeFirst();
    expect(Number(total?.n)).toBe(4 * ids.length);

    // The kills really happened mid-stream with deliveries in flight (uncommitted, so
    // unacknowledged), cutting through running tasks, and work waited for the restarts.
    expect(kill1.lagSeconds, JSON.stringify(diagnostics)).toBeGreaterThan(0);
    expect(kill2.lagSeconds, JSON.stringify(diagnostics)).toBeGreaterThan(0);
    expect(diagnostics.kill1.tasksCut, JSON.stringify(diagnostics)).toBeGreaterThan(0);
    expect(diagnostics.kill2.tasksCut, JSON.stringify(diagnostics)).toBeGreaterThan(0);
    expect(kill1.sentBeforeKill).toBeLessThan(ids.length);
    expect(kill2.sentBeforeKill).toBeLessThan(ids.length);
    expect(diagnostics.c3.stored).toBeGreaterThan(0);
    // Everything after the twin started came twice: well over one burst's events were refused as
    // duplicates (by whichever collector committed second).
    expect(diagnostics.c3.duplicates + diagnostics.twin.duplicates, JSON.stringify(diagnostics)).toBeGreaterThanOrEqual(4 * PER_BURST);

    // Projections agree: every task SUCCESS from exactly its 4 events; the worker counts them all.
    const rows = await store!.database.db.selectFrom('tasks').select(['uuid', 'state', 'event_count', 'result', 'worker']).where('uuid', 'in', ids).execute();
    expect(rows).toHaveLength(ids.length);
    const wrong = rows.filter((r) => r.state !== 'SUCCESS' || r.event_count !== 4 || r.result !== String(TASK_SECONDS) || r.worker !== nodeName);
    expect(wrong).toEqual([]);
    const workerRow = await store!.worker(nodeName);
    expect(JSON.parse(workerRow!.task_counts)).toEqual({ SUCCESS: ids.length });
    expect(await store!.projectionPosition()).toBe(await store!.lastPosition());
  });
});
