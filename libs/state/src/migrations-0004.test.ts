/**
 * Migration 0004 (events de-duplicated by (timestamp, dedup_key)) on a log written under 0003:
 * every event keeps its position, positions are never reused, duplicates are still refused, and
 * `down` restores the old unique constraint. Both dialects.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/test-databases';
import { heartbeat, successfulTask, T0 } from '../../../test/support/event-factory';
import { openDatabase, type Database } from './database';
import { EventStore } from './event-store';
import { migratorFor } from './migrate';
import type { NewEvent } from './new-event';

async function openAt(url: string, target: string): Promise<Database> {
  const database = openDatabase(url);
  if (database.pgSchema) await sql`create schema if not exists ${sql.id(database.pgSchema)}`.execute(database.db);
  const { error } = await (await migratorFor(database)).migrateTo(target);
  if (error) throw error;
  return database;
}

/** Inserts like the 0003-era writer did (conflict target: dedup_key alone). */
async function insertAsBefore(database: Database, events: readonly NewEvent[]): Promise<void> {
  await database.db
    .insertInto('events')
    .values(events.map((e) => ({ dedup_key: e.dedup_key, source: e.source, type: e.type, hostname: e.hostname, uuid: e.uuid, clock: e.clock, timestamp: e.timestamp, received_at: e.received_at, payload: e.payload_json })))
    .onConflict((oc) => oc.column('dedup_key').doNothing())
    .execute();
}

async function positions(database: Database): Promise<Array<{ position: number; dedup_key: string }>> {
  const rows = await database.db.selectFrom('events').select(['position', 'dedup_key']).orderBy('position').execute();
  return rows.map((r) => ({ position: Number(r.position), dedup_key: r.dedup_key }));
}

describe.each(DIALECTS)('migration 0004_events_dedup_by_time on %s', (dialect) => {
  let db: TestDatabase;

  afterEach(async () => {
    await db.drop();
  });

  it('keeps every event and its position, never reuses a position, and still refuses duplicates', async () => {
    db = createTestDatabase(dialect);
    const events = [...successfulTask('m4-a', T0), ...successfulTask('m4-b', T0 + 1), heartbeat('celery@w1', T0 + 2, 9)];
    const old = await openAt(db.url, '0003_task_name_runtime_index');
    await insertAsBefore(old, events);
    const before = await positions(old);
    // The newest event leaves the table: its position must not come back after the rebuild.
    const last = before[before.length - 1]!;
    await old.db.deleteFrom('events').where('position', '=', last.position).execute();
    await old.close();

    const store = await EventStore.open(db.url);
    try {
      expect(await positions(store.database)).toEqual(before.slice(0, -1));
      const again = await store.append({ events, rejected: [] });
      // Only the deleted event is new; it gets a position after every one ever given.
      expect(again.stored.map((e) => e.dedup_key)).toEqual([last.dedup_key]);
      expect(again.duplicates).toBe(events.length - 1);
      expect(again.stored[0]!.position).toBeGreaterThan(last.position);
      const twice = await store.append({ events, rejected: [] });
      expect(twice.stored).toEqual([]);
      expect(twice.duplicates).toBe(events.length);
    } finally {
      await store.close();
    }
  });

  it('makes (timestamp, dedup_key) the unique key, and down restores unique(dedup_key)', async () => {
    db = createTestDatabase(dialect);
    const store = await EventStore.open(db.url);
    const events = successfulTask('m4-c', T0);
    await store.append({ events, rejected: [] });
    const database = store.database;
    try {
      // Same dedup_key, other timestamp: only (timestamp, dedup_key) is unique now.
      const e = events[0]!;
      const row = { dedup_key: e.dedup_key, source: e.source, type: e.type, hostname: e.hostname, uuid: e.uuid, clock: e.clock, received_at: e.received_at, payload: e.payload_json };
      await expect(database.db.insertInto('events').values({ ...row, timestamp: e.timestamp }).execute()).rejects.toThrow(/unique|duplicate/i);
      await database.db.insertInto('events').values({ ...row, timestamp: e.timestamp + 1 }).execute();
      await database.db.deleteFrom('events').where('timestamp', '=', e.timestamp + 1).execute();

      const { error } = await (await migratorFor(database)).migrateTo('0003_task_name_runtime_index');
      expect(error).toBeUndefined();
      expect((await positions(database)).length).toBe(events.length);
      await expect(database.db.insertInto('events').values({ ...row, timestamp: e.timestamp + 1 }).execute()).rejects.toThrow(/unique|duplicate/i);
    } finally {
      await store.close();
    }
  });
});
