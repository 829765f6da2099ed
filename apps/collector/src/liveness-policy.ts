/**
 * Declares workers offline when their signs of life stop: every `checkIntervalMs`, online workers
 * whose heartbeat expiry (collector clock) has passed get a derived `worker-offline` event
 * (reason `heartbeat-timeout`). It only judges a worker when the collector can see it: its broker
 * source is connected and has been for a whole expiry window, and no backlog is waiting to be
 * committed — so a restart or a reconnect never declares live workers dead. Before judging, it
 * commits the events received so far: one of them may be the sign of life.
 */
import type { EventWriter, WorkerRecord } from '../../../libs/state/src';
import type { SourceStatus } from '../../../libs/broker/src';
import { heartbeatTimeoutEvent } from './derived-events';
import { PeriodicCheck } from './periodic-check';
import type { AppLogger } from '../../../libs/logging/src/logger';
import type { CollectorMetrics } from './metrics';

export interface LivenessView {
  sourceStatus(name: string): SourceStatus | undefined;
  /** True while received events have waited long for their commit, or the broker holds a backlog for us. */
  isBehind(): boolean;
  /** Commits every event received so far (a sign of life may be waiting for its batch). */
  commitReceived(): Promise<void>;
  appendDerived: (events: ReturnType<typeof heartbeatTimeoutEvent>[]) => Promise<unknown>;
}

export interface LivenessPolicyOptions {
  expiryFactor: number;
  defaultFreq: number;
  checkIntervalMs: number;
}

export class LivenessPolicy {
  private readonly periodic: PeriodicCheck;

  constructor(
    private readonly store: Pick<EventWriter, 'expiredWorkers'>,
    private readonly view: LivenessView,
    private readonly metrics: CollectorMetrics,
    private readonly logger: AppLogger,
    private readonly options: LivenessPolicyOptions,
  ) {
    this.periodic = new PeriodicCheck(options.checkIntervalMs, () => this.check());
  }

  /** Set by stop(): no worker is judged from then on, by a check in progress either. */
  private get stopped(): boolean {
    return this.periodic.stopped;
  }

  start(): void {
    this.periodic.start();
  }

  /**
   * Judges nobody from the call on (a check waiting for its commit or its reads included; a verdict
   * already being appended is kept) and resolves when the check in progress, if any, has ended.
   */
  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** The expired workers the collector can see: their source connected for a whole expiry window of theirs. */
  private judgeable(expired: WorkerRecord[], now: number): WorkerRecord[] {
    return expired.filter((w) => {
      const status = this.sourceOf(w);
      if (!status || !status.connected) return false;
      const window = (w.freq ?? this.options.defaultFreq) * this.options.expiryFactor;
      return now - status.since >= window;
    });
  }

  private sourceOf(w: WorkerRecord): SourceStatus | undefined {
    return w.source ? this.view.sourceStatus(w.source) : undefined;
  }

  /** One pass; returns the hostnames declared offline. */
  async check(now = Date.now() / 1000): Promise<string[]> {
    if (this.stopped || this.view.isBehind()) return [];
    try {
      const expired = await this.store.expiredWorkers(now);
      if (!expired.some((w) => this.sourceOf(w)?.connected === true)) return [];
      // Someone on a source we read is expired: commit what was received first (now, or the
      // events would grow "behind" while waiting for their batch), and look again. A heartbeat
      // that arrived before the expiry but still waits for its batch would otherwise be projected
      // just before an offline event stamped later than itself, and the worker would stay offline.
      await this.view.commitReceived();
      // Stopped meanwhile (a shutdown pauses the sources): silence from now on proves nothing.
      if (this.stopped) return [];
      const judged = this.judgeable(await this.store.expiredWorkers(now), now);
      if (judged.length === 0 || this.stopped) return [];
      const events = judged.map((w) => heartbeatTimeoutEvent(w, this.options.expiryFactor, this.options.defaultFreq, now));
      await this.view.appendDerived(events);
      this.metrics.workersDeclaredOffline.inc(judged.length);
      for (const w of judged) {
        this.logger.info(
          { worker: w.hostname, source: w.source, lastSeenAt: w.last_seen_at, freq: w.freq, expiredAt: w.heartbeat_expires_at },
          'worker declared offline: heartbeats stopped',
        );
      }
      return judged.map((w) => w.hostname);
    } catch (error) {
      this.logger.error({ err: error }, 'liveness check failed; will retry at the next interval');
      return [];
    }
  }
}
