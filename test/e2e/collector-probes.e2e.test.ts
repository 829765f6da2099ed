/**
 * The collector's probes, on the process as operators run it (RabbitMQ + SQLite):
 * - /metrics exports `celery_monitor_batch_commit_seconds` (a histogram whose count and sum grow
 *   with each commit) and `celery_monitor_database_size_bytes` (the SQLite file and its WAL);
 * - /readyz answers 503 naming the `database` check while the database does not take writes — a
 *   real condition: another connection holds SQLite's write lock, so the collector's write probe
 *   (BEGIN IMMEDIATE) cannot get it — and 200 again once the lock is released;
 * - /readyz answers 503 naming the `lag` check while a received event has waited longer than
 *   CM_READY_MAX_LAG_SECONDS for its commit, and 200 again once it is committed.
 */
import * as amqp from 'amqplib';
import BetterSqlite3 from 'better-sqlite3';
import { statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../libs/state/src';
import { uniqueQueueName } from '../support/celery-worker';
import { metricSamples, metricValue, openStoreForAssertions, startCollector, type CollectorProcess, type ReadinessBody } from '../support/collector-process';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';

type Check = ReadinessBody['checks'][number];

function check(body: ReadinessBody, name: string): Check {
  const found = body.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check in ${JSON.stringify(body)}`);
  return found;
}

describe('collector probes (RabbitMQ + SQLite)', () => {
  const run = randomBytes(4).toString('hex');
  const queues = { live: uniqueQueueName('e2e-probes-collector'), slow: uniqueQueueName('e2e-probes-slow-collector') };
  const dbs: TestDatabase[] = [];
  const collectors: CollectorProcess[] = [];
  const stores: EventStore[] = [];
  let connection: amqp.ChannelModel | undefined;
  let clock = 0;

  /** Publishes `count` worker-heartbeats of `hostname` on celeryev; resolves once RabbitMQ has them. */
  const publishHeartbeats = async (hostname: string, count: number, extra: Record<string, unknown> = {}): Promise<void> => {
    const channel = await connection!.createConfirmChannel();
    try {
      for (let i = 0; i < count; i += 1) {
        clock += 1;
        const body = { type: 'worker-heartbeat', hostname, timestamp: Date.now() / 1000, clock, freq: 2, active: 0, processed: clock, ...extra };
        channel.publish('celeryev', 'worker.heartbeat', Buffer.from(JSON.stringify(body)), {
          contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 1, headers: { hostname },
        });
      }
      await channel.waitForConfirms();
    } finally {
      await channel.close().catch(() => undefined);
    }
  };

  const storedCount = async (store: EventStore, hostname: string): Promise<number> =>
    (await store.readEvents(0, 100_000)).filter((e) => e.hostname === hostname).length;

  beforeAll(async () => {
    connection = await amqp.connect(AMQP_URL);
    connection.on('error', () => undefined);
  });

  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.kill()));
    for (const s of stores) await s.close();
    await connection?.close().catch(() => undefined);
    for (const q of Object.values(queues)) await deleteTestQueue(AMQP_URL, q).catch(() => undefined);
    for (const db of dbs) await db.drop();
  });

  describe('with the default batch delay', () => {
    let db: TestDatabase;
    let collector: CollectorProcess;
    let store: EventStore;

    beforeAll(async () => {
      db = createTestDatabase('sqlite');
      dbs.push(db);
      collector = await startCollector({ brokers: `rabbitmq=${AMQP_URL}`, databaseUrl: db.url, amqpQueue: queues.live });
      collectors.push(collector);
      store = await openStoreForAssertions(db.url);
      stores.push(store);
    });

    it('exports celery_monitor_batch_commit_seconds, whose count and sum grow with each commit, and celery_monitor_database_size_bytes', async () => {
      const hostname = `celery@probes-${run}`;
      const before = await collector.metrics();
      expect(before).toContain('# TYPE celery_monitor_batch_commit_seconds histogram');
      expect(before).toContain('# TYPE celery_monitor_database_size_bytes gauge');
      const count0 = metricValue(before, 'celery_monitor_batch_commit_seconds_count');
      const sum0 = metricValue(before, 'celery_monitor_batch_commit_seconds_sum');

      for (let round = 1; round <= 2; round += 1) {
        await publishHeartbeats(hostname, 3);
        await waitFor(async () => (await storedCount(store, hostname)) === 3 * round, { timeoutMs: 15_000, description: `${3 * round} heartbeats stored` });
      }
      const after = await collector.metrics();
      const count1 = metricValue(after, 'celery_monitor_batch_commit_seconds_count');
      // Two rounds, each committed after the previous one was stored: at least two more commits.
      expect(count1).toBeGreaterThanOrEqual(count0 + 2);
      expect(metricValue(after, 'celery_monitor_batch_commit_seconds_sum')).toBeGreaterThan(sum0);
      const buckets = metricSamples(after, 'celery_monitor_batch_commit_seconds_bucket');
      expect(buckets.find((b) => b.labels['le'] === '+Inf')?.value).toBe(count1);
      const counts = buckets.map((b) => b.value);
      expect(counts).toEqual([...counts].sort((a, b) => a - b)); // cumulative

      // The size of the database: at least its main file (plus the WAL), never 0.
      const size = metricValue(after, 'celery_monitor_database_size_bytes');
      expect(size).toBeGreaterThan(0);
      expect(size).toBeGreaterThanOrEqual(statSync(db.url.slice('sqlite:'.length)).size);
    });

    it('reports not ready, naming the database, while another connection holds the SQLite write lock; ready again once it is released', async () => {
      const ready = await collector.readiness();
      expect(ready.status).toBe(200);
      expect(check(ready.body, 'database')).toMatchObject({ ok: true, detail: expect.stringMatching(/^writable \(sqlite:/) });

      const locker = new BetterSqlite3(db.url.slice('sqlite:'.length));
      try {
        locker.pragma('busy_timeout = 10000');
        locker.exec('BEGIN IMMEDIATE'); // the write lock: no other connection can write now
        const notReady = await waitFor(async () => {
          const r = await collector.readiness();
          return r.status === 503 ? r.body : undefined;
        }, { timeoutMs: 20_000, intervalMs: 200, description: '/readyz 503 while the write lock is held elsewhere' });
        expect(notReady.status).toBe('not ready');
        expect(check(notReady, 'database')).toMatchObject({ ok: false, detail: expect.stringMatching(/^not writable: /) });
        // Only the database is named.
        expect(notReady.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['database']);
      } finally {
        locker.exec('ROLLBACK');
        locker.close();
      }
      const again = await waitFor(async () => {
        const r = await collector.readiness();
        return r.status === 200 ? r.body : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200, description: '/readyz 200 once the write lock is released' });
      expect(check(again, 'database').ok).toBe(true);
    });
  });

  describe('with CM_READY_MAX_LAG_SECONDS=1 and commits held back', () => {
    const PREFETCH = 5;
    let db: TestDatabase;
    let collector: CollectorProcess;
    let store: EventStore;

    beforeAll(async () => {
      db = createTestDatabase('sqlite');
      dbs.push(db);
      // A partial batch waits up to 60 s; a full delivery window (the prefetch) commits at once.
      collector = await startCollector({
        brokers: `rabbitmq=${AMQP_URL}`,
        databaseUrl: db.url,
        amqpQueue: queues.slow,
        env: { CM_BATCH_MAX_DELAY_MS: '60000', CM_AMQP_PREFETCH: String(PREFETCH), CM_READY_MAX_LAG_SECONDS: '1' },
      });
      collectors.push(collector);
      store = await openStoreForAssertions(db.url);
      stores.push(store);
    });

    it('reports not ready, naming the lag, while a received event has waited longer than CM_READY_MAX_LAG_SECONDS; ready again once it is committed', async () => {
      const hostname = `celery@lag-${run}`;
      expect((await collector.readiness()).status).toBe(200);

      await publishHeartbeats(hostname, 1);
      const notReady = await waitFor(async () => {
        const r = await collector.readiness();
        return r.status === 503 ? r.body : undefined;
      }, { timeoutMs: 15_000, description: '/readyz 503 while an event waits for its commit' });
      const lag = check(notReady, 'lag');
      expect(lag.ok).toBe(false);
      const waited = /^oldest uncommitted event (\d+(?:\.\d+)?) s \(max 1\)/.exec(lag.detail);
      expect(waited, lag.detail).not.toBeNull();
      expect(Number(waited![1])).toBeGreaterThanOrEqual(1); // more than 1 s, shown to one decimal
      expect(notReady.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['lag']);
      expect(await storedCount(store, hostname)).toBe(0);

      // Fill the delivery window: the batch commits at once, and the lag is gone.
      await publishHeartbeats(hostname, PREFETCH - 1);
      await waitFor(async () => (await storedCount(store, hostname)) === PREFETCH, { timeoutMs: 15_000, description: `${PREFETCH} heartbeats stored` });
      const ready = await waitFor(async () => {
        const r = await collector.readiness();
        return r.status === 200 ? r.body : undefined;
      }, { timeoutMs: 15_000, description: '/readyz 200 once the event is committed' });
      expect(check(ready, 'lag')).toMatchObject({ ok: true, detail: expect.stringMatching(/^oldest uncommitted event 0\.0 s \(max 1\)/) });
    });
  });
});
