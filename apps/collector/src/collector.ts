/**
 * The collector process: broker sources → ingest pipeline (append + project in one transaction,
 * then ack) → event store; the liveness and lost-task policies and gap recording as derived events; HTTP probes
 * and metrics. `stop()` is the graceful shutdown: stop deliveries, commit and ack what arrived,
 * close.
 */
import { DEFAULT_BACKOFF, type EventDelivery, type EventSource, type SourceStatusEvent } from '../../../libs/broker/src';
import { EventStore, ThreadedEventWriter, redactUrl, type EventWriter } from '../../../libs/state/src';
import type { AddressInfo } from 'node:net';
import type { CollectorConfig } from './config';
import { ClockDriftMonitor } from './clock-drift';
import { describeFailure } from './commit-failure';
import { gapEvent } from './derived-events';
import { createEventSources } from './event-sources';
import { CollectorHttpServer, type ReadinessCheck } from './http-server';
import { IngestPipeline } from './ingest-pipeline';
import { LivenessPolicy } from './liveness-policy';
import { LostTaskPolicy } from './lost-task-policy';
import type { AppLogger } from '../../../libs/logging/src/logger';
import { CollectorMetrics } from './metrics';

const BACKLOG_POLL_MS = 5_000;
/** /readyz reads the broker backlogs again when they are older than this. */
const BACKLOG_FRESH_MS = 1_000;
const WRITE_PROBE_TIMEOUT_MS = 2_000;
/**
 * Retries of a failed commit: a retry costs one transaction, and once the cause is gone (disk
 * space freed, the database back) the backlog should move within seconds, not half a minute.
 */
const COMMIT_RETRY_BACKOFF = { initialMs: DEFAULT_BACKOFF.initialMs, maxMs: 5_000 };
/** Longest wait for the database size when rendering /metrics (Prometheus scrapes time out at 10 s). */
const SIZE_READ_TIMEOUT_MS = 1_000;

export class Collector {
  readonly metrics = new CollectorMetrics();
  private readonly sources: EventSource[];
  private readonly pipeline: IngestPipeline;
  private readonly liveness: LivenessPolicy;
  private readonly lostTasks: LostTaskPolicy | null;
  private readonly http: CollectorHttpServer;
  private readonly backlogs = new Map<string, number | null>();
  private readonly clockDrift = new ClockDriftMonitor();
  private backlogTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly config: CollectorConfig,
    readonly store: EventWriter,
    private readonly logger: AppLogger,
  ) {
    this.sources = createEventSources(config, logger);
    this.pipeline = new IngestPipeline(store, new Map(this.sources.map((s) => [s.name, s])), this.metrics, logger, {
      maxEvents: config.batch.maxEvents,
      maxDelayMs: config.batch.maxDelayMs,
      maxPendingEvents: config.batch.maxPendingEvents,
      onBackpressure: (reading) => {
        for (const source of this.sources) source.throttle(reading);
      },
      deliveryWindows: new Map(this.sources.flatMap((s) => (s.deliveryWindow === null ? [] : [[s.name, s.deliveryWindow] as const]))),
      retryBackoff: COMMIT_RETRY_BACKOFF,
    });
    this.liveness = new LivenessPolicy(
      store,
      {
        sourceStatus: (name) => this.sources.find((s) => s.name === name)?.status(),
        isBehind: () => this.isBehind(),
        appendDerived: (events) => this.pipeline.appendDerived(events),
        commitReceived: () => this.pipeline.commitReceived(),
      },
      this.metrics,
      logger,
      config.liveness,
    );
    this.lostTasks = config.lostTasks.enabled
      ? new LostTaskPolicy(
          store,
          {
            isBehind: () => this.isBehind(),
            appendDerived: (events) => this.pipeline.appendDerived(events),
            commitReceived: () => this.pipeline.commitReceived(),
          },
          this.metrics,
          logger,
          { checkIntervalMs: config.liveness.checkIntervalMs, graceSeconds: config.lostTasks.graceSeconds, drainSeconds: config.lostTasks.drainSeconds },
        )
      : null;
    this.http = new CollectorHttpServer({ readiness: () => this.readiness(), metrics: () => this.renderMetrics() });
  }

  static async open(config: CollectorConfig, logger: AppLogger): Promise<Collector> {
    const database = redactUrl(config.databaseUrl);
    const options = {
      sqliteSynchronous: config.sqliteSynchronous,
      sqliteCheckpoint: config.sqliteCheckpoint,
      onCheckpointFailure: (message: string) => logger.error({ database }, message),
      liveness: { expiryFactor: config.liveness.expiryFactor, defaultFreq: config.liveness.defaultFreq },
    };
    // SQLite transactions block the thread that runs them: give them a thread of their own, so
    // the brokers are read while a batch commits. Postgres I/O is asynchronous already.
    const store: EventWriter =
      config.databaseUrl.startsWith('sqlite:') && config.sqliteWriter === 'thread'
        ? await ThreadedEventWriter.open(config.databaseUrl, { ...options, onThreadExit: (message) => logger.error({ database }, message) })
        : await EventStore.open(config.databaseUrl, { ...options, onConnectionError: (message) => logger.warn({ database }, message) });
    return new Collector(config, store, logger);
  }

  /** Starts consuming; resolves with the HTTP address once /healthz answers. */
  async start(): Promise<AddressInfo> {
    const address = await this.http.listen(this.config.httpHost, this.config.httpPort);
    for (const source of this.sources) {
      this.metrics.sourceConnected.set({ source: source.name, transport: source.transport }, 0);
      source.start({
        onDelivery: (d) => {
          this.pipeline.push(d);
          this.reportClockDrift(d);
        },
        onStatus: (e) => void this.onSourceStatus(e),
      });
    }
    this.liveness.start();
    this.lostTasks?.start();
    this.backlogTimer = setInterval(() => void this.pollBacklogs(), BACKLOG_POLL_MS);
    this.logger.info(
      {
        database: this.store.description,
        brokers: this.config.brokers.map((b) => ({ name: b.name, transport: b.transport, url: redactUrl(b.url) })),
        http: `${address.address}:${address.port}`,
      },
      'collector started',
    );
    return address;
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.logger.info({ pending: this.pipeline.pendingItems }, 'shutting down: stopping deliveries, committing what arrived');
    if (this.backlogTimer) clearInterval(this.backlogTimer);
    // Deliveries stop first, even while a liveness check waits for a commit that keeps failing;
    // the policy judges nobody once stop() is called, so paused sources cannot look like dead workers.
    const policiesStopped = Promise.all([this.liveness.stop(), this.lostTasks?.stop()]);
    await Promise.all(this.sources.map((s) => s.pause().catch(() => undefined)));
    await this.pipeline.close();
    await policiesStopped;
    await Promise.all(this.sources.map((s) => s.stop().catch(() => undefined)));
    await this.http.close();
    await this.store.close();
    this.logger.info({}, 'collector stopped cleanly');
  }

  /** For a forced exit (the shutdown took too long): ends the writer thread, committing nothing more. */
  async abort(): Promise<void> {
    await this.store.abort?.();
  }

  private async onSourceStatus(event: SourceStatusEvent): Promise<void> {
    const source = this.sources.find((s) => s.name === event.source);
    if (event.kind === 'connected' || event.kind === 'disconnected') {
      this.metrics.sourceConnected.set({ source: event.source, transport: source?.transport ?? 'amqp' }, event.kind === 'connected' ? 1 : 0);
      return;
    }
    // A Redis gap: name the interval in the log. At start-up the gap runs from the newest event
    // this source ever stored; on a very first start there is nothing to miss.
    try {
      const from = event.from ?? (await this.store.sourceCheckpoint(event.source))?.last_received_at ?? null;
      if (from === null) {
        this.logger.info({ source: event.source }, 'first start on this Redis source: no gap to record');
        return;
      }
      const reason = event.from === null ? 'collector-started' : 'resubscribed';
      this.metrics.sourceGaps.inc({ source: event.source });
      await this.pipeline.appendDerived([gapEvent(event.source, from, event.to, reason, Date.now() / 1000)]);
      this.logger.warn(
        { source: event.source, from, to: event.to, seconds: Math.round((event.to - from) * 1000) / 1000, reason },
        'recorded an event gap: Redis pub/sub kept nothing while we were not listening',
      );
    } catch (error) {
      this.logger.error({ err: error, source: event.source }, 'could not record the event gap');
    }
  }

  private reportClockDrift(delivery: EventDelivery): void {
    for (const d of this.clockDrift.observe(delivery)) {
      this.metrics.clockDriftWarnings.inc({ source: d.source });
      const seconds = Math.round(Math.abs(d.driftSeconds) * 10) / 10;
      this.logger.warn(
        { hostname: d.hostname, source: d.source, driftSeconds: Math.round(d.driftSeconds * 1000) / 1000, timestamp: d.timestamp, receivedAt: d.receivedAt },
        `the clock of ${d.hostname} seems ${seconds} s ${d.driftSeconds > 0 ? 'behind' : 'ahead of'} the collector's: task times from different hosts ` +
          'will not compare (sent, received, started, runtimes across workers); synchronise the clocks (NTP)',
      );
    }
  }

  private isBehind(): boolean {
    const now = Date.now() / 1000;
    for (const age of this.pipeline.pendingAgeBySource(now).values()) if (age > 1) return true;
    for (const backlog of this.backlogs.values()) if (backlog !== null && backlog > this.config.batch.maxEvents) return true;
    return false;
  }

  /** The database size read in progress (for /metrics), if any. */
  private sizeRead: Promise<number> | null = null;

  /** When the broker backlogs were last read (ms). */
  private backlogsReadAt = 0;

  /** The broker backlogs, read again when older than BACKLOG_FRESH_MS (for /readyz). */
  private async freshBacklogs(): Promise<void> {
    if (Date.now() - this.backlogsReadAt <= BACKLOG_FRESH_MS) return;
    await withTimeout(this.pollBacklogs(), WRITE_PROBE_TIMEOUT_MS).catch(() => undefined);
  }

  private async pollBacklogs(): Promise<void> {
    this.backlogsReadAt = Date.now();
    await Promise.all(
      this.sources.map(async (s) => {
        const backlog = await s.backlog();
        this.backlogs.set(s.name, backlog);
        if (backlog !== null) this.metrics.brokerBacklog.set({ source: s.name }, backlog);
      }),
    );
  }

  async readiness(): Promise<ReadinessCheck[]> {
    const checks: ReadinessCheck[] = [];
    for (const s of this.sources) {
      const st = s.status();
      checks.push({
        name: `source:${s.name}`,
        ok: st.connected,
        detail: st.connected
          ? `${s.transport} connected since ${new Date(st.since * 1000).toISOString()}`
          : `${s.transport} disconnected since ${new Date(st.since * 1000).toISOString()}: ${st.lastError ?? 'connecting'}`,
      });
    }
    const probe = await withTimeout(this.store.probeWritable(), WRITE_PROBE_TIMEOUT_MS)
      .then(() => null)
      .catch((error: unknown) => describeFailure(error));
    // A batch whose commit keeps failing (a value the database refuses, say) is not ready either.
    const commitError = this.pipeline.lastCommit.error;
    checks.push({
      name: 'database',
      ok: probe === null && commitError === null,
      detail:
        probe !== null
          ? `not writable: ${probe}`
          : commitError !== null
            ? `the last commit failed (retrying): ${commitError}`
            : `writable (${this.store.description})`,
    });
    const now = Date.now() / 1000;
    const ages = this.pipeline.pendingAgeBySource(now);
    const maxAge = Math.max(0, ...ages.values());
    await this.freshBacklogs();
    const known = this.sources.filter((s) => s.transport === 'amqp').map((s) => this.backlogs.get(s.name) ?? null);
    const backlog = Math.max(0, ...known.map((b) => b ?? 0));
    const unknown = known.some((b) => b === null);
    const lagOk = maxAge <= this.config.ready.maxLagSeconds && backlog <= this.config.ready.maxBacklog;
    checks.push({
      name: 'lag',
      ok: lagOk,
      detail:
        `oldest uncommitted event ${maxAge.toFixed(1)} s (max ${this.config.ready.maxLagSeconds}), ` +
        `broker backlog ${backlog} messages${unknown ? ' (unknown for a disconnected RabbitMQ source)' : ''} (max ${this.config.ready.maxBacklog})`,
    });
    return checks;
  }

  private async renderMetrics(): Promise<{ contentType: string; body: string }> {
    const ages = this.pipeline.pendingAgeBySource(Date.now() / 1000);
    for (const s of this.sources) {
      this.metrics.consumerLagSeconds.set({ source: s.name }, ages.get(s.name) ?? 0);
      this.metrics.sourceConnected.set({ source: s.name, transport: s.transport }, s.status().connected ? 1 : 0);
    }
    // A database that answers slowly (a long commit ahead, a lock) leaves the last size in place;
    // one read at a time, so scrapes during an outage do not pile up requests.
    this.sizeRead ??= this.store.sizeBytes().finally(() => (this.sizeRead = null));
    const size = await withTimeout(this.sizeRead, SIZE_READ_TIMEOUT_MS).catch(() => null);
    if (size !== null) this.metrics.databaseSizeBytes.set(size);
    return { contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}
