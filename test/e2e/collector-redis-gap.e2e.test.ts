/**
 * Redis gaps, end to end: the collector process on a Redis source (database 5, a source name of
 * its own) and SQLite. Its subscriber connection is killed on the real Redis (CLIENT KILL, by the
 * connection name the collector gives it), then the collector is restarted. Proves that:
 * - a very first start records no gap (there was nothing to miss);
 * - after the resubscription the collector appends a `collector-gap` event (source
 *   `collector:gap`, reason `resubscribed`) naming the interval it was not listening, between the
 *   events before and after it in the log, counts it in celery_monitor_source_gaps_total, and
 *   broadcasts `heartbeat` on kombu's celery.pidbox channel (`/5.celery.pidbox`) after resubscribing;
 * - a restart records the gap since the newest event this source ever stored (`collector-started`),
 *   and broadcasts `heartbeat` again.
 */
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, StoredEvent } from '../../libs/state/src';
import { kombuEnvelope } from '../../libs/broker/src/redis/kombu-envelope';
import { killRedisClients } from '../support/broker-admin';
import { metricValue, openStoreForAssertions, startCollector, type CollectorProcess } from '../support/collector-process';
import { createTestDatabase, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const REDIS_URL = 'redis://127.0.0.1:6379/5';
/** kombu's channel for the celery.pidbox fanout exchange on database 5 (fanout_prefix on). */
const PIDBOX_CHANNEL = '/5.celery.pidbox';

interface Broadcast {
  receivedAt: number;
  exchange: string;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
}

function decodeBroadcast(message: string, receivedAt: number): Broadcast {
  const envelope = JSON.parse(message) as { body: string; headers: Record<string, unknown>; properties: { delivery_info: { exchange: string }; body_encoding: string } };
  expect(envelope.properties.body_encoding).toBe('base64');
  return {
    receivedAt,
    exchange: envelope.properties.delivery_info.exchange,
    body: JSON.parse(Buffer.from(envelope.body, 'base64').toString('utf8')) as Record<string, unknown>,
    headers: envelope.headers,
  };
}

describe('collector on Redis: gaps are named and workers are woken', () => {
  const run = randomBytes(4).toString('hex');
  /** A source name of this test's own: the connection to kill is `celery-monitor:<name>`. */
  const sourceName = `redis-gap-${run}`;
  const host = `celery@gap-${run}`;
  let db: TestDatabase | undefined;
  let store: EventStore | undefined;
  let collector: CollectorProcess | undefined;
  let publisher: Redis | undefined;
  let listener: Redis | undefined;
  const broadcasts: Broadcast[] = [];
  /** When set, called on each broadcast as it arrives (to answer it as a worker would). */
  let onBroadcast: ((b: Broadcast) => void) | null = null;
  let clock = 0;

  const start = async (): Promise<CollectorProcess> => {
    collector = await startCollector({ brokers: `${sourceName}=${REDIS_URL}`, databaseUrl: db!.url });
    return collector;
  };

  /** Publishes a worker-heartbeat of `host` as Celery does on Redis: its clock and how many subscribers got it. */
  const sendHeartbeat = async (): Promise<{ clock: number; receivers: number }> => {
    clock += 1;
    const sent = clock;
    const body = { type: 'worker-heartbeat', hostname: host, timestamp: Date.now() / 1000, clock: sent, freq: 2, active: 0, processed: sent, utcoffset: 0, pid: 4242 };
    const receivers = await publisher!.publish('/5.celeryev/worker.heartbeat', kombuEnvelope(body, 'celeryev', 'worker.heartbeat', { hostname: host }, 1));
    return { clock: sent, receivers };
  };
  const publishHeartbeat = async (): Promise<number> => {
    const { clock: sent, receivers } = await sendHeartbeat();
    expect(receivers).toBeGreaterThanOrEqual(1);
    return sent;
  };

  const events = async (): Promise<StoredEvent[]> => store!.readEvents(0, 100_000);
  const stored = async (c: number): Promise<StoredEvent> =>
    waitFor(async () => (await events()).find((e) => e.hostname === host && e.clock === c), { timeoutMs: 10_000, description: `heartbeat ${c} of ${host} stored` });
  const gaps = async (): Promise<StoredEvent[]> => (await events()).filter((e) => e.type === 'collector-gap');
  /** The `heartbeat` broadcasts received since index `from`. */
  const heartbeatBroadcasts = (from: number): Broadcast[] => broadcasts.slice(from).filter((b) => b.body['method'] === 'heartbeat');

  beforeAll(async () => {
    db = createTestDatabase('sqlite');
    publisher = new Redis(REDIS_URL);
    listener = new Redis(REDIS_URL);
    listener.on('message', (_channel: string, message: string) => {
      const broadcast = decodeBroadcast(message, Date.now() / 1000);
      broadcasts.push(broadcast);
      onBroadcast?.(broadcast);
    });
    await listener.subscribe(PIDBOX_CHANNEL);
  });

  afterEach(() => {
    onBroadcast = null;
  });

  afterAll(async () => {
    await collector?.kill();
    await store?.close();
    publisher?.disconnect();
    listener?.disconnect();
    await db?.drop();
  });

  it('records no gap on a very first start', async () => {
    const c = await start();
    store = await openStoreForAssertions(db!.url);
    await c.waitForLog('first start on this Redis source: no gap to record');
    // It still asks the workers for heartbeats.
    await waitFor(() => heartbeatBroadcasts(0)[0], { timeoutMs: 10_000, description: `a heartbeat broadcast on ${PIDBOX_CHANNEL}` });
    await stored(await publishHeartbeat());
    expect(await gaps()).toEqual([]);
    expect(metricValue(await c.metrics(), 'celery_monitor_source_gaps_total', { source: sourceName })).toBe(0);
  });

  it('after its subscriber connection is killed: appends a collector-gap event naming the interval and broadcasts heartbeat after resubscribing', async () => {
    const c = collector!;
    const before = await stored(clock);
    const broadcastsBefore = broadcasts.length;
    // Answer the first heartbeat broadcast at once, as a worker does (a worker-heartbeat event).
    let answered: Promise<{ clock: number; receivers: number }> | undefined;
    onBroadcast = (b) => {
      if (b.body['method'] === 'heartbeat') answered ??= sendHeartbeat();
    };
    const killedAt = Date.now() / 1000;
    expect(await killRedisClients(REDIS_URL, `celery-monitor:${sourceName}`)).toBe(1);

    const [gap] = await waitFor(async () => {
      const found = await gaps();
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 15_000, description: 'a collector-gap event in the log' });
    const seenAt = Date.now() / 1000;
    expect(gap).toMatchObject({ source: 'collector:gap', type: 'collector-gap', uuid: null, clock: null });
    expect(gap!.hostname).toMatch(/^celery-monitor@/);
    const p = gap!.payload as { broker_source: string; reason: string; gap_from: number; gap_to: number; gap_seconds: number };
    expect(p).toMatchObject({ type: 'collector-gap', broker_source: sourceName, reason: 'resubscribed' });
    // The interval: from the last thing the collector read before the connection dropped (its
    // last event or PING answer: not before the newest stored event, not after our kill) to when
    // it listened again (after it logged the loss; before it logged listening again).
    const logTime = (msg: string): number[] => c.logs().filter((l) => l.msg === msg).map((l) => Date.parse(String(l.time)) / 1000);
    const [lostLoggedAt] = logTime('lost Redis connection; events published until we resubscribe are lost (a gap event will name the interval)');
    const listeningLoggedAt = logTime('listening for Celery events on Redis');
    expect(listeningLoggedAt).toHaveLength(2);
    const ms = 0.001; // log times are whole milliseconds
    expect(p.gap_from).toBeGreaterThanOrEqual(before.received_at);
    expect(p.gap_from).toBeLessThanOrEqual(killedAt);
    expect(p.gap_to).toBeGreaterThanOrEqual(lostLoggedAt!);
    expect(p.gap_to).toBeLessThanOrEqual(listeningLoggedAt[1]! + ms);
    expect(p.gap_to).toBeLessThanOrEqual(seenAt);
    expect(p.gap_seconds).toBeCloseTo(p.gap_to - p.gap_from, 9);
    expect(gap!.timestamp).toBe(p.gap_to);
    expect(gap!.position).toBeGreaterThan(before.position);

    // `heartbeat` broadcast on celery.pidbox, sent once listening resumed: it expires 5 s after it
    // was sent, which is at or after the end of the gap (to the millisecond).
    const [wake] = await waitFor(() => {
      const found = heartbeatBroadcasts(broadcastsBefore);
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 10_000, description: `a heartbeat broadcast on ${PIDBOX_CHANNEL} after the reconnect` });
    expect(wake!.exchange).toBe('celery.pidbox');
    expect(wake!.body).toEqual({ method: 'heartbeat', arguments: {}, destination: null, pattern: null, matcher: null });
    expect(wake!.headers['expires'] as number).toBeGreaterThanOrEqual(p.gap_to + 5);
    // The collector was listening when the broadcast went out: the immediate answer reached it
    // (pub/sub keeps nothing for a subscriber that is not there yet) and is in the log.
    onBroadcast = null;
    const answer = await answered!;
    expect(answer.receivers).toBeGreaterThanOrEqual(1);
    await stored(answer.clock);

    // Counted, logged, and ingestion goes on after the gap, in log order.
    const metrics = await c.metrics();
    expect(metricValue(metrics, 'celery_monitor_source_gaps_total', { source: sourceName })).toBe(1);
    expect(metricValue(metrics, 'celery_monitor_events_stored_total', { source: 'collector:gap', type: 'collector-gap' })).toBe(1);
    const logged = c.logs().find((l) => typeof l.msg === 'string' && l.msg.startsWith('recorded an event gap'));
    expect(logged).toMatchObject({ source: sourceName, from: p.gap_from, to: p.gap_to, reason: 'resubscribed' });
    const after = await stored(await publishHeartbeat());
    expect(after.position).toBeGreaterThan(gap!.position);
  });

  it('on a restart: appends the gap since the newest event this source stored (collector-started), and broadcasts heartbeat', async () => {
    const checkpoint = await store!.sourceCheckpoint(sourceName);
    expect(checkpoint).toBeDefined();
    const newest = (await events()).filter((e) => e.source === sourceName).at(-1)!;
    expect(checkpoint!.last_received_at).toBe(newest.received_at);
    await collector!.stop();
    const stoppedAt = Date.now() / 1000;
    const broadcastsBefore = broadcasts.length;

    const c = await start();
    const gap = await waitFor(async () => (await gaps()).find((e) => e.payload['reason'] === 'collector-started'), {
      timeoutMs: 15_000, description: 'a collector-started gap event',
    });
    expect(gap.payload).toMatchObject({ broker_source: sourceName, gap_from: newest.received_at });
    expect(gap.payload['gap_to'] as number).toBeGreaterThanOrEqual(stoppedAt);
    expect(gap.position).toBeGreaterThan(newest.position);
    const [wake] = await waitFor(() => {
      const found = heartbeatBroadcasts(broadcastsBefore);
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 10_000, description: `a heartbeat broadcast on ${PIDBOX_CHANNEL} after the restart` });
    expect(wake!.headers['expires'] as number).toBeGreaterThanOrEqual((gap.payload['gap_to'] as number) + 5);
    expect(metricValue(await c.metrics(), 'celery_monitor_source_gaps_total', { source: sourceName })).toBe(1);
    expect((await gaps()).map((e) => e.payload['reason'])).toEqual(['resubscribed', 'collector-started']);
  });
});
