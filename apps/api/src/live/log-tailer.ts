/**
 * The one log tail of an API process: polls the event log by position every `intervalMs` and
 * hands each page, synchronously, to every live subscriber. It never waits for a subscriber: each
 * one queues what it wants (bounded) and is cut off when it falls behind (see LiveSubscription).
 *
 * When some subscriber wants task or worker updates, each page comes with the rows its events
 * touched — one batched statement per kind of row, events and rows read from one snapshot.
 * Several API replicas (Postgres) each run their own tail; nothing is shared between them.
 *
 * Where the writer announces its commits (Postgres NOTIFY, see CommitListener), logGrew() polls at
 * once, and while those announcements arrive the interval is only a safety net (notifiedIntervalMs).
 */
import type { LiveBatch, LiveQueries, LiveReadNeeds, RowUpdate, StoredEvent, TaskRecord, WorkerRecord } from '../../../../libs/state/src';
import type { TailHealth } from '../tokens';

/** What the tail hands to subscribers: one page of the log, in position order. */
export interface TailPage {
  events: readonly StoredEvent[];
  /** One update per task touched by the page (empty unless a subscriber wants task updates). */
  tasks: readonly RowUpdate<TaskRecord>[];
  /** One update per worker touched by the page (empty unless a subscriber wants worker updates). */
  workers: readonly RowUpdate<WorkerRecord>[];
  /** Position of the page's last event: the tail position once the page is handed out. */
  last: number;
}

export interface TailSubscriber {
  readonly needs: LiveReadNeeds;
  /** Called synchronously for every page after the subscriber was added; must not block. */
  offer(page: TailPage): void;
}

export interface TailerLogger {
  warn(obj: object, msg: string): void;
  error?(obj: object, msg: string): void;
}

export interface LogTailerOptions {
  /** Polling interval (ms) while nothing announces commits. */
  intervalMs: number;
  /** Polling interval (ms) while commit notifications arrive (default intervalMs). */
  notifiedIntervalMs?: number;
  /** Events read per statement (default 1000); a full page is followed at once by the next. */
  pageSize?: number;
  /** Called with the tail position after each page (for the tailPosition gauge). */
  onPosition?: (position: number) => void;
  logger?: TailerLogger;
  /** For tests: the clock. */
  now?: () => number;
}

export class LogTailer implements TailHealth {
  private readonly subscribers = new Set<TailSubscriber>();
  private readonly pageSize: number;
  private readonly now: () => number;
  private tail = -1;
  /** When a poll last found the tail at the log head (ms); null before the first poll. */
  private currentAt: number | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** A commit was announced while a poll ran: poll again right after it. */
  private pollAgain = false;
  private notified = false;
  private failures = 0;

  constructor(
    private readonly queries: LiveQueries,
    private readonly options: LogTailerOptions,
  ) {
    this.pageSize = options.pageSize ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Reads the log head (live subscriptions start there), then polls until stop(). */
  async start(): Promise<void> {
    if (this.running) return;
    await this.init();
    this.running = true;
    this.loop = this.run();
  }

  /** Reads the log head without polling (start() does it; tests poll() by hand after it). */
  async init(): Promise<void> {
    this.tail = await this.queries.head();
    this.options.onPosition?.(this.tail);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  /** The newest position handed to subscribers (the log head at start, -1 before start). */
  position(): number {
    return this.tail;
  }

  /** The newest position stored in the log, read now (it may be ahead of position()). */
  logHead(): Promise<number> {
    return this.queries.head();
  }

  /** Seconds since the tail was last seen at the log head; 0 while it keeps up; null before its first poll. */
  lagSeconds(): number | null {
    if (this.currentAt === null) return null;
    const behindMs = this.now() - this.currentAt;
    // A healthy tail confirms it is current every interval; allow a few missed polls before saying it lags.
    return behindMs <= Math.max(1000, 3 * this.intervalMs()) ? 0 : behindMs / 1000;
  }

  /** The writer announced a commit: poll now instead of at the next interval. */
  logGrew(): void {
    if (this.wake) this.wake();
    else this.pollAgain = true;
  }

  /**
   * Whether commit announcements arrive (true once listening, false when that connection is lost):
   * while they do, polls are only a safety net, every notifiedIntervalMs. Either way, poll now
   * (commits announced while nobody listened were missed).
   */
  commitNotifications(arriving: boolean): void {
    this.notified = arriving;
    this.logGrew();
  }

  private intervalMs(): number {
    return this.notified ? (this.options.notifiedIntervalMs ?? this.options.intervalMs) : this.options.intervalMs;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Subscribes to every page after position(), from the next page on. Synchronous on purpose. */
  add(subscriber: TailSubscriber): void {
    this.subscribers.add(subscriber);
  }

  remove(subscriber: TailSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  /** Reads one page and hands it out; true when the page was full (more is waiting). */
  async poll(): Promise<boolean> {
    for (;;) {
      const needs = this.needs();
      const batch = await this.queries.batch(this.tail, this.pageSize, needs, { snapshot: true });
      // A subscriber that wants rows joined during the read: read again (the tail has not moved).
      const now = this.needs();
      if ((now.tasks && !needs.tasks) || (now.workers && !needs.workers)) continue;
      if (batch.events.length > 0) this.dispatch(batch);
      const full = batch.events.length >= this.pageSize;
      if (!full) this.currentAt = this.now();
      return full;
    }
  }

  private needs(): LiveReadNeeds {
    let tasks = false;
    let workers = false;
    for (const s of this.subscribers) {
      tasks ||= s.needs.tasks;
      workers ||= s.needs.workers;
    }
    return { tasks, workers };
  }

  private dispatch(batch: LiveBatch): void {
    const last = batch.events[batch.events.length - 1]!.position;
    const page: TailPage = { events: batch.events, tasks: batch.taskUpdates, workers: batch.workerUpdates, last };
    // Position and hand-out in one synchronous step: a subscriber added at position() gets every later page.
    this.tail = last;
    this.options.onPosition?.(last);
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber.offer(page);
      } catch (error) {
        this.options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'live subscriber failed on a page');
      }
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let full = false;
      this.pollAgain = false;
      try {
        full = await this.poll();
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        if (this.failures === 1 || this.failures % 100 === 0) {
          this.options.logger?.warn({ err: error instanceof Error ? error.message : String(error), failures: this.failures }, 'log tail read failed; retrying');
        }
      }
      if (!this.running) break;
      // Behind: go on at once (after letting other work run). Current: wait an interval; failing: back off up to 1 s.
      const delay =
        full || this.pollAgain ? 0 : this.failures > 0 ? Math.min(1000, this.options.intervalMs * 2 ** Math.min(this.failures, 10)) : this.intervalMs();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => ((this.wake = null), resolve()), delay);
        this.wake = () => (clearTimeout(timer), (this.wake = null), resolve());
      });
    }
  }
}
