/**
 * Graceful shutdown of the collector process (RabbitMQ + SQLite): with a batch delay of 60 s no
 * batch commits on its own, so when Celery-shaped events (task events, heartbeats, a task.multi
 * body) have reached the collector they are all held received-but-uncommitted — hence unacknowledged
 * in its durable queue. Then SIGTERM. Proves that the collector commits what it holds, exits 0,
 * stores every event exactly once (and projects it), and acknowledges the messages only after the
 * commit: none is left in the queue, neither ready nor unacknowledged. And that a shutdown stuck
 * behind another connection's SQLite write lock ends with exit code 1 once its timeout passes,
 * acknowledging nothing (Node used to abort: its writer thread was ended inside SQLite).
 */
import * as amqp from 'amqplib';
import BetterSqlite3 from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbitQueueCounts } from '../support/broker-admin';
import { uniqueQueueName } from '../support/celery-worker';
import { metricValue, openStoreForAssertions, startCollector, type CollectorProcess } from '../support/collector-process';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const TASKS = 6;

type Fields = Record<string, unknown> & { type: string; hostname: string; clock: number; uuid?: string };

describe('collector graceful shutdown (RabbitMQ + SQLite)', () => {
  const collectorQueue = uniqueQueueName('e2e-shutdown-collector');
  const run = randomBytes(4).toString('hex');
  const worker = `celery@shutdown-${run}`;
  const client = `gen4242@shutdown-${run}`;
  let db: TestDatabase | undefined;
  let collector: CollectorProcess | undefined;
  let connection: amqp.ChannelModel | undefined;

  beforeAll(async () => {
    db = createTestDatabase('sqlite');
    connection = await amqp.connect(AMQP_URL);
    connection.on('error', () => undefined);
  });

  afterAll(async () => {
    await collector?.kill();
    await connection?.close().catch(() => undefined);
    await deleteTestQueue(AMQP_URL, collectorQueue).catch(() => undefined);
    await db?.drop();
  });

  it('on SIGTERM commits what it has received, exactly once, acknowledges it after the commit and exits 0', async () => {
    collector = await startCollector({
      brokers: `rabbitmq=${AMQP_URL}`,
      databaseUrl: db!.url,
      amqpQueue: collectorQueue,
      env: { CM_BATCH_MAX_DELAY_MS: '60000' },
    });

    // Celery-shaped traffic: per task a task-sent (client) and task-received/started/succeeded
    // (worker), the worker's online event and heartbeats, and one task.multi body of two events.
    const now = Date.now() / 1000;
    let clock = 0;
    const ev = (type: string, extra: Record<string, unknown> = {}, hostname = worker): Fields => ({
      type, hostname, clock: ++clock, timestamp: now + clock / 1000, utcoffset: 0, pid: 4242, ...extra,
    });
    const messages: { routingKey: string; body: Fields | Fields[] }[] = [
      { routingKey: 'worker.online', body: ev('worker-online', { freq: 2, sw_ident: 'py-celery', sw_ver: '5.2.6', sw_sys: 'Linux' }) },
    ];
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i += 1) {
      const uuid = randomUUID();
      ids.push(uuid);
      const task = { uuid, root_id: uuid, parent_id: null };
      messages.push(
        { routingKey: 'task.sent', body: ev('task-sent', { ...task, name: 'add', args: `(${i}, 1)`, kwargs: '{}', retries: 0, eta: null, expires: null, queue: 'celery' }, client) },
        { routingKey: 'task.received', body: ev('task-received', { ...task, name: 'add', args: `(${i}, 1)`, kwargs: '{}', retries: 0, eta: null, expires: null }) },
      );
      if (i === TASKS - 1) {
        messages.push({ routingKey: 'task.multi', body: [ev('task-started', { uuid }), ev('task-succeeded', { uuid, result: String(i + 1), runtime: 0.001 })] });
      } else {
        messages.push(
          { routingKey: 'task.started', body: ev('task-started', { uuid }) },
          { routingKey: 'task.succeeded', body: ev('task-succeeded', { uuid, result: String(i + 1), runtime: 0.001 }) },
        );
      }
      messages.push({ routingKey: 'worker.heartbeat', body: ev('worker-heartbeat', { freq: 2, active: 0, processed: i + 1, loadavg: [0.1, 0.2, 0.3] }) });
    }
    const published = messages.flatMap((m) => (Array.isArray(m.body) ? m.body : [m.body]));
    expect(published).toHaveLength(1 + 5 * TASKS);

    const channel = await connection!.createConfirmChannel();
    await channel.assertExchange('celeryev', 'topic', { durable: true, autoDelete: false });
    for (const m of messages) {
      channel.publish('celeryev', m.routingKey, Buffer.from(JSON.stringify(m.body)), {
        contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, headers: { hostname: worker },
      });
    }
    await channel.waitForConfirms();
    await channel.close();

    // The collector holds them all: received, waiting for their batch (its pending gauge), none
    // committed, every message delivered to it and unacknowledged.
    await waitFor(async () => metricValue(await collector!.metrics(), 'celery_monitor_pending_events') >= published.length, {
      timeoutMs: 15_000, description: `${published.length} events pending in the collector`,
    });
    const held = await waitFor(async () => {
      const counts = await rabbitQueueCounts(collectorQueue);
      return counts !== null && counts.ready === 0 && counts.unacknowledged >= messages.length ? counts : undefined;
    }, { timeoutMs: 15_000, description: `${messages.length} unacknowledged messages in ${collectorQueue}` });
    expect(held.consumers).toBe(1);
    const store = await openStoreForAssertions(db!.url);
    try {
      const mine = async () => (await store.readEvents(0, 100_000)).filter((e) => e.hostname === worker || e.hostname === client);
      expect(await mine(), 'nothing is committed before SIGTERM').toEqual([]);
      expect(metricValue(await collector.metrics(), 'celery_monitor_batch_commit_seconds_count')).toBe(0);

      await collector.stop(); // SIGTERM; throws unless the process exits with code 0
      expect(await collector.exited).toEqual({ code: 0, signal: null });
      const logs = collector.logs();
      const shutdown = logs.find((l) => l.msg === 'shutting down: stopping deliveries, committing what arrived');
      expect(shutdown?.pending).toBeGreaterThanOrEqual(published.length);
      expect(logs.some((l) => l.msg === 'collector stopped cleanly')).toBe(true);

      // Every event stored, exactly once, as published.
      const stored = await mine();
      const key = (e: { hostname: unknown; clock: unknown; type: unknown }) => `${String(e.hostname)}/${String(e.clock)}/${String(e.type)}`;
      expect(stored.map(key).sort()).toEqual(published.map(key).sort());
      expect(new Set(stored.map((e) => e.dedup_key)).size).toBe(stored.length);
      expect(stored.every((e) => e.source === 'rabbitmq')).toBe(true);
      // …and projected in the same transaction.
      expect(await store.projectionPosition()).toBe(await store.lastPosition());
      const tasks = await Promise.all(ids.map((id) => store.task(id)));
      expect(tasks.map((t) => [t?.state, t?.result])).toEqual(ids.map((_, i) => ['SUCCESS', String(i + 1)]));
      expect(await store.worker(worker)).toMatchObject({ status: 'online', processed: TASKS, source: 'rabbitmq' });
    } finally {
      await store.close();
    }

    // Acknowledged after the commit: nothing of it is left in, or went back to, the queue (an
    // unacknowledged message returns to "ready" when the collector's connection closes).
    expect(await rabbitQueueCounts(collectorQueue)).toEqual({ ready: 0, unacknowledged: 0, consumers: 0 });
  });
  it('on SIGTERM while another connection holds the SQLite write lock past the shutdown timeout: exits 1 (not a Node abort), acknowledging nothing', async () => {
    const lockedDb = createTestDatabase('sqlite');
    const queue = uniqueQueueName('e2e-shutdown-locked');
    const c = await startCollector({
      brokers: `rabbitmq=${AMQP_URL}`,
      databaseUrl: lockedDb.url,
      amqpQueue: queue,
      env: { CM_SHUTDOWN_TIMEOUT_MS: '1000' },
    });
    const locker = new BetterSqlite3(lockedDb.url.slice('sqlite:'.length));
    try {
      locker.exec('BEGIN IMMEDIATE'); // the write lock: the collector's commits wait out its 10 s busy timeout
      const channel = await connection!.createConfirmChannel();
      const host = `celery@locked-${run}`;
      channel.publish('celeryev', 'worker.heartbeat', Buffer.from(JSON.stringify({ type: 'worker-heartbeat', hostname: host, timestamp: Date.now() / 1000, clock: 1 })), {
        contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, headers: { hostname: host },
      });
      await channel.waitForConfirms();
      await channel.close();
      await waitFor(async () => (await rabbitQueueCounts(queue))?.unacknowledged === 1 || undefined, { timeoutMs: 15_000, description: 'the heartbeat delivered, waiting for its commit' });
      await new Promise((resolve) => setTimeout(resolve, 300)); // its commit is now inside SQLite's busy wait
      c.signal('SIGTERM');
      const exited = await Promise.race([c.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 30_000))]);
      expect(exited, c.output().slice(-3000)).toEqual({ code: 1, signal: null }); // Node aborted (SIGABRT) before
      expect(c.logs().some((l) => l.msg === 'graceful shutdown took too long; exiting (unacknowledged messages will be redelivered)')).toBe(true);
      locker.exec('ROLLBACK');
      expect(await rabbitQueueCounts(queue)).toMatchObject({ ready: 1, unacknowledged: 0 }); // redelivered on the next start
    } finally {
      locker.close();
      await c.kill();
      await deleteTestQueue(AMQP_URL, queue).catch(() => undefined);
      await lockedDb.drop();
    }
  }, 60_000);
});

