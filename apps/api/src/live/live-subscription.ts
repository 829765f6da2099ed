/**
 * One client's subscription: an async iterator over items (events, task updates, worker updates)
 * with strictly increasing positions, each delivered once.
 *
 * Resume (afterPosition = P): catch up from the database, paced by the client (one page per pull,
 * never more than a page held), up to the tail's position; then join the tail.
 *   1. cursor := P.
 *   2. When the queue is empty: T := tailer.position(). If cursor >= T, join the tail now — in the
 *      same synchronous step as the comparison, so every page the tail hands out from then on
 *      holds only positions > T — and drop live items at or below cursor (only possible when P
 *      was ahead of this replica's tail).
 *   3. Otherwise read the next page of (cursor, T] from the log, queue what matches, advance
 *      cursor to the last position scanned, and go to 2 once the client has taken the page.
 * No gap: the log holds every position <= T (the tail read them from it), and the tail hands out
 * every position > T after the join. No duplicate: catch-up never reads past T, live items <=
 * cursor are dropped. A client slower than the live rate simply keeps reading the log.
 * Without afterPosition the subscription joins the tail at once: live from the current head.
 *
 * Live, the tail pushes into a queue bounded by `capacity` and never waits; when a page would
 * overflow it, the subscription ends with SUBSCRIBER_TOO_SLOW naming the last position delivered
 * (the client resubscribes with afterPosition = that position and misses nothing).
 */
import { GraphQLError } from 'graphql';
import type { LiveReadNeeds } from '../../../../libs/state/src';
import { subscriberTooSlow } from '../graphql/errors';
import type { LiveField } from './live-filters';
import type { LogTailer, TailPage, TailSubscriber } from './log-tailer';

/** How a kind of subscription selects from tail pages and catches up from the log. */
export interface LiveFeed<T> {
  readonly field: LiveField;
  readonly needs: LiveReadNeeds;
  /** Matching items of a page with position > after, in position order. */
  select(page: TailPage, after: number): T[];
  /** Matching items in (after, upTo], in order, from at most `limit` events; and the position scanned up to. */
  catchUp(after: number, upTo: number, limit: number): Promise<{ items: T[]; scannedTo: number }>;
  positionOf(item: T): number;
}

export type EndReason = 'complete' | 'cut-off' | 'failed';

export interface LiveSubscriptionOptions {
  /** Resume after this position; absent: live from the tail's current position. */
  afterPosition?: number;
  /** Items that may wait for the client before it is cut off. */
  capacity: number;
  /** Events read per catch-up statement (default 500). */
  catchUpPageSize?: number;
  /** Called once when the subscription ends, however it ends. */
  onEnd?: (reason: EndReason, subscription: LiveSubscription<unknown>) => void;
}

type State = 'catching-up' | 'live' | 'failed' | 'done';

export class LiveSubscription<T> implements AsyncIterableIterator<T>, TailSubscriber {
  readonly needs: LiveReadNeeds;
  private state: State;
  /** Catching up: the position scanned up to. Live: items at or below it are dropped. */
  private cursor: number;
  private delivered: number;
  private queue: T[] = [];
  private head = 0;
  private waiter: (() => void) | null = null;
  private error: GraphQLError | null = null;
  private readonly pageSize: number;

  constructor(
    private readonly tailer: LogTailer,
    private readonly feed: LiveFeed<T>,
    private readonly options: LiveSubscriptionOptions,
  ) {
    this.needs = feed.needs;
    this.pageSize = options.catchUpPageSize ?? 500;
    if (options.afterPosition === undefined) {
      this.cursor = tailer.position();
      this.delivered = this.cursor;
      this.state = 'live';
      tailer.add(this);
    } else {
      this.cursor = options.afterPosition;
      this.delivered = options.afterPosition;
      this.state = 'catching-up';
    }
  }

  get field(): LiveField {
    return this.feed.field;
  }

  /** Position of the last item handed to the client (afterPosition or the start head before any). */
  get lastDelivered(): number {
    return this.delivered;
  }

  get isLive(): boolean {
    return this.state === 'live';
  }

  /** Items waiting for the client. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  offer(page: TailPage): void {
    if (this.state !== 'live' || page.last <= this.cursor) return;
    const items = this.feed.select(page, this.cursor);
    if (items.length === 0) return;
    if (this.pending + items.length > this.options.capacity) {
      this.cutOff();
      return;
    }
    for (const item of items) this.queue.push(item);
    this.notify();
  }

  async next(): Promise<IteratorResult<T>> {
    if (!(await this.waitForItems())) return { value: undefined, done: true };
    return { value: this.take(1)[0]!, done: false };
  }

  /**
   * The batched form of next(): waits for at least one item, then takes every item already waiting,
   * up to `max`, in order (catching up, a page of the log at most).
   */
  async nextBatch(max: number): Promise<IteratorResult<T[]>> {
    if (!(await this.waitForItems())) return { value: undefined, done: true };
    return { value: this.take(max), done: false };
  }

  /** Resolves true once items wait, false once the subscription is over; throws its error once. */
  private async waitForItems(): Promise<boolean> {
    for (;;) {
      if (this.pending > 0) return true;
      switch (this.state) {
        case 'failed': {
          const error = this.error!;
          this.state = 'done';
          throw error;
        }
        case 'done':
          return false;
        case 'catching-up':
          await this.catchUp();
          break;
        case 'live':
          await new Promise<void>((resolve) => (this.waiter = resolve));
          break;
      }
    }
  }

  private take(max: number): T[] {
    const end = Math.min(this.queue.length, this.head + Math.max(1, max));
    const items = this.queue.slice(this.head, end);
    this.queue.fill(undefined as T, this.head, end);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.delivered = this.feed.positionOf(items[items.length - 1]!);
    return items;
  }

  async return(): Promise<IteratorResult<T>> {
    this.end('complete');
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end('complete');
    throw error;
  }

  private async catchUp(): Promise<void> {
    let upTo = this.tailer.position();
    if (this.cursor > upTo) {
      if (!(await this.positionIsStored(this.cursor))) return;
      if (this.state !== 'catching-up') return; // ended meanwhile
      // The tail may have handed out pages meanwhile: read its position again, and join it (or
      // not) in this same synchronous step.
      upTo = this.tailer.position();
    }
    if (this.cursor >= upTo) {
      this.state = 'live';
      this.tailer.add(this);
      return;
    }
    let page: { items: T[]; scannedTo: number };
    try {
      page = await this.feed.catchUp(this.cursor, upTo, this.pageSize);
    } catch (error) {
      if (this.state !== 'catching-up') return;
      this.fail(
        new GraphQLError(
          `${this.field}: reading the event log failed (${error instanceof Error ? error.message : String(error)}); the last position delivered was ${this.delivered}: subscribe again with afterPosition: ${this.delivered}`,
          { extensions: { code: 'INTERNAL_SERVER_ERROR', lastPosition: this.delivered } },
        ),
        'failed',
      );
      return;
    }
    if (this.state !== 'catching-up') return; // ended while reading
    for (const item of page.items) this.queue.push(item);
    this.cursor = Math.max(this.cursor, page.scannedTo);
    // SQLite reads resolve at once: without a turn of the event loop per page, a client catching
    // up on a long log would hold it (probes, other subscribers, its own `complete`) until done.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * An afterPosition ahead of this API's tail is fine when the log holds it (another replica's
   * tail was ahead); beyond the log's newest position it never came from this database (another
   * database, or one rebuilt from scratch), and waiting for it would stay silent for good.
   */
  private async positionIsStored(position: number): Promise<boolean> {
    let head: number;
    try {
      head = await this.tailer.logHead();
    } catch {
      return true; // cannot tell: wait for it, as before
    }
    if (position <= head || this.state !== 'catching-up') return true;
    this.fail(
      new GraphQLError(
        `${this.field}: afterPosition ${position} is beyond the newest position in the event log (${head}): pass the last position this API sent you, or leave afterPosition out to start from now`,
        { extensions: { code: 'BAD_USER_INPUT', argument: 'afterPosition' } },
      ),
      'failed',
    );
    return false;
  }

  private cutOff(): void {
    const base = subscriberTooSlow(
      `${this.field} subscription ended: the client fell behind (more than ${this.options.capacity} updates waiting). ` +
        `The last position delivered was ${this.delivered}: subscribe again with afterPosition: ${this.delivered} to continue without a gap.`,
    );
    this.fail(new GraphQLError(base.message, { extensions: { ...base.extensions, lastPosition: this.delivered } }), 'cut-off');
  }

  private fail(error: GraphQLError, reason: EndReason): void {
    if (this.state === 'done' || this.state === 'failed') return;
    this.error = error;
    this.queue = [];
    this.head = 0;
    this.tailer.remove(this);
    this.state = 'failed';
    this.options.onEnd?.(reason, this);
    this.notify();
  }

  private end(reason: EndReason): void {
    const wasOpen = this.state !== 'done' && this.state !== 'failed';
    this.state = 'done';
    this.queue = [];
    this.head = 0;
    this.tailer.remove(this);
    if (wasOpen) this.options.onEnd?.(reason, this);
    this.notify();
  }

  private notify(): void {
    const wake = this.waiter;
    this.waiter = null;
    wake?.();
  }
}
