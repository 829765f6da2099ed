/** The append-only event log and its rejected messages: the only SQL that touches them. */
import { toStoredEvent, type StoredEvent } from '../stored-event';
import type { Kysely } from 'kysely';
import type { DB } from '../schema';
import { rejectionDedupKey, type NewEvent, type NewRejection } from '../new-event';
import type { PreparedStatements } from '../sqlite/prepared-statements';
import { nullableTextColumn, textColumn } from '../text-columns';

/** Rows per INSERT statement: under SQLite's 32 766 and Postgres's 65 535 bound parameters. */
const EVENT_CHUNK = 500;
const REJECTION_CHUNK = 200;

const SQLITE_INSERT_EVENT =
  'insert into events (dedup_key, source, type, hostname, uuid, clock, timestamp, received_at, payload) ' +
  'values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (timestamp, dedup_key) do nothing returning position';

export class EventLogRepository {
  /** `sqlite`: prepared statements of the SQLite connection (null on Postgres). */
  constructor(private readonly sqlite: PreparedStatements | null = null) {}

  /**
   * Appends events whose dedup_key is new; returns those stored, in position order. Events already
   * in the log (redelivered, or stored by another collector) are skipped silently.
   */
  async append(trx: Kysely<DB>, events: readonly NewEvent[]): Promise<StoredEvent[]> {
    // The same event twice inside one batch: keep the first.
    const unique = dedupeWithinBatch(events);
    if (this.sqlite) return this.appendSqlite(this.sqlite, unique);
    const stored: StoredEvent[] = [];
    for (let i = 0; i < unique.length; i += EVENT_CHUNK) {
      const chunk = unique.slice(i, i + EVENT_CHUNK);
      const rows = await trx
        .insertInto('events')
        .values(
          chunk.map((e) => ({
            dedup_key: e.dedup_key,
            source: e.source,
            type: e.type,
            hostname: e.hostname,
            uuid: e.uuid,
            clock: e.clock,
            timestamp: e.timestamp,
            received_at: e.received_at,
            payload: e.payload_json,
          })),
        )
        // The unique index is (timestamp, dedup_key): one payload, one pair (migration 0004).
        .onConflict((oc) => oc.columns(['timestamp', 'dedup_key']).doNothing())
        .returning(['position', 'dedup_key'])
        .execute();
      const byKey = new Map(chunk.map((e) => [e.dedup_key, e]));
      for (const row of rows) stored.push(toStored(row.position, byKey.get(row.dedup_key)!));
    }
    stored.sort((a, b) => a.position - b.position);
    return stored;
  }

  private appendSqlite(cache: PreparedStatements, events: readonly NewEvent[]): StoredEvent[] {
    const insert = cache.get(SQLITE_INSERT_EVENT);
    const stored: StoredEvent[] = [];
    for (const e of events) {
      const row = insert.get(e.dedup_key, e.source, e.type, e.hostname, e.uuid, e.clock, e.timestamp, e.received_at, e.payload_json) as
        | { position: number }
        | undefined;
      if (row) stored.push(toStored(row.position, e));
    }
    return stored;
  }

  /**
   * Keeps rejected messages aside, each once (a redelivered bad message is already there); returns
   * the indexes in `rejections` of those that were new.
   */
  async storeRejected(trx: Kysely<DB>, rejections: readonly NewRejection[]): Promise<number[]> {
    const fresh: number[] = [];
    for (let i = 0; i < rejections.length; i += REJECTION_CHUNK) {
      const chunk = rejections.slice(i, i + REJECTION_CHUNK);
      const keys = chunk.map(rejectionDedupKey);
      const rows = await trx
        .insertInto('rejected_messages')
        .values(
          chunk.map((r, k) => ({
            dedup_key: keys[k]!,
            source: r.source,
            reason: r.reason,
            detail: textColumn(r.detail),
            routing_key: nullableTextColumn(r.routing_key),
            content_type: nullableTextColumn(r.content_type),
            raw: r.raw,
            raw_size: r.raw_size,
            received_at: r.received_at,
          })),
        )
        .onConflict((oc) => oc.column('dedup_key').doNothing())
        .returning('dedup_key')
        .execute();
      // The same message twice in one chunk is inserted once: the first of them is the new one.
      const inserted = new Set(rows.map((row) => row.dedup_key));
      keys.forEach((key, k) => {
        if (inserted.delete(key)) fresh.push(i + k);
      });
    }
    return fresh;
  }

  /** Events after a position, in position order. */
  async readAfter(db: Kysely<DB>, afterPosition: number, limit: number): Promise<StoredEvent[]> {
    const rows = await db
      .selectFrom('events')
      .selectAll()
      .where('position', '>', afterPosition)
      .orderBy('position')
      .limit(limit)
      .execute();
    return rows.map(toStoredEvent);
  }

  async lastPosition(db: Kysely<DB>): Promise<number> {
    const row = await db.selectFrom('events').select((eb) => eb.fn.max('position').as('p')).executeTakeFirst();
    return Number(row?.p ?? 0);
  }

  async countEvents(db: Kysely<DB>): Promise<number> {
    const row = await db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function toStored(position: number, e: NewEvent): StoredEvent {
  return {
    position,
    dedup_key: e.dedup_key,
    source: e.source,
    type: e.type,
    hostname: e.hostname,
    uuid: e.uuid,
    clock: e.clock,
    timestamp: e.timestamp,
    received_at: e.received_at,
    payload: e.payload,
  };
}

function dedupeWithinBatch(events: readonly NewEvent[]): readonly NewEvent[] {
  const seen = new Set<string>();
  let duplicate = false;
  for (const e of events) {
    if (seen.has(e.dedup_key)) {
      duplicate = true;
      break;
    }
    seen.add(e.dedup_key);
  }
  if (!duplicate) return events;
  seen.clear();
  return events.filter((e) => (seen.has(e.dedup_key) ? false : (seen.add(e.dedup_key), true)));
}
