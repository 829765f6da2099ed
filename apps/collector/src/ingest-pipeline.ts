/**
 * Batches decoded deliveries from every source, appends and projects each batch in ONE
 * transaction, and only then acknowledges the deliveries to their brokers. A failed transaction is
 * retried with backoff (nothing is acknowledged, nothing is dropped); a malformed message is stored
 * aside as rejected and acknowledged like any other, so it never blocks the stream.
 */
import { backoffDelay, type BackoffOptions, type EventDelivery } from '../../../libs/broker/src';
import { newEvent, type AppendReceipt, type EventWriter, type NewEvent, type NewRejection } from '../../../libs/state/src';
import type { AppLogger } from '../../../libs/logging/src/logger';
import type { CollectorMetrics } from './metrics';
import { commitFailureHint, describeFailure } from './commit-failure';

export interface Acknowledger {
  acknowledge(deliveries: readonly EventDelivery[]): void;
}

export interface PipelineOptions {
  /** Events (and rejections) per transaction at most. */
  maxEvents: number;
  /** Longest wait before a partial batch is committed. */
  maxDelayMs: number;
  /**
   * Received events waiting for their commit at most: past it, `onBackpressure('pause')` (sources
   * stop reading); once half of them are committed, `onBackpressure('resume')`.
   */
  maxPendingEvents?: number;
  onBackpressure?: (reading: 'pause' | 'resume') => void;
  /**
   * Deliveries each source hands over before it waits for acknowledgements (AMQP prefetch), by
   * source name. A source whose window is full of waiting deliveries sends nothing more until they
   * commit, so they are committed without waiting for maxDelayMs.
   */
  deliveryWindows?: ReadonlyMap<string, number>;
  retryBackoff: BackoffOptions;
}

interface DerivedRequest {
  events: NewEvent[];
  resolve: (result: AppendReceipt) => void;
  reject: (error: unknown) => void;
}

export class IngestPipeline {
  private queue: EventDelivery[] = [];
  /** The batch being committed (taken off the queue): its commit may be failing and retried. */
  private inFlight: readonly EventDelivery[] = [];
  private queuedItems = 0;
  /** Deliveries waiting for their commit, by source (for deliveryWindows). */
  private readonly queuedBySource = new Map<string, number>();
  private derived: DerivedRequest[] = [];
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private stopped = false;
  private lastCommitAt = 0;
  private lastCommitError: string | null = null;
  private holding = false;
  /** Open flush() calls: while one waits, partial batches are committed at once. */
  private flushing = 0;

  constructor(
    private readonly store: EventWriter,
    private readonly ackers: ReadonlyMap<string, Acknowledger>,
    private readonly metrics: CollectorMetrics,
    private readonly logger: AppLogger,
    private readonly options: PipelineOptions,
  ) {}

  push(delivery: EventDelivery): void {
    this.queue.push(delivery);
    this.queuedBySource.set(delivery.source, (this.queuedBySource.get(delivery.source) ?? 0) + 1);
    this.queuedItems += Math.max(1, delivery.result.events.length + delivery.result.rejected.length);
    this.metrics.pendingEvents.set(this.queuedItems);
    if (!this.holding && this.options.maxPendingEvents !== undefined && this.queuedItems >= this.options.maxPendingEvents) {
      this.holding = true;
      this.logger.warn(
        { pending: this.queuedItems, maxPendingEvents: this.options.maxPendingEvents },
        'ingest is behind: sources stop reading until half of the pending events are committed (raise CM_MAX_PENDING_EVENTS, or give the database more speed)',
      );
      this.options.onBackpressure?.('pause');
    }
    if (this.batchDue()) this.kick();
    else this.schedule();
  }

  /** True while sources were told to stop reading. */
  get holdingSources(): boolean {
    return this.holding;
  }

  /** Appends events the collector derives itself (gaps, liveness), in the same serial order. */
  appendDerived(events: NewEvent[]): Promise<AppendReceipt> {
    return new Promise((resolve, reject) => {
      this.derived.push({ events, resolve, reject });
      this.kick();
    });
  }

  /**
   * Resolves once every delivery received so far is committed (those beyond one batch of
   * maxEvents excepted), without waiting for later ones: unlike flush(), it ends at steady rates.
   */
  async commitReceived(): Promise<void> {
    if (this.queue.length === 0 && !this.draining) return;
    await this.appendDerived([]);
  }

  /**
   * Seconds since the oldest delivery still waiting for its commit arrived, by source: the batch
   * being committed (which may be retrying a failing commit) first, then the queue.
   */
  pendingAgeBySource(now: number): Map<string, number> {
    const ages = new Map<string, number>();
    for (const d of this.inFlight) if (!ages.has(d.source)) ages.set(d.source, now - d.receivedAt);
    for (const d of this.queue) if (!ages.has(d.source)) ages.set(d.source, now - d.receivedAt);
    return ages;
  }

  get pendingItems(): number {
    return this.queuedItems;
  }

  get lastCommit(): { at: number; error: string | null } {
    return { at: this.lastCommitAt, error: this.lastCommitError };
  }

  /** Commits everything received so far, at once, without waiting for partial batches to fill. */
  async flush(): Promise<void> {
    this.flushing += 1;
    try {
      while (this.queue.length > 0 || this.derived.length > 0 || this.draining) {
        this.kick();
        await this.draining;
      }
    } finally {
      this.flushing -= 1;
    }
  }

  /** Flushes, then stops retrying failed commits (for shutdown). */
  async close(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /**
   * Commits a partial batch when its oldest delivery has waited maxDelayMs (deliveries that arrived
   * during a commit have already waited that long in part: they are not given a fresh delay).
   */
  private schedule(): void {
    if (this.timer || this.draining) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, this.options.maxDelayMs - this.oldestWaitMs()));
  }

  /** How long the oldest delivery still waiting for its commit has waited (ms; 0 when none). */
  private oldestWaitMs(): number {
    const oldest = this.queue[0]?.receivedAt;
    return oldest === undefined ? 0 : Math.max(0, Date.now() - oldest * 1000);
  }

  /**
   * Whether what waits should be committed now rather than when its oldest delivery has waited
   * maxDelayMs: derived events, a full batch, a delivery that has waited long enough, a flush, or
   * sources that send nothing more until a commit (held, or their delivery window full). A commit
   * that just finished is not a reason on its own: at steady rates, committing back to back would
   * spend a transaction (and an fsync) on every few events.
   */
  private batchDue(): boolean {
    if (this.derived.length > 0) return true;
    if (this.queue.length === 0) return false;
    return (
      this.flushing > 0 ||
      this.holding ||
      this.queuedItems >= this.options.maxEvents ||
      this.oldestWaitMs() >= this.options.maxDelayMs ||
      this.windowFull()
    );
  }

  private windowFull(): boolean {
    for (const [source, window] of this.options.deliveryWindows ?? []) {
      if ((this.queuedBySource.get(source) ?? 0) >= window) return true;
    }
    return false;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.queue.length > 0 || this.derived.length > 0) this.schedule();
    });
  }

  /** Commits the batch that is due (kick() was called because it is), then every later one that is due too. */
  private async drain(): Promise<void> {
    if (this.queue.length === 0 && this.derived.length === 0) return;
    do {
      const deliveries = this.takeBatch();
      const derived = this.derived;
      this.derived = [];
      const { events, rejected, rejectedRedelivered } = toRecords(deliveries);
      for (const request of derived) events.push(...request.events);
      this.metrics.pendingEvents.set(this.queuedItems + events.length + rejected.length);

      let result: AppendReceipt;
      this.inFlight = deliveries;
      try {
        result = await this.commitWithRetry(events, rejected);
      } catch (error) {
        // Only during shutdown: leave the deliveries unacknowledged (the broker redelivers them).
        for (const request of derived) request.reject(error);
        return;
      } finally {
        this.inFlight = [];
      }
      this.acknowledge(deliveries);
      this.release();
      this.record(events, result, rejected, rejectedRedelivered);
      for (const request of derived) request.resolve(result);
    } while (this.batchDue());
    this.metrics.pendingEvents.set(this.queuedItems);
  }

  private takeBatch(): EventDelivery[] {
    let items = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || items < this.options.maxEvents)) {
      const d = this.queue[count]!;
      items += Math.max(1, d.result.events.length + d.result.rejected.length);
      count += 1;
    }
    const batch = this.queue.splice(0, count);
    this.queuedItems -= items;
    for (const d of batch) this.queuedBySource.set(d.source, this.queuedBySource.get(d.source)! - 1);
    return batch;
  }

  /** Resumes the sources once half of the bound is free again (called as batches commit). */
  private release(): void {
    if (this.holding && this.queuedItems <= (this.options.maxPendingEvents ?? 0) / 2) {
      this.holding = false;
      this.logger.info({ pending: this.queuedItems }, 'ingest caught up: sources read again');
      this.options.onBackpressure?.('resume');
    }
  }

  private async commitWithRetry(events: NewEvent[], rejected: NewRejection[]): Promise<AppendReceipt> {
    for (let attempt = 1; ; attempt += 1) {
      const started = process.hrtime.bigint();
      try {
        const result = await this.store.append({ events, rejected });
        this.metrics.batchCommitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.lastCommitAt = Date.now() / 1000;
        this.lastCommitError = null;
        return result;
      } catch (error) {
        this.metrics.commitFailures.inc();
        const hint = commitFailureHint(error);
        this.lastCommitError = describeFailure(error);
        const retryInMs = backoffDelay(attempt, this.options.retryBackoff);
        this.logger.error(
          { err: error, database: this.store.description, events: events.length, rejected: rejected.length, attempt, retryInMs, hint },
          `committing a batch failed; nothing was acknowledged, retrying: ${hint}`,
        );
        if (this.stopped) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryInMs));
      }
    }
  }

  private acknowledge(deliveries: readonly EventDelivery[]): void {
    const bySource = new Map<string, EventDelivery[]>();
    for (const d of deliveries) {
      let list = bySource.get(d.source);
      if (!list) bySource.set(d.source, (list = []));
      list.push(d);
    }
    for (const [source, list] of bySource) this.ackers.get(source)?.acknowledge(list);
  }

  private record(events: readonly NewEvent[], result: AppendReceipt, rejected: readonly NewRejection[], rejectedRedelivered: readonly boolean[]): void {
    const now = Date.now() / 1000;
    const stored = new Map<string, { source: string; type: string; n: number }>();
    const newest = new Map<string, number>();
    for (const e of result.stored) {
      const key = `${e.source}\u0000${e.type}`;
      const entry = stored.get(key);
      if (entry) entry.n += 1;
      else stored.set(key, { source: e.source, type: e.type, n: 1 });
      if (e.timestamp > (newest.get(e.source) ?? 0)) newest.set(e.source, e.timestamp);
    }
    for (const { source, type, n } of stored.values()) this.metrics.eventsStored.inc({ source, type: this.metrics.typeLabel(type, source) }, n);
    for (const [source, ts] of newest) this.metrics.eventDelaySeconds.set({ source }, Math.max(0, now - ts));
    const duplicatesBySource = new Map<string, number>();
    const countDuplicate = (source: string) => duplicatesBySource.set(source, (duplicatesBySource.get(source) ?? 0) + 1);
    if (result.duplicates > 0) {
      const storedKeys = new Set(result.stored.map((e) => e.dedup_key));
      for (const e of events) if (!storedKeys.has(e.dedup_key)) countDuplicate(e.source);
    }
    // A bad message already kept aside is stored once. Redelivered (after a crash), it was counted
    // when it was first kept aside; sent again (a producer repeating it, pub/sub), it counts again.
    const fresh = new Set(result.rejectedNew);
    rejected.forEach((r, i) => {
      if (fresh.has(i) || !rejectedRedelivered[i]) this.metrics.rejected.inc({ source: r.source, reason: r.reason });
      else countDuplicate(r.source);
    });
    for (const [source, n] of duplicatesBySource) this.metrics.eventsDuplicate.inc({ source }, n);
    this.metrics.batchEvents.observe(result.stored.length + result.rejectedNew.length);
  }
}

/** Turns deliveries into log records (dedup keys computed once here). */
function toRecords(deliveries: readonly EventDelivery[]): { events: NewEvent[]; rejected: NewRejection[]; rejectedRedelivered: boolean[] } {
  const events: NewEvent[] = [];
  const rejected: NewRejection[] = [];
  const rejectedRedelivered: boolean[] = [];
  for (const d of deliveries) {
    for (const e of d.result.events) events.push(newEvent(d.source, d.receivedAt, e));
    for (const r of d.result.rejected) {
      rejected.push({
        source: d.source,
        reason: r.reason,
        detail: r.detail,
        routing_key: r.routingKey,
        content_type: r.contentType,
        raw: r.raw,
        raw_size: r.rawSize,
        received_at: d.receivedAt,
      });
      rejectedRedelivered.push(d.redelivered === true);
    }
  }
  return { events, rejected, rejectedRedelivered };
}
