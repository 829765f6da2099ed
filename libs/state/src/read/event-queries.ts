/** Read queries over the event log for audits (the only SQL the API runs against it, with the tail). */
import { toStoredEvent, type StoredEvent } from '../stored-event';
import type { Kysely } from 'kysely';
import type { DB } from '../schema';

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
  /** Whether more matching events follow the last one returned (as of this read). */
  hasMore: boolean;
}

export class EventQueries {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Matching events after a position, in position order: one statement reading `limit + 1` rows,
   * the extra one only telling whether there is more. Writers serialise and positions become
   * visible in commit order, so walking pages by the last position returned never skips an event.
   */
  async page(query: EventPageQuery): Promise<EventPage> {
    let q = this.db.selectFrom('events').selectAll().where('position', '>', query.after);
    if (query.types?.length) q = q.where('type', 'in', [...query.types]);
    if (query.hostname !== undefined) q = q.where('hostname', '=', query.hostname);
    if (query.uuid !== undefined) q = q.where('uuid', '=', query.uuid);
    if (query.sources?.length) q = q.where('source', 'in', [...query.sources]);
    const rows = await q.orderBy('position').limit(query.limit + 1).execute();
    const hasMore = rows.length > query.limit;
    if (hasMore) rows.length = query.limit;
    return {
      hasMore,
      events: rows.map(toStoredEvent),
    };
  }
}
