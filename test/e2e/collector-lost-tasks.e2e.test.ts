/**
 * The collector's lost-task policy end to end, with nothing faked: real Celery 5.2 workers (-E,
 * prefork) and Celery's client on the real RabbitMQ → the BUILT collector process → SQLite.
 * Proves that:
 * - a task STARTED on a worker SIGKILLed mid-task (main process and pool child) becomes LOST once
 *   the worker's heartbeats expire: a derived `task-lost` (source `collector:lost-tasks`, reason
 *   `heartbeat-timeout`) stamped at the expiry instant, the worker row offline by heartbeat
 *   timeout, the metric counted;
 * - a worker SIGKILLed and started again at once with the same node name (as systemd would),
 *   before its heartbeats expire, makes the task LOST with reason `worker-restarted`, stamped at
 *   the new worker-online; the worker row is online, and the new worker never sees the task (early
 *   ack: RabbitMQ does not redeliver it), so nothing undoes the verdict;
 * - a worker killed during its warm shutdown (SIGTERM, then SIGKILL: what Kubernetes does) leaves
 *   its running task LOST with reason `worker-offline`, stamped at its goodbye, once the drain
 *   window (CM_LOST_TASK_DRAIN_SECONDS) has passed;
 * - a warm shutdown (SIGTERM) while a task runs is no loss: the worker says goodbye, finishes the
 *   task, the task ends SUCCESS and no `task-lost` is ever stored for it;
 * - a broker reconnection of the worker while a task runs (its RabbitMQ connections closed by the
 *   broker, the collector's left alone) is no loss: Celery restarts its heart, saying goodbye and
 *   worker-online again (both counting the task), and the task stays STARTED for the rest of its
 *   run, with no `task-lost`; Celery 5.2 never sends the end of such a task, so once the worker
 *   reports running nothing (an idle heartbeat) and the grace has passed, the task is LOST with
 *   reason `worker-idle` (or, should Celery send the end after all, SUCCESS with no `task-lost`).
 * Each test has a collector of its own, started before its worker and killed after it, so it only
 * sees its own workers (all collectors consume every event of the broker's `celeryev` exchange).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore, TaskRecord, WorkerRecord } from '../../libs/state/src';
import { rabbitQueueCounts } from '../support/broker-admin';
import { sendTasks } from '../support/celery-client';
import { startCeleryWorker, uniqueNodeName, uniqueQueueName, type CeleryWorker } from '../support/celery-worker';
import { metricValue, openStoreForAssertions, startCollector, type CollectorProcess } from '../support/collector-process';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const SOURCE = 'rabbitmq';
const LOST_SOURCE = 'collector:lost-tasks';
const LOST_METRIC = 'celery_monitor_tasks_declared_lost_total';
const REASONS = ['heartbeat-timeout', 'worker-offline', 'worker-restarted', 'worker-idle'] as const;
/** The collector's CM_LOST_TASK_GRACE_SECONDS in these tests (default 10 s): how long a verdict must hold. */
const GRACE_SECONDS = 1;
/** Celery's default heartbeat interval (s) and the collector's default expiry factor. */
const CELERY_FREQ = 2;
const DEFAULT_EXPIRY_FACTOR = 2;
/** The collector's default CM_LIVENESS_INTERVAL_MS: how often lost tasks are looked for. */
const CHECK_INTERVAL_MS = 1000;

interface EventRow {
  position: number;
  type: string;
  source: string;
  hostname: string;
  uuid: string | null;
  timestamp: number;
  received_at: number;
  payload: string;
}

/** One test's world: a database, a collector on a queue of its own, a task queue, its workers. */
interface Scenario {
  readonly collector: CollectorProcess;
  readonly store: EventStore;
  readonly taskQueue: string;
  startWorker(nodeName: string): Promise<CeleryWorker>;
  task(uuid: string): Promise<TaskRecord | undefined>;
  worker(hostname: string): Promise<WorkerRecord | undefined>;
  /** Every stored event of a task (or, with `hostname`, of a worker), in log order. */
  eventsOf(filter: { uuid: string } | { hostname: string; type: string }): Promise<EventRow[]>;
  /** Waits until the task row's state is `state`; returns the row. */
  waitForState(uuid: string, state: string, timeoutMs: number): Promise<TaskRecord>;
  /**
   * Waits until /metrics counts, for every reason, exactly the `task-lost` events stored with that
   * reason (the same whatever else reaches the broker); returns the counts by reason.
   */
  metricMatchesLog(): Promise<Record<string, number>>;
}

/** Cleanups of the running test, run in reverse order after it (also when it fails). */
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop()!;
    await cleanup().catch(() => undefined);
  }
});

async function setUp(collectorEnv: Record<string, string> = {}): Promise<Scenario> {
  const db: TestDatabase = createTestDatabase('sqlite');
  cleanups.push(() => db.drop());
  const collectorQueue = uniqueQueueName('e2e-lost-collector');
  const taskQueue = uniqueQueueName('e2e-lost-q');
  cleanups.push(() => deleteTestQueue(AMQP_URL, collectorQueue));
  cleanups.push(() => deleteTestQueue(AMQP_URL, taskQueue));
  const collector = await startCollector({
    brokers: `${SOURCE}=${AMQP_URL}`,
    databaseUrl: db.url,
    amqpQueue: collectorQueue,
    env: { CM_LOST_TASK_GRACE_SECONDS: String(GRACE_SECONDS), ...collectorEnv },
  });
  cleanups.push(() => collector.kill());
  const store = await openStoreForAssertions(db.url);
  cleanups.push(() => store.close());

  const eventsOf: Scenario['eventsOf'] = async (filter) => {
    let query = store.database.db
      .selectFrom('events')
      .select(['position', 'type', 'source', 'hostname', 'uuid', 'timestamp', 'received_at', 'payload']);
    query = 'uuid' in filter ? query.where('uuid', '=', filter.uuid) : query.where('hostname', '=', filter.hostname).where('type', '=', filter.type);
    return query.orderBy('position').execute();
  };

  return {
    collector,
    store,
    taskQueue,
    startWorker: async (nodeName) => {
      const worker = await startCeleryWorker({ brokerUrl: AMQP_URL, nodeName, queues: [taskQueue], concurrency: 1, pool: 'prefork' });
      cleanups.push(() => worker.kill());
      return worker;
    },
    task: (uuid) => store.task(uuid),
    worker: (hostname) => store.worker(hostname),
    eventsOf,
    waitForState: (uuid, state, timeoutMs) =>
      waitFor(
        async () => {
          const row = await store.task(uuid);
          return row?.state === state ? row : undefined;
        },
        { timeoutMs, description: `task row ${uuid} in state ${state}` },
      ),
    metricMatchesLog: () =>
      waitFor(
        async () => {
          const lost = await store.database.db.selectFrom('events').select('payload').where('type', '=', 'task-lost').execute();
          const stored: Record<string, number> = {};
          for (const reason of REASONS) stored[reason] = 0;
          for (const e of lost) {
            const reason = String((JSON.parse(e.payload) as Record<string, unknown>)['reason']);
            stored[reason] = (stored[reason] ?? 0) + 1;
          }
          const metrics = await collector.metrics();
          const counted: Record<string, number> = {};
          for (const reason of Object.keys(stored)) counted[reason] = metricValue(metrics, LOST_METRIC, { reason });
          const total = metricValue(metrics, LOST_METRIC);
          const storedTotal = Object.values(stored).reduce((a, b) => a + b, 0);
          return JSON.stringify(counted) === JSON.stringify(stored) && total === storedTotal ? stored : undefined;
        },
        { timeoutMs: 5_000, description: `${LOST_METRIC} equal, reason by reason, to the task-lost events stored` },
      ),
  };
}

/** Living (not zombie) members of process group `pgid`, from /proc. */
function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
  }
  return members;
}

/** Sends sleep(seconds) to the scenario's queue and waits until the collector has it STARTED. */
async function sendSleepAndWaitStarted(s: Scenario, seconds: number, nodeName: string): Promise<TaskRecord> {
  const [id] = await sendTasks(AMQP_URL, [{ name: 'sleep', args: [seconds], queue: s.taskQueue }]);
  expect(id).toBeTypeOf('string');
  const started = await s.waitForState(id!, 'STARTED', 15_000);
  expect(started).toMatchObject({ name: 'sleep', worker: nodeName, source: SOURCE });
  expect(started.started_at).not.toBeNull();
  return started;
}

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The local ports of the established TCP connections to RabbitMQ (127.0.0.1:5672) that belong to
 * one of `pids`, ascending, from `ss -tnp` (the sockets' owners).
 */
async function amqpClientPorts(pids: readonly number[]): Promise<number[]> {
  const { stdout } = await run('ss', ['-tnpH', 'state', 'established', '( dport = :5672 )'], { timeout: 10_000 });
  const wanted = new Set(pids);
  const ports: number[] = [];
  for (const line of stdout.split('\n')) {
    const match = /\s127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:5672\s+users:\((.*)\)\s*$/.exec(line);
    if (!match) continue;
    const owners = [...match[2]!.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    if (owners.some((pid) => wanted.has(pid))) ports.push(Number(match[1]));
  }
  return ports.sort((a, b) => a - b);
}

/**
 * Closes, from the broker's side (`rabbitmqctl close_connection`, all at once), the RabbitMQ
 * connections whose client is 127.0.0.1 on one of `ports`; returns how many there were.
 */
async function closeRabbitConnectionsFromPorts(ports: readonly number[], reason: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', '--no-table-headers', 'pid', 'peer_host', 'peer_port'], { timeout: 30_000 });
  const wanted = new Set(ports);
  const connections = stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([pid, host, port]) => pid !== undefined && pid !== '' && host === '127.0.0.1' && wanted.has(Number(port)))
    .map(([pid]) => pid!);
  await Promise.all(connections.map((pid) => run('rabbitmqctl', ['-q', 'close_connection', pid, reason], { timeout: 30_000 })));
  return connections.length;
}

/** The `active` count a stored worker event reports (undefined when it has none). */
function activeOf(e: EventRow): unknown {
  return (JSON.parse(e.payload) as Record<string, unknown>)['active'];
}

describe('collector lost-task policy with real Celery workers (RabbitMQ + SQLite)', () => {
  it('declares LOST (heartbeat-timeout) a task whose worker was SIGKILLed mid-task, once its heartbeats expire', async () => {
    const s = await setUp();
    const node = uniqueNodeName('lost-kill');
    const worker = await s.startWorker(node);
    const started = await sendSleepAndWaitStarted(s, 60, node);
    const id = started.uuid;
    const startedAt = started.started_at!;

    // The prefork worker is its main process and its pool child, one process group: kill them all.
    const group = processGroupMembers(worker.pid);
    expect(group).toContain(worker.pid);
    expect(group.length, `process group ${worker.pid}: ${group.join(', ')}`).toBeGreaterThanOrEqual(2);
    const killedAt = Date.now() / 1000;
    await worker.kill();
    expect((await worker.exited).signal).toBe('SIGKILL');
    await waitFor(() => processGroupMembers(worker.pid).length === 0, {
      timeoutMs: 5_000,
      description: `no process left in the killed worker's group ${worker.pid}`,
    });
    // Nothing can end the task now: still STARTED until the heartbeats expire (at least 2 s away).
    expect((await s.task(id))?.state).toBe('STARTED');

    const lost = await s.waitForState(id, 'LOST', 15_000);
    const workerRow = (await s.worker(node))!;
    expect(workerRow).toMatchObject({ status: 'offline', offline_reason: 'heartbeat-timeout', source: SOURCE, freq: CELERY_FREQ });
    // The offline instant: the worker's last sign of life + freq × the expiry factor.
    expect(workerRow.offline_since!).toBeCloseTo(workerRow.last_seen_at! + CELERY_FREQ * DEFAULT_EXPIRY_FACTOR, 6);
    expect(workerRow.offline_since!).toBeGreaterThan(startedAt);

    // The task row: LOST at the offline instant, the rest of the row untouched.
    expect(lost).toMatchObject({ state: 'LOST', worker: node, source: SOURCE, started_at: startedAt, succeeded_at: null, failed_at: null, revoked_at: null, event_count: 4 });
    expect(lost.state_at).toBe(workerRow.offline_since);

    // The stored events: the task's three + the verdict; the worker's derived offline.
    const events = await s.eventsOf({ uuid: id });
    expect(events.map((e) => e.type).sort()).toEqual(['task-lost', 'task-received', 'task-sent', 'task-started']);
    const verdicts = events.filter((e) => e.type === 'task-lost');
    expect(verdicts).toHaveLength(1);
    const verdict = verdicts[0]!;
    expect(verdict).toMatchObject({ source: LOST_SOURCE, hostname: node, uuid: id, timestamp: workerRow.offline_since });
    expect(verdict.timestamp).toBeGreaterThanOrEqual(startedAt);
    expect(JSON.parse(verdict.payload)).toEqual({
      type: 'task-lost',
      uuid: id,
      hostname: node,
      timestamp: workerRow.offline_since,
      reason: 'heartbeat-timeout',
      started_at: startedAt,
      broker_source: SOURCE,
    });
    // Declared once the heartbeats had expired (2 to 4 s after the kill) and the grace had passed, not at the kill.
    expect(verdict.received_at).toBeGreaterThanOrEqual(killedAt + 1.5 + GRACE_SECONDS);
    expect(verdict.received_at).toBeLessThan(killedAt + 12);
    const offline = await s.eventsOf({ hostname: node, type: 'worker-offline' });
    expect(offline.map((e) => [e.source, (JSON.parse(e.payload) as Record<string, unknown>)['reason']])).toEqual([['collector:liveness', 'heartbeat-timeout']]);
    // The verdict follows the offline verdict it rests on.
    expect(verdict.position).toBeGreaterThan(offline[0]!.position);

    const counted = await s.metricMatchesLog();
    expect(counted['heartbeat-timeout']).toBeGreaterThanOrEqual(1);
    expect(s.collector.output()).toContain(`tasks declared lost: they were running on ${node}, which stopped sending heartbeats`);
  });

  it('declares LOST (worker-restarted) a task whose worker was SIGKILLed and started again at once with the same node name', async () => {
    // Heartbeats expire only after 2 s × 10: the restart, not a timeout, is what is detected.
    const s = await setUp({ CM_HEARTBEAT_EXPIRY_FACTOR: '10' });
    const node = uniqueNodeName('lost-restart');
    const first = await s.startWorker(node);
    const started = await sendSleepAndWaitStarted(s, 60, node);
    const id = started.uuid;
    const startedAt = started.started_at!;

    // As systemd would: SIGKILL (main process and pool child), then the same node again at once.
    const killedAt = Date.now() / 1000;
    await first.kill();
    await waitFor(() => processGroupMembers(first.pid).length === 0, {
      timeoutMs: 5_000,
      description: `no process left in the killed worker's group ${first.pid}`,
    });
    const second = await s.startWorker(node);

    const lost = await s.waitForState(id, 'LOST', 15_000);
    // Well before the heartbeats of the killed worker could have expired (20 s).
    expect(Date.now() / 1000 - killedAt).toBeLessThan(CELERY_FREQ * 10);

    const onlines = await s.eventsOf({ hostname: node, type: 'worker-online' });
    expect(onlines.map((e) => e.source)).toEqual([SOURCE, SOURCE]);
    const [firstOnline, secondOnline] = onlines.map((e) => e.timestamp) as [number, number];
    expect(firstOnline).toBeLessThan(startedAt);
    expect(secondOnline).toBeGreaterThan(startedAt);
    expect(secondOnline).toBeGreaterThanOrEqual(killedAt - 0.5);

    expect(lost).toMatchObject({ state: 'LOST', state_at: secondOnline, worker: node, source: SOURCE, started_at: startedAt, succeeded_at: null, failed_at: null, event_count: 4 });
    const workerRow = (await s.worker(node))!;
    expect(workerRow).toMatchObject({ status: 'online', offline_reason: null, offline_since: null, last_started_at: secondOnline, pid: second.pid });
    expect(second.pid).not.toBe(first.pid);

    const events = await s.eventsOf({ uuid: id });
    expect(events.map((e) => e.type).sort()).toEqual(['task-lost', 'task-received', 'task-sent', 'task-started']);
    const verdict = events.find((e) => e.type === 'task-lost')!;
    expect(verdict).toMatchObject({ source: LOST_SOURCE, hostname: node, uuid: id, timestamp: secondOnline });
    expect(JSON.parse(verdict.payload)).toEqual({
      type: 'task-lost',
      uuid: id,
      hostname: node,
      timestamp: secondOnline,
      reason: 'worker-restarted',
      started_at: startedAt,
      broker_source: SOURCE,
    });
    // No heartbeat timeout, no goodbye: the restart alone was detected.
    expect(await s.eventsOf({ hostname: node, type: 'worker-offline' })).toEqual([]);
    const counted = await s.metricMatchesLog();
    expect(counted['worker-restarted']).toBeGreaterThanOrEqual(1);
    expect(s.collector.output()).toContain(`tasks declared lost: they were running on ${node}, which started again since`);

    // Early ack: RabbitMQ holds nothing of the killed task (it was acknowledged before it ran), so
    // the new worker never receives it and nothing undoes the verdict — nor is it declared twice.
    expect(await rabbitQueueCounts(s.taskQueue)).toMatchObject({ ready: 0, unacknowledged: 0, consumers: 1 });
    await new Promise((r) => setTimeout(r, 2 * CHECK_INTERVAL_MS + 500));
    expect(second.output()).not.toContain(id);
    expect(second.isRunning()).toBe(true);
    expect((await s.eventsOf({ uuid: id })).map((e) => e.position)).toEqual(events.map((e) => e.position));
    expect(await s.task(id)).toEqual(lost);
    expect((await s.worker(node))?.status).toBe('online');
  });

  it('declares LOST (worker-offline) a task still running when its worker, in a warm shutdown, was killed, once the drain window has passed', async () => {
    const DRAIN_SECONDS = 4;
    const s = await setUp({ CM_LOST_TASK_DRAIN_SECONDS: String(DRAIN_SECONDS) });
    const node = uniqueNodeName('lost-drain');
    const worker = await s.startWorker(node);
    const started = await sendSleepAndWaitStarted(s, 60, node);
    const id = started.uuid;

    // As Kubernetes does: SIGTERM (Celery says goodbye and waits for the task), SIGKILL 1.5 s later.
    await worker.stop(1_500);
    expect((await worker.exited).signal).toBe('SIGKILL');
    expect(worker.output()).toMatch(/Warm shutdown/);
    const goodbyes = await waitFor(async () => {
      const rows = await s.eventsOf({ hostname: node, type: 'worker-offline' });
      return rows.length > 0 ? rows : undefined;
    }, { timeoutMs: 5_000, description: `the goodbye of ${node}` });
    expect(goodbyes.map((e) => [e.source, (JSON.parse(e.payload) as Record<string, unknown>)['active']])).toEqual([[SOURCE, 1]]);
    const goodbye = goodbyes[0]!;
    // The goodbye counted the task as running: a warm shutdown may still finish it.
    expect((await s.task(id))?.state).toBe('STARTED');

    const lost = await s.waitForState(id, 'LOST', 20_000);
    expect(lost).toMatchObject({ state_at: goodbye.timestamp, succeeded_at: null, event_count: 4 });
    const verdict = (await s.eventsOf({ uuid: id })).find((e) => e.type === 'task-lost')!;
    expect(JSON.parse(verdict.payload)).toMatchObject({ reason: 'worker-offline', timestamp: goodbye.timestamp, started_at: started.started_at });
    // Not before the drain window had passed since the verdict was first found (after the goodbye arrived).
    expect(verdict.received_at).toBeGreaterThanOrEqual(goodbye.received_at + DRAIN_SECONDS);
    expect(await s.worker(node)).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', offline_since: goodbye.timestamp });
    expect((await s.metricMatchesLog())['worker-offline']).toBe(1);
  });

  it('does not declare lost a task that a warmly stopped worker (SIGTERM) finished before exiting', async () => {
    const s = await setUp();
    const node = uniqueNodeName('lost-warm');
    const worker = await s.startWorker(node);
    const started = await sendSleepAndWaitStarted(s, 3, node);
    const id = started.uuid;
    const startedAt = started.started_at!;

    // Warm shutdown while the task runs: Celery finishes the task before it exits (exit code 0).
    await worker.stop(15_000);
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toMatch(/Warm shutdown/);
    expect(worker.output()).toMatch(new RegExp(`Task sleep\\[${id}\\] succeeded`));
    await s.waitForState(id, 'SUCCESS', 10_000);

    // Celery 5.2 says goodbye (its own worker-offline, `active: 1`) as the warm shutdown begins,
    // while the task still runs; the task's end comes after it. So the worker went offline after
    // the task started, counting it as running: the policy waits out the drain window
    // (CM_LOST_TASK_DRAIN_SECONDS), in which the task's end arrives.
    const goodbyes = await s.eventsOf({ hostname: node, type: 'worker-offline' });
    const goodbye = goodbyes.find((e) => e.source === SOURCE);
    expect(goodbye, JSON.stringify(goodbyes)).toBeDefined();
    expect(goodbye!.timestamp).toBeGreaterThan(startedAt);
    expect((JSON.parse(goodbye!.payload) as Record<string, unknown>)['active']).toBe(1);

    // Give the policy several checks (every CM_LIVENESS_INTERVAL_MS, 1 s by default) to get it wrong.
    await new Promise((r) => setTimeout(r, 3 * CHECK_INTERVAL_MS + 500));
    const events = await s.eventsOf({ uuid: id });
    const describeEvents = JSON.stringify(events.map((e) => [e.type, e.source, e.timestamp, e.received_at]));
    expect(events.filter((e) => e.type === 'task-lost'), `task-lost stored for a task finished during a warm shutdown; goodbye at ${goodbye!.timestamp}; task events: ${describeEvents}`).toEqual([]);
    expect(events.map((e) => e.type).sort()).toEqual(['task-received', 'task-sent', 'task-started', 'task-succeeded']);
    const row = (await s.task(id))!;
    expect(row).toMatchObject({ state: 'SUCCESS', result: '3', worker: node, source: SOURCE, event_count: 4, started_at: startedAt });
    expect(row.state_at).toBe(row.succeeded_at);
    // The worker stopped cleanly: offline since its goodbye (the task's end after it is no return),
    // never timed out by the liveness policy.
    expect(await s.worker(node)).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', offline_since: goodbye!.timestamp });
    expect((await s.eventsOf({ hostname: node, type: 'worker-offline' })).map((e) => e.source)).toEqual([SOURCE]);
    await s.metricMatchesLog();
    expect(s.collector.output()).not.toContain(`running on ${node}`);
  });

  it('does not declare lost a task whose worker reconnected to RabbitMQ while it ran; LOST (worker-idle) only once the worker reports idle, as Celery never sends its end', async () => {
    // Longer than the reconnection by far (it takes a few tens of ms here: measured and bounded
    // below) and short enough to watch several grace periods go by while the task runs.
    const RECONNECT_GRACE_SECONDS = 3;
    const SLEEP_SECONDS = 20;
    const s = await setUp({ CM_LOST_TASK_GRACE_SECONDS: String(RECONNECT_GRACE_SECONDS) });
    const node = uniqueNodeName('lost-reconnect');
    const worker = await s.startWorker(node);
    const started = await sendSleepAndWaitStarted(s, SLEEP_SECONDS, node);
    const id = started.uuid;
    const startedAt = started.started_at!;
    const succeededLine = new RegExp(`Task sleep\\[${id}\\] succeeded`);
    const workerEvents = (): Promise<EventRow[]> =>
      s.store.database.db
        .selectFrom('events')
        .select(['position', 'type', 'source', 'hostname', 'uuid', 'timestamp', 'received_at', 'payload'])
        .where('hostname', '=', node)
        .where('type', 'like', 'worker-%')
        .orderBy('position')
        .execute();
    const lostEvents = () => s.store.database.db.selectFrom('events').select(['uuid', 'payload']).where('type', '=', 'task-lost').execute();
    // The worker has told it runs the task before its connections drop.
    await waitFor(async () => (await workerEvents()).some((e) => e.type === 'worker-heartbeat' && e.timestamp > startedAt && activeOf(e) === 1), {
      timeoutMs: 3 * CELERY_FREQ * 1000,
      description: `a heartbeat of ${node} counting the running task`,
    });

    // Drop the worker's broker connections, and only them: its sockets (main process and pool
    // child, one process group) on RabbitMQ's port, matched by client port with the broker's
    // connections and closed by the broker. The collector's connections are not among them.
    const workerPorts = await amqpClientPorts(processGroupMembers(worker.pid));
    const collectorPorts = await amqpClientPorts([s.collector.pid]);
    expect(workerPorts.length, `the worker's AMQP sockets`).toBeGreaterThanOrEqual(1);
    expect(collectorPorts.length, `the collector's AMQP sockets`).toBeGreaterThanOrEqual(1);
    expect(workerPorts.filter((p) => collectorPorts.includes(p))).toEqual([]);
    const closingAt = Date.now() / 1000;
    expect(await closeRabbitConnectionsFromPorts(workerPorts, 'test: worker broker connection loss')).toBe(workerPorts.length);
    const closedAt = Date.now() / 1000;

    // Celery restarts its heart on the new connection: its own goodbye, then worker-online, both
    // counting the task still running (`active` 1).
    const reconnection = await waitFor(async () => {
      const events = await workerEvents();
      const goodbye = events.find((e) => e.type === 'worker-offline' && e.timestamp > startedAt);
      const online = events.find((e) => e.type === 'worker-online' && e.timestamp > startedAt);
      return goodbye && online ? { goodbye, online } : undefined;
    }, { timeoutMs: 10_000, description: `the goodbye and the worker-online of ${node} after its connections were closed` });
    const { goodbye, online } = reconnection;
    expect(goodbye).toMatchObject({ source: SOURCE, uuid: null });
    expect(online).toMatchObject({ source: SOURCE, uuid: null });
    expect(activeOf(goodbye)).toBe(1);
    expect(activeOf(online)).toBe(1);
    expect(online.position).toBeGreaterThan(goodbye.position);
    expect(online.timestamp).toBeGreaterThanOrEqual(goodbye.timestamp);
    expect(goodbye.timestamp).toBeGreaterThanOrEqual(closingAt - 0.5);
    // The reconnection is quick (tens of ms), far within the grace. (The worker row is offline only
    // between the two, and a goodbye said while the task runs waits the drain window anyway: what
    // keeps the task from being lost here is that the worker-online revives the worker.)
    const reconnectSeconds = online.timestamp - goodbye.timestamp;
    expect(reconnectSeconds).toBeLessThan(RECONNECT_GRACE_SECONDS / 3);
    expect(online.received_at - closedAt).toBeLessThan(RECONNECT_GRACE_SECONDS / 3);
    await worker.waitForLog(/CONNECTION_FORCED - test: worker broker connection loss/, 5_000);
    // New connections (new client ports); the collector kept its own and never reconnected.
    const newWorkerPorts = await waitFor(async () => {
      const ports = await amqpClientPorts(processGroupMembers(worker.pid));
      return ports.length >= 1 && ports.every((p) => !workerPorts.includes(p)) ? ports : undefined;
    }, { timeoutMs: 5_000, description: `new AMQP connections of ${node}` });
    expect(await amqpClientPorts([s.collector.pid])).toEqual(collectorPorts);
    expect(s.collector.logs().filter((l) => l.msg === 'consuming Celery events from RabbitMQ')).toHaveLength(1);
    // The reconnection's worker-online (counting the task) is no start: the worker started once.
    const [firstOnline] = (await workerEvents()).filter((e) => e.type === 'worker-online');
    expect(firstOnline!.timestamp).toBeLessThan(startedAt);
    expect(activeOf(firstOnline!)).toBe(0);

    // The rest of the task's run, polled every 0.5 s: no task-lost, the task STARTED (or SUCCESS,
    // should Celery deliver its end), the worker online, running.
    let polls = 0;
    let lastPollAt = 0;
    for (;;) {
      const ended = succeededLine.test(worker.output());
      expect(worker.isRunning()).toBe(true);
      const lost = await lostEvents();
      const taskTypes = (await s.eventsOf({ uuid: id })).map((e) => e.type);
      const row = (await s.task(id))!;
      const context = `poll ${polls}, ${(Date.now() / 1000 - closedAt).toFixed(1)} s after the connections were closed; task events: ${taskTypes.join(', ')}; task-lost: ${JSON.stringify(lost)}`;
      expect(lost, context).toEqual([]);
      expect(row.state, context).toBe(taskTypes.includes('task-succeeded') ? 'SUCCESS' : 'STARTED');
      expect(await s.worker(node), context).toMatchObject({ status: 'online', offline_reason: null, online_since: online.timestamp, last_started_at: firstOnline!.timestamp });
      polls += 1;
      lastPollAt = Date.now() / 1000;
      if (ended) break;
      expect(lastPollAt - started.started_at!, `the ${SLEEP_SECONDS} s task still running`).toBeLessThan(SLEEP_SECONDS + 10);
      await sleep(500);
    }
    // Watched for several grace periods after the reconnection.
    expect(lastPollAt - online.received_at).toBeGreaterThanOrEqual(4 * RECONNECT_GRACE_SECONDS);
    expect(polls).toBeGreaterThanOrEqual(4 * RECONNECT_GRACE_SECONDS);
    const endedAt = Date.now() / 1000;

    // The task's run is over. Celery 5.2.6 does not send the end of a task that ran across a
    // reconnection: then the worker's next heartbeat says it runs nothing (`active` 0), and once
    // that has held for the grace the task is LOST (worker-idle). Should Celery send the end after
    // all, the task is SUCCESS and never declared lost. Nothing else is acceptable.
    const outcome = await waitFor(async () => {
      const row = await s.task(id);
      return row?.state === 'LOST' || row?.state === 'SUCCESS' ? row : undefined;
    }, { timeoutMs: (CELERY_FREQ + RECONNECT_GRACE_SECONDS) * 1000 + 3 * CHECK_INTERVAL_MS + 5_000, description: `task ${id} LOST or SUCCESS after its end` });
    const events = await s.eventsOf({ uuid: id });
    const describeEvents = JSON.stringify(events.map((e) => [e.type, e.source, e.timestamp, e.received_at]));
    const workerRow = (await s.worker(node))!;
    expect(workerRow).toMatchObject({ status: 'online', offline_reason: null, offline_since: null, online_since: online.timestamp, last_started_at: firstOnline!.timestamp, last_goodbye_at: goodbye.timestamp, pid: worker.pid });
    if (outcome.state === 'LOST') {
      expect(events.map((e) => e.type).sort(), describeEvents).toEqual(['task-lost', 'task-received', 'task-sent', 'task-started']);
      const verdict = events.find((e) => e.type === 'task-lost')!;
      // Stamped at an idle report of the worker after the task's start (the first found: normally
      // the first idle heartbeat), declared no sooner than the grace after that report arrived.
      const idle = (await workerEvents()).filter((e) => e.timestamp > startedAt && activeOf(e) === 0 && e.source === SOURCE);
      expect(idle.length, describeEvents).toBeGreaterThanOrEqual(1);
      expect(idle[0]!.type).toBe('worker-heartbeat');
      const report = idle.find((e) => e.timestamp === verdict.timestamp);
      expect(report, `verdict at ${verdict.timestamp}; idle reports: ${JSON.stringify(idle.map((e) => [e.timestamp, e.received_at]))}`).toBeDefined();
      expect(report!.timestamp).toBeGreaterThan(online.timestamp);
      expect(verdict).toMatchObject({ source: LOST_SOURCE, hostname: node, uuid: id });
      expect(JSON.parse(verdict.payload)).toEqual({
        type: 'task-lost',
        uuid: id,
        hostname: node,
        timestamp: report!.timestamp,
        reason: 'worker-idle',
        started_at: startedAt,
        broker_source: SOURCE,
      });
      expect(verdict.received_at, `grace ${RECONNECT_GRACE_SECONDS} s after the idle report received at ${report!.received_at}`).toBeGreaterThanOrEqual(report!.received_at + RECONNECT_GRACE_SECONDS);
      expect(verdict.received_at).toBeLessThan(idle[0]!.received_at + RECONNECT_GRACE_SECONDS + CELERY_FREQ + 2 * CHECK_INTERVAL_MS / 1000 + 1);
      expect(outcome).toMatchObject({ state: 'LOST', state_at: report!.timestamp, worker: node, source: SOURCE, started_at: startedAt, succeeded_at: null, failed_at: null, event_count: 4 });
      expect((await s.metricMatchesLog())['worker-idle']).toBe(1);
      expect(s.collector.output()).toContain(`tasks declared lost: they were running on ${node}, which reported running no task since`);
    } else {
      expect(events.map((e) => e.type).sort(), describeEvents).toEqual(['task-received', 'task-sent', 'task-started', 'task-succeeded']);
      expect(outcome).toMatchObject({ state: 'SUCCESS', result: String(SLEEP_SECONDS), worker: node, started_at: startedAt });
      // Idle heartbeats follow, and the policy gets several checks to get it wrong.
      await sleep((CELERY_FREQ + 2 * RECONNECT_GRACE_SECONDS) * 1000 + CHECK_INTERVAL_MS);
      expect(await lostEvents()).toEqual([]);
      expect((await s.task(id))?.state).toBe('SUCCESS');
    }
    // The worker's only goodbye was the reconnection's; no heartbeat timeout.
    expect((await workerEvents()).filter((e) => e.type === 'worker-offline').map((e) => e.position)).toEqual([goodbye.position]);
    if (process.env['CM_TEST_VERBOSE']) {
      console.log(JSON.stringify({
        outcome: outcome.state,
        reconnectSeconds,
        closeCommandSeconds: closedAt - closingAt,
        onlineStoredAfterCloseSeconds: online.received_at - closedAt,
        workerPorts,
        newWorkerPorts,
        collectorPorts,
        polls,
        watchedAfterReconnectSeconds: lastPollAt - online.received_at,
        verdictAfterEndSeconds: Date.now() / 1000 - endedAt,
      }));
    }
  }, 120_000);
});
