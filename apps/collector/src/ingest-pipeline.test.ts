/**
 * The ingest pipeline against a real SQLite store: deliveries are acknowledged only after the
 * transaction holding their events committed; a failing transaction acknowledges nothing, loses
 * nothing, and is retried until it succeeds.
 */
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CeleryEvent, EventDelivery, RejectedMessage } from '../../../libs/broker/src';
import { EventStore, type AppendInput, type AppendReceipt, type EventWriter } from '../../../libs/state/src';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-databases';
import { waitFor } from '../../../test/support/wait-for';
import { metricValue } from '../../../test/support/prometheus-text';
import { IngestPipeline, type Acknowledger } from './ingest-pipeline';
import { createLogger } from '../../../libs/logging/src/logger';
import { CollectorMetrics } from './metrics';

const T = 1_795_486_235;

function heartbeatEvent(i: number): CeleryEvent {
  const fields = { type: 'worker-heartbeat', hostname: 'celery@p1', timestamp: T + i, clock: i, freq: 2, active: 0, processed: i };
  return { type: fields.type, hostname: fields.hostname, timestamp: fields.timestamp, clock: i, uuid: null, fields };
}

function delivery(i: number, rejected: RejectedMessage[] = [], receivedAt = T + i): EventDelivery {
  return { source: 'rabbit', receivedAt, result: { events: [heartbeatEvent(i)], rejected }, token: i };
}

/** The real store, whose next append waits until the test opens the gate (a commit in progress). */
class GatedWriter implements EventWriter {
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  appends = 0;
  constructor(private readonly store: EventStore) {}
  get description(): string {
    return this.store.description;
  }
  closeGate(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }
  open(): void {
    this.openGate?.();
    this.gate = null;
  }
  async append(input: AppendInput): Promise<AppendReceipt> {
    this.appends += 1;
    if (this.gate) await this.gate;
    return this.store.append(input);
  }
  probeWritable = () => this.store.probeWritable();
  sourceCheckpoint = (source: string) => this.store.sourceCheckpoint(source);
  expiredWorkers = (now: number) => this.store.expiredWorkers(now);
  strandedTasks = (limit: number, afterUuid?: string | null) => this.store.strandedTasks(limit, afterUuid);
  sizeBytes = () => this.store.sizeBytes();
  close = () => this.store.close();
}

class RecordingAcker implements Acknowledger {
  readonly acked: number[] = [];
  constructor(private readonly store: EventStore) {}
  acknowledge(deliveries: readonly EventDelivery[]): void {
    // At the moment of the ack, the events must already be readable from the database.
    const count = (this.store.database.sqlite!.prepare('select count(*) as n from events').get() as { n: number }).n;
    for (const d of deliveries) {
      expect(count).toBeGreaterThanOrEqual((d.token as number) + 1);
      this.acked.push(d.token as number);
    }
  }
}

describe('IngestPipeline', () => {
  let db: TestDatabase;
  let store: EventStore;
  let acker: RecordingAcker;
  let pipeline: IngestPipeline;
  const metrics = new CollectorMetrics();

  beforeEach(async () => {
    db = createTestDatabase('sqlite');
    store = await EventStore.open(db.url);
    acker = new RecordingAcker(store);
    pipeline = new IngestPipeline(store, new Map([['rabbit', acker]]), metrics, createLogger('silent', 'collector'), {
      maxEvents: 3,
      maxDelayMs: 5,
      retryBackoff: { initialMs: 20, maxMs: 50 },
    });
  });

  afterEach(async () => {
    await pipeline.close();
    await store.close();
    await db.drop();
  });

  it('acknowledges every delivery, in order, after its commit', async () => {
    for (let i = 0; i < 10; i += 1) pipeline.push(delivery(i));
    await pipeline.flush();
    expect(acker.acked).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await store.readEvents(0, 100)).toHaveLength(10);
    expect(pipeline.pendingItems).toBe(0);
  });

  it('stores rejected messages and acknowledges them like the rest', async () => {
    const bad: RejectedMessage = { reason: 'not-json', detail: 'Unexpected token', routingKey: 'task.multi', contentType: 'application/json', raw: Buffer.from('{'), rawSize: 1 };
    pipeline.push(delivery(0, [bad]));
    await pipeline.flush();
    expect(acker.acked).toEqual([0]);
    const rows = store.database.sqlite!.prepare('select reason, source from rejected_messages').all();
    expect(rows).toEqual([{ reason: 'not-json', source: 'rabbit' }]);
  });

  it('counts a redelivered rejected message once as rejected, then as a duplicate', async () => {
    const value = async (name: string, labels: Record<string, string>) => metricValue(await metrics.registry.metrics(), name, labels);
    const rejectedBefore = await value('celery_monitor_messages_rejected_total', { source: 'rabbit', reason: 'not-utf8' });
    const duplicateBefore = await value('celery_monitor_events_duplicate_total', { source: 'rabbit' });
    const bad: RejectedMessage = { reason: 'not-utf8', detail: 'invalid byte 0xff', routingKey: 'worker.heartbeat', contentType: 'application/json', raw: Buffer.from([0xff]), rawSize: 1 };
    pipeline.push(delivery(0, [bad]));
    await pipeline.flush();
    // The broker redelivers the same message (the ack was lost), with the event it carried.
    pipeline.push({ ...delivery(0, [bad]), redelivered: true });
    await pipeline.flush();
    expect(store.database.sqlite!.prepare('select count(*) as n from rejected_messages').get()).toEqual({ n: 1 });
    expect((await value('celery_monitor_messages_rejected_total', { source: 'rabbit', reason: 'not-utf8' })) - rejectedBefore).toBe(1);
    expect((await value('celery_monitor_events_duplicate_total', { source: 'rabbit' })) - duplicateBefore).toBe(2);
  });

  it('counts a bad message sent again (not a redelivery: pub/sub, a producer repeating it) each time, and keeps it aside once', async () => {
    const value = async (name: string, labels: Record<string, string>) => metricValue(await metrics.registry.metrics(), name, labels);
    const rejectedBefore = await value('celery_monitor_messages_rejected_total', { source: 'rabbit', reason: 'not-json' });
    const duplicateBefore = await value('celery_monitor_events_duplicate_total', { source: 'rabbit' });
    const bad: RejectedMessage = { reason: 'not-json', detail: 'Unexpected token h', routingKey: 'task.multi', contentType: 'application/json', raw: Buffer.from('hello'), rawSize: 5 };
    for (let i = 0; i < 5; i += 1) {
      pipeline.push(delivery(i, [bad]));
      await pipeline.flush();
    }
    expect(store.database.sqlite!.prepare('select count(*) as n from rejected_messages').get()).toEqual({ n: 1 });
    expect((await value('celery_monitor_messages_rejected_total', { source: 'rabbit', reason: 'not-json' })) - rejectedBefore).toBe(5);
    expect((await value('celery_monitor_events_duplicate_total', { source: 'rabbit' })) - duplicateBefore).toBe(0);
    expect(acker.acked).toEqual([0, 1, 2, 3, 4]);
  });

  it('acknowledges nothing while commits fail, retries, and loses nothing', async () => {
    // Break the database from outside: the event log table disappears.
    const other = new BetterSqlite3(store.database.sqlite!.name);
    other.exec('alter table events rename to events_hidden');
    for (let i = 0; i < 4; i += 1) pipeline.push(delivery(i));
    await waitFor(() => pipeline.lastCommit.error !== null || undefined, { timeoutMs: 5_000, description: 'a failed commit' });
    await new Promise((resolve) => setTimeout(resolve, 150)); // several retries happen meanwhile
    expect(acker.acked).toEqual([]);
    expect(pipeline.lastCommit.error).toMatch(/no such table: events/);
    // The batch being retried counts as waiting (lag, /readyz), though it left the queue.
    expect(pipeline.pendingAgeBySource(Date.now() / 1000 + 100).get('rabbit')).toBeGreaterThanOrEqual(100);

    other.exec('alter table events_hidden rename to events');
    other.close();
    await pipeline.flush();
    expect(acker.acked).toEqual([0, 1, 2, 3]);
    expect((await store.readEvents(0, 100)).map((e) => e.clock)).toEqual([0, 1, 2, 3]);
    expect(pipeline.lastCommit.error).toBeNull();
  });

  it('a full database: acknowledges nothing, says the disk is full, and stores everything once there is room', async () => {
    const sqlite = store.database.sqlite!;
    // SQLite's own limit on the file's pages: commits fail with SQLITE_FULL as on a full disk.
    sqlite.pragma(`max_page_count = ${sqlite.pragma('page_count', { simple: true }) as number}`);
    // The first batches may still fit in the pages' free room; later ones need new pages.
    const n = 300;
    for (let i = 0; i < n; i += 1) pipeline.push(delivery(i));
    await waitFor(() => pipeline.lastCommit.error !== null || undefined, { timeoutMs: 5_000, description: 'a failed commit' });
    expect(pipeline.lastCommit.error).toMatch(/database or disk is full \(the database's disk is full: free space/);
    const ackedWhileFull = acker.acked.length;
    expect(ackedWhileFull).toBeLessThan(n);
    await new Promise((resolve) => setTimeout(resolve, 150)); // several retries happen meanwhile
    expect(acker.acked).toHaveLength(ackedWhileFull);

    sqlite.pragma('max_page_count = 1073741823');
    await pipeline.flush();
    const all = Array.from({ length: n }, (_, i) => i);
    expect(acker.acked).toEqual(all);
    expect((await store.readEvents(0, 1000)).map((e) => e.clock)).toEqual(all);
    expect(pipeline.lastCommit.error).toBeNull();
  });

  it('tells the sources to stop reading past maxPendingEvents, and to read again once half are committed', async () => {
    const calls: string[] = [];
    const bounded = new IngestPipeline(store, new Map([['rabbit', acker]]), metrics, createLogger('silent', 'collector'), {
      maxEvents: 3,
      maxDelayMs: 5,
      maxPendingEvents: 10,
      onBackpressure: (reading) => calls.push(reading),
      retryBackoff: { initialMs: 20, maxMs: 50 },
    });
    // Commits fail (the log table is gone) while deliveries keep coming.
    const other = new BetterSqlite3(store.database.sqlite!.name);
    other.exec('alter table events rename to events_hidden');
    try {
      for (let i = 0; i < 9; i += 1) bounded.push(delivery(i));
      await waitFor(() => bounded.lastCommit.error !== null || undefined, { timeoutMs: 5_000, description: 'a failed commit' });
      expect(calls).toEqual([]);
      for (let i = 9; i < 16; i += 1) bounded.push(delivery(i));
      expect(calls).toEqual(['pause']);
      expect(bounded.holdingSources).toBe(true);
      other.exec('alter table events_hidden rename to events');
      await bounded.flush();
      expect(calls).toEqual(['pause', 'resume']);
      expect(bounded.holdingSources).toBe(false);
      expect(acker.acked).toEqual([...Array(16).keys()]);
    } finally {
      other.close();
      await bounded.close();
    }
  });

  it('commits derived events in the same serial order', async () => {
    pipeline.push(delivery(0));
    const { stored } = await pipeline.appendDerived([
      {
        source: 'collector:gap', type: 'collector-gap', hostname: 'celery-monitor@x', uuid: null, clock: null, timestamp: T + 5,
        received_at: T + 5, payload: { type: 'collector-gap' }, payload_json: '{"type":"collector-gap"}', dedup_key: 'gap-1',
      },
    ]);
    expect(stored.map((e) => e.type)).toContain('collector-gap');
    await pipeline.flush();
    expect(acker.acked).toEqual([0]);
  });

  describe('partial batches at steady rates', () => {
    const now = () => Date.now() / 1000;
    let gated: GatedWriter;
    let slow: IngestPipeline;
    beforeEach(() => {
      gated = new GatedWriter(store);
      // A delay no test run reaches: a partial batch waits for it, a flush or a full batch does not.
      slow = new IngestPipeline(gated, new Map([['rabbit', acker]]), metrics, createLogger('silent', 'collector'), {
        maxEvents: 3,
        maxDelayMs: 600_000,
        retryBackoff: { initialMs: 20, maxMs: 50 },
      });
    });
    afterEach(async () => {
      gated.open();
      await slow.close();
    });

    it('lets deliveries that arrive during a commit wait for their own delay, not commit right after it', async () => {
      gated.closeGate();
      slow.push(delivery(0, [], now() - 601)); // has waited past the delay: committed at once
      await waitFor(() => gated.appends === 1 || undefined, { timeoutMs: 5_000, description: 'the first commit to start' });
      slow.push(delivery(1, [], now())); // arrives while that commit is in progress
      gated.open();
      await waitFor(() => acker.acked.length >= 1 || undefined, { timeoutMs: 5_000, description: 'the first commit' });
      await new Promise((resolve) => setTimeout(resolve, 50)); // room for a back-to-back commit, if there were one
      expect(gated.appends).toBe(1);
      expect(slow.pendingItems).toBe(1);
      await slow.flush(); // a flush does not wait for the delay
      expect(acker.acked).toEqual([0, 1]);
      expect(gated.appends).toBe(2);
    });

    it('commitReceived() commits what was received before it, not what arrives while it waits, and costs nothing when nothing waits', async () => {
      await slow.commitReceived();
      expect(gated.appends).toBe(0);
      slow.push(delivery(0, [], now()));
      slow.push(delivery(1, [], now()));
      gated.closeGate();
      const committed = slow.commitReceived();
      await waitFor(() => gated.appends === 1 || undefined, { timeoutMs: 5_000, description: 'the commit to start' });
      slow.push(delivery(2, [], now())); // arrives while that commit is in progress
      gated.open();
      await committed;
      expect(acker.acked).toEqual([0, 1]);
      expect(slow.pendingItems).toBe(1);
      expect(gated.appends).toBe(1);
    });

    it('commits right after a commit what is due: a full batch, or a delivery that has waited its delay', async () => {
      gated.closeGate();
      slow.push(delivery(0, [], now() - 601));
      await waitFor(() => gated.appends === 1 || undefined, { timeoutMs: 5_000, description: 'the first commit to start' });
      for (const i of [1, 2, 3]) slow.push(delivery(i, [], now())); // a full batch (maxEvents 3)
      slow.push(delivery(4, [], now() - 601)); // waited past the delay (the broker held it back)
      gated.open();
      await waitFor(() => acker.acked.length === 5 || undefined, { timeoutMs: 5_000, description: 'every due delivery committed' });
      expect(acker.acked).toEqual([0, 1, 2, 3, 4]);
      expect(gated.appends).toBe(3);
      expect(slow.pendingItems).toBe(0);
    });

    it("commits at once when a source's delivery window is full: it sends nothing more until the acknowledgement", async () => {
      const windowed = new IngestPipeline(store, new Map([['rabbit', acker]]), metrics, createLogger('silent', 'collector'), {
        maxEvents: 100,
        maxDelayMs: 600_000,
        deliveryWindows: new Map([['rabbit', 2]]),
        retryBackoff: { initialMs: 20, maxMs: 50 },
      });
      try {
        windowed.push(delivery(0, [], now()));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(acker.acked).toEqual([]); // one of two: the broker may still send more
        windowed.push(delivery(1, [], now()));
        await waitFor(() => acker.acked.length === 2 || undefined, { timeoutMs: 5_000, description: 'the full window committed' });
        expect(acker.acked).toEqual([0, 1]);
      } finally {
        await windowed.close();
      }
    });
  });
});
