/** Read queries over the event log for audits (the only SQL the API runs against it, with the tail). */
import { toStoredEvent, type StoredEvent } from '../stored-event';
import type { Kysely } from 'kysely';
import type { DB } from '../schema';
import { eventsSource } from './events-of-tasks';

export interface EventPageQuery {
  /** Exclusive lower bound on the position (0 for the start of the log). */
  after: number;
  /** Largest number of events returned. */
  limit: number;
  /** Event types; any of them (omitted or empty: every type). */
  types?: readonly string[];
  /** Exact hostname (node name). */
  hostname?: string;
  /** Exact task id. */
  uuid?: string;
  /** Source names; any of them (omitted or empty: every source). */
  sources?: readonly string[];
}

export interface EventPage {
  /** Matching events, in position order. */
  events: StoredEvent[];
  /**
   * Where the read stopped: the last event returned when the page is full, else the end of the
   * positions examined (or `after` when nothing was). The next page starts after it.
   */
  endPosition: number;
  /** Whether the log after endPosition may hold more matches (as of this read). */
  hasMore: boolean;
}

export interface EventQueryOptions {
  /**
   * Positions one page examines at most when neither uuid nor hostname narrows it (their indexes
   * do): a filter that matches rarely (a type, a source) then returns a short page, or an empty
   * one, with hasMore, instead of reading the whole log in one statement — on SQLite, a statement
   * holds the API's event loop until it ends. Default SCAN_WINDOW.
   */
  scanWindow?: number;
}

/** About 25 ms of reading on a 2-core machine (0.5 µs per event). */
export const SCAN_WINDOW = 50_000;

export class EventQueries {
  private readonly scanWindow: number;

  constructor(
    private readonly db: Kysely<DB>,
    options: EventQueryOptions = {},
  ) {
    this.scanWindow = options.scanWindow ?? SCAN_WINDOW;
  }

  /**
   * Matching events after a position, in position order, reading `limit + 1` rows (the extra one
   * only tells whether there is more). Without a uuid or hostname, the page examines at most
   * `scanWindow` positions, up to the log head read first. Writers serialise and positions become
   * visible in commit order, so every position up to that head is committed and walking pages by
   * endPosition never skips an event.
   */
  async page(query: EventPageQuery): Promise<EventPage> {
    const windowed = query.uuid === undefined && query.hostname === undefined;
    let head = Infinity;
    let upTo = Infinity;
    if (windowed) {
      const row = await this.db.selectFrom('events').select((eb) => eb.fn.max('position').as('head')).executeTakeFirst();
      head = row?.head === null || row?.head === undefined ? 0 : Number(row.head);
      if (head <= query.after) return { events: [], endPosition: query.after, hasMore: false };
      upTo = Math.min(head, query.after + this.scanWindow);
    }
    let q = eventsSource(this.db, query.uuid).selectAll().where('position', '>', query.after);
    if (windowed) q = q.where('position', '<=', upTo);
    if (query.types?.length) q = q.where('type', 'in', [...query.types]);
    if (query.hostname !== undefined) q = q.where('hostname', '=', query.hostname);
    if (query.sources?.length) q = q.where('source', 'in', [...query.sources]);
    const rows = await q.orderBy('position').limit(query.limit + 1).execute();
    const events = rows.slice(0, query.limit).map(toStoredEvent);
    const lastReturned = events.at(-1)?.position ?? query.after;
    if (rows.length > query.limit) return { events, endPosition: lastReturned, hasMore: true };
    // The window ended before the head: the rest of the log is still to be read.
    if (upTo < head) return { events, endPosition: upTo, hasMore: true };
    return { events, endPosition: lastReturned, hasMore: false };
  }
}
