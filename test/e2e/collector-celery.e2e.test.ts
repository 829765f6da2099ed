/**
 * End to end, with nothing faked: real Celery 5.2 workers (-E) and the Celery client on a real
 * broker → the BUILT collector process → a real database. The same suite runs for RabbitMQ +
 * SQLite, Redis + SQLite and RabbitMQ + Postgres, and proves that:
 * - every task outcome (success, failure with traceback, retry then success, revoke with
 *   terminate, ETA) is stored event by event and projected into the right task row;
 * - the worker row follows heartbeats and task events (identity, freq, task counts, processed);
 * - a warm shutdown marks the worker offline with the worker's own `worker-offline`, and a
 *   SIGKILLed worker is declared offline by the collector (`heartbeat-timeout`, a derived event);
 * - every stored event names the configured source;
 * - after a graceful stop (exit 0) `collector rebuild` reproduces the tasks and workers tables
 *   row for row.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, TaskRecord, WorkerRecord } from '../../libs/state/src';
import { revokeTask, sendTasks } from '../support/celery-client';
import { startCeleryWorker, uniqueNodeName, uniqueQueueName, type CeleryWorker } from '../support/celery-worker';
import { openStoreForAssertions, runCollectorCommand, startCollector, type CollectorProcess } from '../support/collector-process';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, type DialectUnderTest, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';
import { damageProjections } from '../support/damage-projections';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const REDIS_URL = 'redis://127.0.0.1:6379/0';

interface Variant {
  title: string;
  sourceName: string;
  brokerUrl: string;
  dialect: DialectUnderTest;
}

const VARIANTS: Variant[] = [
  { title: 'RabbitMQ + SQLite', sourceName: 'rabbitmq', brokerUrl: AMQP_URL, dialect: 'sqlite' },
  { title: 'Redis + SQLite', sourceName: 'redis', brokerUrl: REDIS_URL, dialect: 'sqlite' },
  { title: 'RabbitMQ + Postgres', sourceName: 'rabbitmq', brokerUrl: AMQP_URL, dialect: 'postgres' },
];

const FINAL_STATES = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

describe.each(VARIANTS)('collector end to end: $title', (variant) => {
  const taskQueue = uniqueQueueName('e2e-cq');
  const idleQueue = uniqueQueueName('e2e-idle');
  const collectorQueue = uniqueQueueName('e2e-collector');
  const w1Name = uniqueNodeName('w1');
  const w2Name = uniqueNodeName('w2');
  let db: TestDatabase | undefined;
  let collector: CollectorProcess | undefined;
  let store: EventStore | undefined;
  let w1: CeleryWorker | undefined;
  let w2: CeleryWorker | undefined;

  const ids = { add: '', fail: '', flaky: '', sleep: '', eta: '' };

  const task = async (uuid: string): Promise<TaskRecord | undefined> => store!.task(uuid);
  const worker = async (hostname: string): Promise<WorkerRecord | undefined> => store!.worker(hostname);
  /**
   * The events of one task by timestamp. Only the worker's own events are ordered among
   * themselves: Celery's client stamps task-sent AFTER publishing the task, so under load the
   * worker's task-received can carry an earlier timestamp, and reach the log first.
   */
  const eventsOf = async (uuid: string) =>
    store!.database.db
      .selectFrom('events')
      .select(['type', 'source', 'hostname', 'timestamp', 'payload'])
      .where('uuid', '=', uuid)
      .orderBy('timestamp')
      .orderBy('position')
      .execute();

  const workerSide = (events: { type: string }[]): string[] => events.map((e) => e.type).filter((t) => t !== 'task-sent');

  beforeAll(async () => {
    db = createTestDatabase(variant.dialect);
    collector = await startCollector({
      brokers: `${variant.sourceName}=${variant.brokerUrl}`,
      databaseUrl: db.url,
      amqpQueue: collectorQueue,
    });
    store = await openStoreForAssertions(db.url);
    // The collector listens before the workers start, so it sees their worker-online events.
    [w1, w2] = await Promise.all([
      startCeleryWorker({ brokerUrl: variant.brokerUrl, nodeName: w1Name, queues: [taskQueue], concurrency: 2 }),
      startCeleryWorker({ brokerUrl: variant.brokerUrl, nodeName: w2Name, queues: [idleQueue], concurrency: 1 }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([w1?.kill(), w2?.kill()]);
    await collector?.kill();
    await store?.close();
    for (const q of [taskQueue, idleQueue]) await deleteTestQueue(variant.brokerUrl, q).catch(() => undefined);
    await deleteTestQueue(AMQP_URL, collectorQueue).catch(() => undefined);
    await db?.drop();
  });

  it('stores every task event and projects success, failure, retry, revoke and ETA into the task rows', async () => {
    const sent = await sendTasks(variant.brokerUrl, [
      { name: 'add', args: [2, 3], queue: taskQueue },
      { name: 'fail', args: ['boom'], queue: taskQueue },
      { name: 'flaky', args: [1], queue: taskQueue },
      { name: 'sleep', args: [30], queue: taskQueue },
      { name: 'add', args: [4, 5], countdown: 2, queue: taskQueue },
    ]);
    [ids.add, ids.fail, ids.flaky, ids.sleep, ids.eta] = sent as [string, string, string, string, string];
    const sentAt = Date.now() / 1000;

    // The collector, not the test, tells us the long task is running: then revoke it.
    await waitFor(async () => (await task(ids.sleep))?.state === 'STARTED', {
      timeoutMs: 15_000,
      description: `task row of sleep(30) ${ids.sleep} in state STARTED`,
    });
    await revokeTask(variant.brokerUrl, ids.sleep, true);

    const rows = await waitFor(
      async () => {
        const all = await Promise.all(Object.values(ids).map((id) => task(id)));
        return all.every((r) => r !== undefined && FINAL_STATES.has(r.state)) ? (all as TaskRecord[]) : undefined;
      },
      { timeoutMs: 20_000, description: `all 5 tasks in a final state (${JSON.stringify(ids)})` },
    );
    const [add, fail, flaky, sleep, eta] = rows as [TaskRecord, TaskRecord, TaskRecord, TaskRecord, TaskRecord];

    // Every row counts exactly the events stored for it.
    for (const row of rows) {
      const events = await eventsOf(row.uuid);
      expect(row.event_count, `event_count of ${row.name} ${row.uuid}`).toBe(events.length);
      expect(events.every((e) => e.source === variant.sourceName)).toBe(true);
    }

    // add(2, 3): the whole life cycle.
    const addEvents = await eventsOf(ids.add);
    expect(addEvents.map((e) => e.type).sort()).toEqual(['task-received', 'task-sent', 'task-started', 'task-succeeded']);
    expect(workerSide(addEvents)).toEqual(['task-received', 'task-started', 'task-succeeded']);
    expect(add).toMatchObject({ state: 'SUCCESS', name: 'add', args: '[2, 3]', kwargs: '{}', result: '5', worker: w1Name, queue: taskQueue, source: variant.sourceName, retries: 0, event_count: 4 });
    expect(add.client).toMatch(/^gen\d+@/);
    expect(add.sent_at).not.toBeNull();
    expect(Math.abs(add.received_at! - add.sent_at!)).toBeLessThan(5);
    expect(add.received_at!).toBeLessThanOrEqual(add.started_at!);
    expect(add.started_at!).toBeLessThanOrEqual(add.succeeded_at!);
    expect(add.state_at).toBe(add.succeeded_at);
    expect(add.runtime).toBeGreaterThan(0);
    expect(add.runtime!).toBeLessThan(5);
    expect(add.eta).toBeNull();
    expect(add.failed_at).toBeNull();
    expect(add.root_id).toBe(ids.add);

    // fail('boom'): FAILURE with the exception and the traceback.
    expect(fail).toMatchObject({ state: 'FAILURE', name: 'fail', args: "['boom']", worker: w1Name, event_count: 4, result: null });
    expect(fail.exception).toBe("ValueError('boom')");
    expect(fail.traceback).toMatch(/Traceback \(most recent call last\)/);
    expect(fail.traceback).toMatch(/ValueError: boom/);
    expect(fail.failed_at!).toBeGreaterThanOrEqual(fail.started_at!);
    expect(fail.state_at).toBe(fail.failed_at);
    expect(fail.succeeded_at).toBeNull();

    // flaky(1): one RETRY (seen as an event), then SUCCESS on the second attempt.
    const flakyTypes = (await eventsOf(ids.flaky)).map((e) => e.type);
    expect(flakyTypes.filter((t) => t === 'task-retried')).toHaveLength(1);
    expect(flakyTypes.filter((t) => t === 'task-succeeded')).toHaveLength(1);
    expect(flakyTypes.filter((t) => t === 'task-received')).toHaveLength(2);
    expect(flakyTypes.filter((t) => t === 'task-started')).toHaveLength(2);
    expect(flaky).toMatchObject({ state: 'SUCCESS', name: 'flaky', retries: 1, result: '1', worker: w1Name });
    expect(flaky.retried_at).not.toBeNull();
    expect(flaky.retried_at!).toBeLessThan(flaky.succeeded_at!);
    // Celery's task-retried carries the repr of Retry.exc ('None' for a bare self.retry()); the
    // row keeps it, since no later event of the task has an exception field.
    const retried = (await eventsOf(ids.flaky)).find((e) => e.type === 'task-retried')!;
    const retriedPayload = JSON.parse(retried.payload) as Record<string, unknown>;
    expect(typeof retriedPayload['exception']).toBe('string');
    expect(flaky.exception).toBe(retriedPayload['exception']);
    expect(retried.hostname).toBe(w1Name);
    expect(flaky.client).not.toBeNull();

    // sleep(30) revoked with terminate: REVOKED by SIGTERM (15), not expired, never failed.
    const sleepEvents = await eventsOf(ids.sleep);
    expect(sleepEvents.map((e) => e.type).sort()).toEqual(['task-received', 'task-revoked', 'task-sent', 'task-started']);
    expect(workerSide(sleepEvents)).toEqual(['task-received', 'task-started', 'task-revoked']);
    expect(sleep).toMatchObject({ state: 'REVOKED', name: 'sleep', revoked_terminated: 1, revoked_signum: '15', revoked_expired: 0, worker: w1Name, event_count: 4 });
    expect(sleep.revoked_at!).toBeGreaterThanOrEqual(sleep.started_at!);
    expect(sleep.revoked_at! - sleep.started_at!).toBeLessThan(20);
    expect(sleep.succeeded_at).toBeNull();
    expect(sleep.failed_at).toBeNull();

    // add(4, 5) with countdown 2: an ETA, and it ran only after it.
    expect(eta).toMatchObject({ state: 'SUCCESS', name: 'add', args: '[4, 5]', result: '9', worker: w1Name, event_count: 4 });
    expect(eta.eta).not.toBeNull();
    const etaAt = Date.parse(eta.eta!) / 1000;
    expect(Math.abs(etaAt - (eta.sent_at! + 2))).toBeLessThan(1);
    expect(Math.abs(etaAt - sentAt)).toBeLessThan(5);
    expect(eta.started_at!).toBeGreaterThanOrEqual(etaAt - 0.1);
    expect(eta.succeeded_at! - eta.sent_at!).toBeGreaterThanOrEqual(1.5);
  });

  it('projects the worker row from heartbeats and task events', async () => {
    // `processed` comes with heartbeats (every 2 s): wait for one sent after the last task ran.
    const row = await waitFor(
      async () => {
        const r = await worker(w1Name);
        return r && r.processed === 6 && r.active === 0 ? r : undefined;
      },
      { timeoutMs: 10_000, description: `worker row ${w1Name} with processed 6 and active 0` },
    );
    expect(row).toMatchObject({
      hostname: w1Name,
      source: variant.sourceName,
      status: 'online',
      offline_reason: null,
      offline_since: null,
      sw_ident: 'py-celery',
      sw_ver: '5.2.6',
      sw_sys: 'Linux',
      pid: w1!.pid,
      freq: 2,
    });
    // Five tasks ran here (flaky twice, counted by processed but not twice in task_counts).
    expect(JSON.parse(row.task_counts)).toEqual({ FAILURE: 1, REVOKED: 1, SUCCESS: 3 });
    expect(JSON.parse(row.loadavg!)).toHaveLength(3);
    expect(row.online_since).not.toBeNull();
    expect(row.last_heartbeat_at!).toBeGreaterThanOrEqual(row.online_since!);
    expect(row.last_seen_at!).toBeGreaterThanOrEqual(row.last_heartbeat_at!);
    expect(row.heartbeat_expires_at).toBeCloseTo(row.last_seen_received_at! + 2 * 2, 6);
    expect(row.heartbeat_expires_at!).toBeGreaterThan(Date.now() / 1000 - 1);

    const idle = await worker(w2Name);
    expect(idle).toMatchObject({ status: 'online', sw_ident: 'py-celery', freq: 2, task_counts: '{}', processed: 0 });
  });

  it('marks a warmly stopped worker offline (worker-offline) and a SIGKILLed one by heartbeat timeout', async () => {
    const killedAt = Date.now();
    await Promise.all([w1!.stop(), w2!.kill()]);

    const stopped = await waitFor(async () => {
      const r = await worker(w1Name);
      return r?.status === 'offline' ? r : undefined;
    }, { timeoutMs: 10_000, description: `worker row ${w1Name} offline after a warm shutdown` });
    expect(stopped).toMatchObject({ offline_reason: 'worker-offline', online_since: null, source: variant.sourceName });
    expect(stopped.offline_since!).toBeGreaterThanOrEqual(stopped.last_seen_at!);

    const killed = await waitFor(async () => {
      const r = await worker(w2Name);
      return r?.status === 'offline' ? r : undefined;
    }, { timeoutMs: 12_000, description: `worker row ${w2Name} offline after SIGKILL (heartbeat timeout)` });
    expect(Date.now() - killedAt).toBeLessThan(12_000);
    // The derived event names the broker the worker was seen on, and its timestamp is the expiry
    // instant (last sign of life + freq × 2).
    expect(killed).toMatchObject({ offline_reason: 'heartbeat-timeout', source: variant.sourceName });
    expect(killed.offline_since).toBeCloseTo(killed.last_seen_at! + 4, 6);

    const offlineEvents = await store!.database.db
      .selectFrom('events')
      .select(['hostname', 'source', 'payload'])
      .where('type', '=', 'worker-offline')
      .where('hostname', 'in', [w1Name, w2Name])
      .execute();
    const byHost = (h: string) => offlineEvents.filter((e) => e.hostname === h);
    expect(byHost(w1Name).map((e) => e.source)).toEqual([variant.sourceName]);
    expect(byHost(w2Name).map((e) => e.source)).toEqual(['collector:liveness']);
    const derived = JSON.parse(byHost(w2Name)[0]!.payload) as Record<string, unknown>;
    expect(derived).toMatchObject({ reason: 'heartbeat-timeout', broker_source: variant.sourceName, heartbeat_freq: 2, expiry_factor: 2 });
  });

  it('stores every event under the configured source name (or collector:*)', async () => {
    const sources = await store!.database.db.selectFrom('events').select('source').distinct().execute();
    const names = sources.map((s) => s.source);
    expect(names).toContain(variant.sourceName);
    expect(names).toContain('collector:liveness');
    for (const name of names) expect(name === variant.sourceName || name.startsWith('collector:'), `source ${name}`).toBe(true);
    const checkpoints = await store!.database.db.selectFrom('source_checkpoints').selectAll().execute();
    expect(checkpoints.map((c) => c.source)).toContain(variant.sourceName);
  });

  it('rebuild after a graceful stop (exit 0) reproduces the tasks and workers tables row for row', async () => {
    await collector!.stop();
    expect(collector!.output()).toMatch(/collector stopped cleanly/);
    const snapshot = async () => ({
      tasks: await store!.allTasks(),
      workers: await store!.allWorkers(),
      projected: await store!.projectionPosition(),
      last: await store!.lastPosition(),
    });
    const before = await snapshot();
    expect(before.tasks.length).toBeGreaterThanOrEqual(5);
    expect(before.workers.map((w) => w.hostname)).toEqual(expect.arrayContaining([w1Name, w2Name]));
    expect(before.projected).toBe(before.last);
    const eventCount = Number((await sql<{ n: number }>`select count(*) as n from events`.execute(store!.database.db)).rows[0]?.n);
    await damageProjections(store!.database.db);

    const rebuild = await runCollectorCommand('rebuild', { databaseUrl: db!.url });
    expect(rebuild.code, rebuild.output).toBe(0);
    expect(rebuild.output).toMatch(/projections rebuilt from the event log/);
    expect(rebuild.output).toContain(`"events":${eventCount}`);

    const after = await snapshot();
    expect(after.tasks).toEqual(before.tasks);
    expect(after.workers).toEqual(before.workers);
    expect(after.projected).toBe(before.projected);
  });
});
