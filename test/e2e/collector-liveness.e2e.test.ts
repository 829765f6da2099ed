/**
 * The collector process judges liveness on what it has received, committed or not (RabbitMQ +
 * SQLite): before declaring a worker offline it commits the events waiting for their batch (here
 * a 60 s batch delay holds them), because the sign of life of a worker that looks expired in the
 * database may be among them. Two workers are expired in the database before the collector starts;
 * a fresh heartbeat of one of them arrives and would wait 60 s for its batch. Proves: once the
 * source has been connected for a whole expiry window, the silent worker is declared offline
 * (`heartbeat-timeout`) and the one whose heartbeat was waiting is not, and that heartbeat was
 * committed long before its batch delay. (Not judging while events have waited over 1 s for
 * their commit, or while the broker holds a backlog, is proved in liveness-policy.test.ts.)
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
/** Prefetch of the collector: two waiting deliveries would commit at once; one waits for its batch. */
const PREFETCH = 2;

describe('collector liveness with events waiting for their batch (RabbitMQ + SQLite)', () => {
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

  it('commits a waiting heartbeat before judging: its worker stays online, the silent one goes offline, without waiting for the batch', async () => {
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
    // while once stored) arrives; its batch would wait 60 s (CM_BATCH_MAX_DELAY_MS).
    await publishHeartbeat(busy, 2, 30);

    // Once the source has been connected for a whole window, the two workers may be judged: the
    // check commits the waiting heartbeat first, so only the silent worker is declared offline.
    const declared = await waitFor(async () => {
      const row = await store!.worker(silent);
      return row?.status === 'offline' ? row : undefined;
    }, { timeoutMs: (WINDOW_SECONDS + 10) * 1000, description: `${silent} declared offline` });
    expect(Date.now() / 1000).toBeGreaterThanOrEqual(connectedSince + WINDOW_SECONDS);
    expect(declared.offline_reason).toBe('heartbeat-timeout');
    expect(await store.worker(busy)).toMatchObject({ status: 'online', freq: 30 });
    const offline = (await store.readEvents(0, 1000)).filter((e) => e.type === 'worker-offline');
    expect(offline.map((e) => [e.hostname, e.source, e.payload['reason']])).toEqual([[silent, 'collector:liveness', 'heartbeat-timeout']]);
    // Judged only once the source had been connected for a whole window of the workers.
    expect(offline[0]!.received_at).toBeGreaterThanOrEqual(connectedSince + WINDOW_SECONDS);
    const metrics = await c.metrics();
    expect(metricValue(metrics, 'celery_monitor_workers_declared_offline_total')).toBe(1);
    expect(metricValue(metrics, 'celery_monitor_pending_events')).toBe(0); // committed long before its 60 s delay
  });
});
