/**
 * Several writers on one database: each event is stored and projected once, and a reader tailing
 * the log by position never skips an event that committed late.
 *
 * On Postgres the writers are separate stores (as two collectors would be). On SQLite, writers
 * belong in separate processes (better-sqlite3 waits for the write lock synchronously, so two
 * writing connections in ONE process would wait on each other forever): here the racing appends go
 * through one store, and the reader is a connection of its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventStore } from './event-store';
import type { NewEvent } from './new-event';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/test-databases';
import { heartbeat, successfulTask, T0 } from '../../../test/support/event-factory';
import { damageProjections } from '../../../test/support/damage-projections';

describe.each(DIALECTS)('concurrent writers on %s', (dialect) => {
  let db: TestDatabase;
  const stores: EventStore[] = [];

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await db.drop();
  });

  async function openStores(n: number): Promise<EventStore[]> {
    db = createTestDatabase(dialect);
    for (let i = 0; i < n; i += 1) stores.push(await EventStore.open(db.url));
    return stores;
  }

  it('two collectors appending the same stream store and project every event once', async () => {
    const opened = await openStores(dialect === 'postgres' ? 2 : 1);
    const a = opened[0];
    const b = opened[1] ?? opened[0];
    const events: NewEvent[] = [];
    for (let i = 0; i < 60; i += 1) events.push(...successfulTask(`c-${i}`, T0 + i, `celery@w${i % 4}`));
    for (let i = 0; i < 30; i += 1) events.push(heartbeat(`celery@w${i % 4}`, T0 + i, 1000 + i));
    // Each collector receives the whole stream, in its own batch sizes.
    const feed = async (store: EventStore, batch: number) => {
      let stored = 0;
      for (let i = 0; i < events.length; i += batch) stored += (await store.append({ events: events.slice(i, i + batch), rejected: [] })).stored.length;
      return stored;
    };
    const [storedByA, storedByB] = await Promise.all([feed(a!, 13), feed(b!, 29)]);
    expect(storedByA + storedByB).toBe(events.length);
    expect(await a!.readEvents(0, 10_000)).toHaveLength(events.length);

    const tasks = await a!.allTasks();
    expect(tasks).toHaveLength(60);
    expect(tasks.every((t) => t.state === 'SUCCESS' && t.event_count === 4)).toBe(true);
    const counts = (await a!.allWorkers()).map((w) => JSON.parse(w.task_counts) as Record<string, number>);
    expect(counts.reduce((n, c) => n + (c.SUCCESS ?? 0), 0)).toBe(60);

    // Projections equal a rebuild from the log.
    const workers = await a!.allWorkers();
    await damageProjections(a!.database.db);
    await a!.rebuildProjections();
    expect(await a!.allTasks()).toEqual(tasks);
    expect(await a!.allWorkers()).toEqual(workers);
  });

  it('a reader tailing by position sees every event exactly once while writers race', async () => {
    const opened = await openStores(dialect === 'postgres' ? 3 : 2);
    const w1 = opened[0];
    const w2 = dialect === 'postgres' ? opened[1] : opened[0];
    const reader = opened[opened.length - 1];
    const all: NewEvent[] = [];
    for (let i = 0; i < 300; i += 1) all.push(heartbeat(`celery@tail${i % 5}`, T0 + i / 10, i));
    const half = all.length / 2;
    let writing = true;
    let failed: unknown = null;
    const write = async (store: EventStore, events: NewEvent[]) => {
      for (let i = 0; i < events.length; i += 7) await store.append({ events: events.slice(i, i + 7), rejected: [] });
    };
    const seen: number[] = [];
    const tail = async () => {
      let after = 0;
      for (;;) {
        // Only a read that began after the last commit may end the tail: one that began before
        // it can come back empty after `writing` turned false.
        const writersDone = !writing;
        const page = await reader!.readEvents(after, 50);
        for (const e of page) seen.push(e.clock!);
        if (page.length > 0) after = page[page.length - 1]!.position;
        else if (writersDone) return;
        else await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    const tailing = tail().catch((error: unknown) => (failed = error));
    try {
      await Promise.all([write(w1!, all.slice(0, half)), write(w2!, all.slice(half))]);
    } finally {
      writing = false;
      await tailing;
    }
    expect(failed).toBeNull();
    expect(seen).toHaveLength(all.length);
    expect(new Set(seen).size).toBe(all.length);
  });
});
