/**
 * The collector process does not declare workers offline while it is behind (RabbitMQ + SQLite):
 * "behind" as Collector.isBehind defines it — a received event has waited more than 1 s for its
 * commit (here: commits are held back by a 60 s batch delay) — because the sign of life of a worker
 * that looks expired in the database may be among those events. Two workers are expired in the
 * database before the collector starts; a fresh heartbeat of one of them arrives and waits
 * uncommitted for longer than their expiry window. Proves: nobody is declared offline meanwhile;
 * once the batch commits, the silent worker is declared offline (`heartbeat-timeout`) and the one
 * whose heartbeat was waiting is not.
 */
import * as amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../libs/state/src';
import { uniqueQueueName } from '../support/celery-worker';
import { metricValue, openStoreForAssertions, startCollector, type CollectorProcess } from '../support/collector-process';
import { heartbeat } from '../support/event-factory';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
/** Heartbeat interval the two workers announced: with the expiry factor 2, a 10 s window. */
const FREQ = 5;
const WINDOW_SECONDS = FREQ * 2;
/** Prefetch of the collector: this many waiting deliveries commit at once (the only early commit). */
const PREFETCH = 2;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('collector liveness while behind (RabbitMQ + SQLite)', () => {
  const run = randomBytes(4).toString('hex');
  const collectorQueue = uniqueQueueName('e2e-liveness-collector');
  const busy = `celery@busy-${run}`;
  const silent = `celery@silent-${run}`;
  let db: TestDatabase | undefined;
  let collector: CollectorProcess | undefined;
  let store: EventStore | undefined;
  let connection: amqp.ChannelModel | undefined;

  const publishHeartbeat = async (hostname: string, clock: number, freq: number): Promise<void> => {
    const channel = await connection!.createConfirmChannel();
    try {
      const body = { type: 'worker-heartbeat', hostname, timestamp: Date.now() / 1000, clock, freq, active: 0, processed: clock, utcoffset: 0, pid: 4242 };
      channel.publish('celeryev', 'worker.heartbeat', Buffer.from(JSON.stringify(body)), {
        contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 1, headers: { hostname },
      });
      await channel.waitForConfirms();
    } finally {
      await channel.close().catch(() => undefined);
    }
  };

  beforeAll(async () => {
    db = createTestDatabase('sqlite');
    // Both workers were last heard of 100 s ago on the 'rabbitmq' source: expired in the database.
    const seed = await EventStore.open(db.url);
    const longAgo = Date.now() / 1000 - 100;
    await seed.append({
      events: [busy, silent].map((hostname) => ({ ...heartbeat(hostname, longAgo, 1, { freq: FREQ }), received_at: longAgo })),
      rejected: [],
    });
    expect((await seed.expiredWorkers(Date.now() / 1000)).map((w) => w.hostname).sort()).toEqual([busy, silent].sort());
    await seed.close();
    connection = await amqp.connect(AMQP_URL);
    connection.on('error', () => undefined);
  });

  afterAll(async () => {
    await collector?.kill();
    await store?.close();
    await connection?.close().catch(() => undefined);
    await deleteTestQueue(AMQP_URL, collectorQueue).catch(() => undefined);
    await db?.drop();
  });

  it('declares nobody offline while a received event waits for its commit, then only the worker that is really silent', async () => {
    collector = await startCollector({
      brokers: `rabbitmq=${AMQP_URL}`,
      databaseUrl: db!.url,
      amqpQueue: collectorQueue,
      env: { CM_BATCH_MAX_DELAY_MS: '60000', CM_AMQP_PREFETCH: String(PREFETCH), CM_LIVENESS_INTERVAL_MS: '100' },
    });
    const c = collector;
    store = await openStoreForAssertions(db!.url);
    const source = (await c.readiness()).body.checks.find((x) => x.name === 'source:rabbitmq');
    const connectedSince = Date.parse(/connected since (\S+)/.exec(source?.detail ?? '')?.[1] ?? '') / 1000;
    expect(connectedSince, source?.detail).toBeGreaterThan(0);

    // The busy worker's fresh heartbeat (announcing a long interval, so it stays alive for a
    // while once stored) arrives and waits for its batch: from 1 s on, the collector is behind.
    await publishHeartbeat(busy, 2, 30);
    await waitFor(async () => metricValue(await c.metrics(), 'celery_monitor_pending_events') >= 1, { timeoutMs: 10_000, description: 'the heartbeat pending' });
    const lag = metricValue(await c.metrics(), 'celery_monitor_consumer_lag_seconds', { source: 'rabbitmq' });
    const receivedAt = Date.now() / 1000 - lag;
    // Precondition: it arrived well before the source had been connected for a whole window (when
    // the workers could first be judged), so the collector was behind before that instant.
    expect(receivedAt + 1, 'the heartbeat must arrive more than 1 s before the first judgement could be made').toBeLessThan(connectedSince + WINDOW_SECONDS);

    // Past the window, with 10 liveness checks to spare: nobody was judged.
    await sleep(Math.max(0, (connectedSince + WINDOW_SECONDS + 1) * 1000 - Date.now()));
    const behind = await c.metrics();
    expect(metricValue(behind, 'celery_monitor_workers_declared_offline_total')).toBe(0);
    expect((await store.readEvents(0, 1000)).filter((e) => e.type === 'worker-offline')).toEqual([]);
    expect((await store.allWorkers()).map((w) => [w.hostname, w.status]).sort()).toEqual([[busy, 'online'], [silent, 'online']].sort());
    // …and the collector was behind all along: the heartbeat still waits for its commit.
    expect(metricValue(behind, 'celery_monitor_consumer_lag_seconds', { source: 'rabbitmq' })).toBeGreaterThan(1);

    // Another delivery fills the window (the prefetch): the batch commits, the collector is caught up.
    await publishHeartbeat(`celery@filler-${run}`, 1, 2);
    const declared = await waitFor(async () => {
      const row = await store!.worker(silent);
      return row?.status === 'offline' ? row : undefined;
    }, { timeoutMs: 10_000, description: `${silent} declared offline once caught up` });
    expect(declared.offline_reason).toBe('heartbeat-timeout');
    const busyRow = await store.worker(busy);
    expect(busyRow).toMatchObject({ status: 'online', freq: 30 });
    const offline = (await store.readEvents(0, 1000)).filter((e) => e.type === 'worker-offline');
    expect(offline.map((e) => [e.hostname, e.source, e.payload['reason']])).toEqual([[silent, 'collector:liveness', 'heartbeat-timeout']]);
    expect(metricValue(await c.metrics(), 'celery_monitor_workers_declared_offline_total')).toBe(1);
  });
});
