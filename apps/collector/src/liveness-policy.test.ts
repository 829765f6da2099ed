/**
 * The liveness policy against a real SQLite event store, with a fake clock (`check(now)`) and the
 * collector's real ingest pipeline for derived events. Proves its rules:
 * - a silent worker is declared offline by a derived `worker-offline` event (source
 *   `collector:liveness`, reason `heartbeat-timeout`) only once its heartbeat expiry has passed,
 *   once, with the expiry computed from the worker's own heartbeat frequency;
 * - nobody on a source that is disconnected, unknown, or connected for less than a whole expiry
 *   window of the worker, is judged;
 * - nobody is judged while the collector is behind — as Collector.isBehind defines it: a received
 *   event has waited more than 1 s for its commit, or the broker holds more than
 *   CM_BATCH_MAX_EVENTS messages for us — because a sign of life may be among them;
 * - before judging anyone who looks expired, it commits what was received: a heartbeat that
 *   arrived before the expiry but waits for its batch keeps its worker online;
 * - a worker that said goodbye itself (`worker-offline` from the worker) stays offline with reason
 *   `worker-offline` and gets no derived event; one whose heartbeats stopped gets
 *   `heartbeat-timeout`.
 */
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CeleryEvent, EventDelivery, SourceStatus } from '../../../libs/broker/src';
import { EventStore, type StoredEvent } from '../../../libs/state/src';
import { createLogger } from '../../../libs/logging/src/logger';
import { event, type EventSpec } from '../../../test/support/event-factory';
import { metricValue } from '../../../test/support/prometheus-text';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-databases';
import { waitFor } from '../../../test/support/wait-for';
import { LIVENESS_SOURCE } from './derived-events';
import { IngestPipeline } from './ingest-pipeline';
import { LivenessPolicy, type LivenessPolicyOptions } from './liveness-policy';
import { CollectorMetrics } from './metrics';

/**
 * Collector clock of the scenarios (epoch seconds): an integer, so expiry sums are exact, and the
 * present, because the ingest pipeline times its batches on the wall clock.
 */
const T = Math.floor(Date.now() / 1000);
const OPTIONS: LivenessPolicyOptions = { expiryFactor: 2, defaultFreq: 2, checkIntervalMs: 20 };
/** CM_BATCH_MAX_EVENTS of these scenarios: a broker backlog above it means "behind". */
const MAX_EVENTS = 1000;
const logger = createLogger('silent', 'collector');

const connected = (since: number): SourceStatus => ({ connected: true, since, lastError: null, reconnectAttempts: 0 });
const disconnected = (since: number): SourceStatus => ({ connected: false, since, lastError: 'connection closed', reconnectAttempts: 3 });

function heartbeatFields(hostname: string, timestamp: number, clock: number, freq: number | null): EventSpec {
  return { type: 'worker-heartbeat', hostname, timestamp, clock, ...(freq === null ? {} : { freq }), active: 0, processed: clock };
}

describe('LivenessPolicy', () => {
  let db: TestDatabase;
  let store: EventStore;
  let metrics: CollectorMetrics;
  let pipeline: IngestPipeline;
  let policy: LivenessPolicy;
  /** What the collector reports of its broker sources, by name. */
  let statuses: Map<string, SourceStatus>;
  /** The fake clock the "behind" judgement reads (check(now) gets the same instant). */
  let clock: number;
  /** Messages waiting for us in the broker (what Collector.pollBacklogs last saw). */
  let brokerBacklog: number;

  /** Collector.isBehind, on this test's pipeline and broker backlog. */
  const isBehind = (): boolean =>
    [...pipeline.pendingAgeBySource(clock).values()].some((age) => age > 1) || brokerBacklog > MAX_EVENTS;

  /** One pass of the policy at collector time `now`. */
  const checkAt = (now: number): Promise<string[]> => {
    clock = now;
    return policy.check(now);
  };

  /** Commits a worker's event through the store (as an earlier batch of the collector did). */
  const commit = async (...events: Parameters<typeof event>[]): Promise<void> => {
    await store.append({ events: events.map((args) => event(...args)), rejected: [] });
  };

  /** A worker-heartbeat received at `receivedAt` (collector clock), sent 0.25 s earlier. */
  const heartbeatAt = (hostname: string, receivedAt: number, seq: number, freq: number | null = 2, source = 'rabbitmq'): Parameters<typeof event> => [
    heartbeatFields(hostname, receivedAt - 0.25, seq, freq),
    source,
    receivedAt,
  ];
  /** The worker's own goodbye. */
  const goodbyeAt = (hostname: string, receivedAt: number, seq: number): Parameters<typeof event> => [
    { type: 'worker-offline', hostname, timestamp: receivedAt - 0.25, clock: seq },
    'rabbitmq',
    receivedAt,
  ];

  const derivedEvents = async (): Promise<StoredEvent[]> => (await store.readEvents(0, 10_000)).filter((e) => e.source === LIVENESS_SOURCE);
  const declaredOffline = async (): Promise<number> => metricValue(await metrics.registry.metrics(), 'celery_monitor_workers_declared_offline_total');

  beforeEach(async () => {
    db = createTestDatabase('sqlite');
    store = await EventStore.open(db.url, { liveness: { expiryFactor: OPTIONS.expiryFactor, defaultFreq: OPTIONS.defaultFreq } });
    metrics = new CollectorMetrics();
    // As in the collector: derived events go through the ingest pipeline, in order with deliveries.
    // A long batch delay: what is pushed stays uncommitted until something commits it.
    pipeline = new IngestPipeline(store, new Map(), metrics, logger, { maxEvents: MAX_EVENTS, maxDelayMs: 60_000, retryBackoff: { initialMs: 10, maxMs: 50 } });
    statuses = new Map();
    clock = T;
    brokerBacklog = 0;
    policy = new LivenessPolicy(
      store,
      { sourceStatus: (name) => statuses.get(name), isBehind, appendDerived: (events) => pipeline.appendDerived(events), commitReceived: () => pipeline.commitReceived() },
      metrics,
      logger,
      OPTIONS,
    );
  });

  afterEach(async () => {
    await policy.stop();
    await pipeline.close();
    await store.close();
    await db.drop();
  });

  it('declares a silent worker offline by a derived worker-offline event only once its heartbeat expiry has passed', async () => {
    const w = 'celery@silent';
    statuses.set('rabbitmq', connected(T - 100));
    // Last heartbeat received at T, freq 2 s, factor 2: it expires at T + 4 (collector clock).
    await commit(heartbeatAt(w, T, 1));
    expect((await store.worker(w))?.heartbeat_expires_at).toBe(T + 4);

    expect(await checkAt(T + 1)).toEqual([]);
    expect(await checkAt(T + 4)).toEqual([]); // at the expiry instant: not yet past it
    expect(await derivedEvents()).toEqual([]);
    expect((await store.worker(w))?.status).toBe('online');

    expect(await checkAt(T + 4.5)).toEqual([w]);
    const derived = await derivedEvents();
    expect(derived).toHaveLength(1);
    expect(derived[0]).toMatchObject({
      source: LIVENESS_SOURCE,
      type: 'worker-offline',
      hostname: w,
      timestamp: T - 0.25 + 4, // the expiry instant in the worker's clock: last sign of life + freq × factor
      received_at: T + 4.5,
      payload: { reason: 'heartbeat-timeout', last_seen_at: T - 0.25, heartbeat_freq: 2, expiry_factor: 2, broker_source: 'rabbitmq' },
    });
    expect(await store.worker(w)).toMatchObject({ status: 'offline', offline_reason: 'heartbeat-timeout', offline_since: T + 3.75, source: 'rabbitmq' });
    expect(await declaredOffline()).toBe(1);

    // Declared once: an offline worker is not judged again.
    expect(await checkAt(T + 60)).toEqual([]);
    expect(await derivedEvents()).toHaveLength(1);
    expect(await declaredOffline()).toBe(1);
  });

  it("expires each worker after its own heartbeat frequency (the default one when it never sent freq)", async () => {
    statuses.set('rabbitmq', connected(T - 100));
    // freq 5 → expires at T + 10; no freq (only task events seen) → default 2 → T + 4.
    await commit(heartbeatAt('celery@slow', T, 1, 5), heartbeatAt('celery@nofreq', T, 1, null));
    expect(await checkAt(T + 4.5)).toEqual(['celery@nofreq']);
    expect(await checkAt(T + 9.5)).toEqual([]);
    expect(await checkAt(T + 10.5)).toEqual(['celery@slow']);
    const derived = await derivedEvents();
    expect(derived.map((e) => [e.hostname, e.payload['heartbeat_freq']])).toEqual([
      ['celery@nofreq', 2],
      ['celery@slow', 5],
    ]);
  });

  it('judges nobody on a disconnected or unknown source, nor before its source has been connected for a whole expiry window', async () => {
    // Both expired long ago (T + 4 and T + 10); their source was down meanwhile.
    await commit(heartbeatAt('celery@fast', T, 1, 2), heartbeatAt('celery@slow', T, 1, 5));
    await commit(heartbeatAt('celery@elsewhere', T, 1, 2, 'redis'));

    // 'rabbitmq' is disconnected; 'redis' has no status at all (not one of the collector's sources).
    statuses.set('rabbitmq', disconnected(T - 100));
    expect(await checkAt(T + 50)).toEqual([]);
    expect(await derivedEvents()).toEqual([]);

    // Reconnected at T + 100: events sent while we were away may have been missed (Redis), or are
    // still on their way, so each worker gets a whole expiry window (its freq × factor) first.
    statuses.set('rabbitmq', connected(T + 100));
    expect(await checkAt(T + 103.9)).toEqual([]);
    expect(await checkAt(T + 104)).toEqual(['celery@fast']);
    expect(await checkAt(T + 109.9)).toEqual([]);
    expect(await checkAt(T + 110)).toEqual(['celery@slow']);
    // A worker whose source went down again is not judged, though long expired.
    statuses.set('redis', disconnected(T));
    expect(await checkAt(T + 500)).toEqual([]);
    statuses.set('redis', connected(T + 496));
    expect(await checkAt(T + 500)).toEqual(['celery@elsewhere']);
    expect((await derivedEvents()).map((e) => [e.hostname, e.received_at, e.payload['broker_source']])).toEqual([
      ['celery@fast', T + 104, 'rabbitmq'],
      ['celery@slow', T + 110, 'rabbitmq'],
      ['celery@elsewhere', T + 500, 'redis'],
    ]);
  });

  it('judges nobody while a received event has waited more than 1 s for its commit: it may be the sign of life', async () => {
    const w = 'celery@busy';
    statuses.set('rabbitmq', connected(T - 100));
    await commit(heartbeatAt(w, T, 1)); // committed: expires at T + 4
    // A newer heartbeat of the same worker arrived at T + 3 and waits for its batch (not committed).
    const fresh: CeleryEvent = { type: 'worker-heartbeat', hostname: w, timestamp: T + 2.75, clock: 2, uuid: null, fields: heartbeatFields(w, T + 2.75, 2, 2) };
    const delivery: EventDelivery = { source: 'rabbitmq', receivedAt: T + 3, result: { events: [fresh], rejected: [] }, token: null };
    pipeline.push(delivery);

    // At T + 4.5 the database says the worker expired, but the collector is behind (its heartbeat
    // has waited 1.5 s): no judgement, nothing appended, and the heartbeat is still uncommitted.
    expect(await checkAt(T + 4.5)).toEqual([]);
    expect(await derivedEvents()).toEqual([]);
    expect(pipeline.pendingItems).toBe(1);
    expect((await store.readEvents(0, 100)).filter((e) => e.hostname === w)).toHaveLength(1);

    // Once it is committed, the worker is alive until T + 7 after all…
    await pipeline.flush();
    expect(await store.worker(w)).toMatchObject({ status: 'online', heartbeat_expires_at: T + 7 });
    expect(await checkAt(T + 4.5)).toEqual([]);
    // …and it is declared offline only after that.
    expect(await checkAt(T + 7.5)).toEqual([w]);
    expect((await derivedEvents()).map((e) => [e.hostname, e.payload['last_seen_at']])).toEqual([[w, T + 2.75]]);
  });

  it('commits what was received before judging: a heartbeat that arrived before the expiry and waits for its batch keeps the worker online', async () => {
    const w = 'celery@waiting';
    statuses.set('rabbitmq', connected(T - 100));
    await commit(heartbeatAt(w, T, 1)); // committed: expires at T + 4
    // The next heartbeat arrived at T + 3.5, before the expiry; it waits for its batch (0.7 s: not "behind").
    const fresh: CeleryEvent = { type: 'worker-heartbeat', hostname: w, timestamp: T + 3.25, clock: 2, uuid: null, fields: heartbeatFields(w, T + 3.25, 2, 2) };
    pipeline.push({ source: 'rabbitmq', receivedAt: T + 3.5, result: { events: [fresh], rejected: [] }, token: null });
    expect(await checkAt(T + 4.2)).toEqual([]);
    expect(await derivedEvents()).toEqual([]);
    expect(pipeline.pendingItems).toBe(0);
    expect(await store.worker(w)).toMatchObject({ status: 'online', offline_reason: null, heartbeat_expires_at: T + 7.5 });
    expect(await checkAt(T + 7.6)).toEqual([w]);
  });

  it('forces no commit when the expired workers are all on sources it does not read (disconnected, say)', async () => {
    const w = 'celery@unreachable';
    statuses.set('redis', disconnected(T - 100));
    await commit(heartbeatAt(w, T, 1, 2, 'redis')); // expires at T + 4, on a source that is down
    const other: CeleryEvent = { type: 'worker-heartbeat', hostname: 'celery@elsewhere', timestamp: T + 4.75, clock: 1, uuid: null, fields: heartbeatFields('celery@elsewhere', T + 4.75, 1, 2) };
    pipeline.push({ source: 'rabbitmq', receivedAt: T + 5, result: { events: [other], rejected: [] }, token: null });
    expect(await checkAt(T + 5.5)).toEqual([]);
    expect(pipeline.pendingItems).toBe(1); // left to its batch
  });

  it('judges nobody while the broker holds a backlog of more than CM_BATCH_MAX_EVENTS messages for us', async () => {
    const w = 'celery@queued';
    statuses.set('rabbitmq', connected(T - 100));
    await commit(heartbeatAt(w, T, 1));
    brokerBacklog = MAX_EVENTS + 1;
    expect(await checkAt(T + 30)).toEqual([]);
    expect(await derivedEvents()).toEqual([]);
    brokerBacklog = MAX_EVENTS; // a backlog within one batch is not "behind"
    expect(await checkAt(T + 30)).toEqual([w]);
  });

  it("tells a worker that said goodbye (its own worker-offline) from one whose heartbeats stopped", async () => {
    statuses.set('rabbitmq', connected(T - 100));
    await commit(
      heartbeatAt('celery@polite', T, 1),
      goodbyeAt('celery@polite', T + 1, 2),
      heartbeatAt('celery@crashed', T, 1),
    );
    expect(await store.worker('celery@polite')).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', offline_since: T + 0.75 });

    // Both are silent past their expiry: only the one still online is declared offline.
    expect(await checkAt(T + 100)).toEqual(['celery@crashed']);
    expect((await derivedEvents()).map((e) => e.hostname)).toEqual(['celery@crashed']);
    expect(await store.worker('celery@polite')).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', offline_since: T + 0.75 });
    expect(await store.worker('celery@crashed')).toMatchObject({ status: 'offline', offline_reason: 'heartbeat-timeout', offline_since: T + 3.75 });

    // The crashed worker comes back, then stops warmly: its own goodbye is what the row says now.
    await commit(heartbeatAt('celery@crashed', T + 200, 5));
    expect(await store.worker('celery@crashed')).toMatchObject({ status: 'online', offline_reason: null });
    await commit(goodbyeAt('celery@crashed', T + 201.25, 6));
    expect(await checkAt(T + 300)).toEqual([]);
    expect(await store.worker('celery@crashed')).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', offline_since: T + 201 });
    expect(await derivedEvents()).toHaveLength(1);
    expect(await declaredOffline()).toBe(1);
  });

  it('judges nobody once stopped, not even in a check that was waiting for its commit', async () => {
    const w = 'celery@silent';
    statuses.set('rabbitmq', connected(T - 100));
    await commit(heartbeatAt(w, T, 1)); // expires at T + 4
    // A delivery waits for its batch, and commits fail for now (the log table is gone).
    const other = new BetterSqlite3(store.database.sqlite!.name);
    other.exec('alter table events rename to events_hidden');
    const waiting: CeleryEvent = { type: 'task-received', hostname: 'celery@other', timestamp: T + 9.5, clock: 1, uuid: 'u1', fields: {} };
    pipeline.push({ source: 'rabbitmq', receivedAt: T + 9.8, result: { events: [waiting], rejected: [] }, token: null });
    clock = T + 10;
    const check = policy.check(T + 10); // expired: it commits what was received first, and waits
    await waitFor(() => pipeline.lastCommit.error !== null || undefined, { timeoutMs: 5_000, description: 'a failed commit' });
    const stopped = policy.stop(); // a shutdown: the sources are paused next
    other.exec('alter table events_hidden rename to events');
    other.close();
    expect(await check).toEqual([]);
    await stopped;
    expect(await derivedEvents()).toEqual([]);
    expect(await store.worker(w)).toMatchObject({ status: 'online' });
    expect(await checkAt(T + 20)).toEqual([]);
  });

  it('start() checks every interval on the wall clock until stop()', async () => {
    const now = Date.now() / 1000;
    statuses.set('rabbitmq', connected(now - 1000));
    await commit(heartbeatAt('celery@gone', now - 100, 1));
    clock = now;
    policy.start();
    await waitFor(async () => (await store.worker('celery@gone'))?.status === 'offline', { timeoutMs: 5_000, description: 'celery@gone declared offline by the timer' });
    await policy.stop();
    expect(await derivedEvents()).toMatchObject([{ hostname: 'celery@gone', payload: { reason: 'heartbeat-timeout' } }]);
    expect(await declaredOffline()).toBe(1);
  });
});
