/**
 * Medium tests: the reader-thread pool (ThreadedReadDialect, through Database.openReadPool) on a
 * real SQLite file written by the EventStore. Needs the build (the thread runs from dist/).
 */
import { Kysely, sql } from 'kysely';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type ReadPool } from '../database';
import { EventStore } from '../event-store';
import type { DB } from '../schema';
import { ThreadedReadDialect } from './threaded-read-dialect';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-databases';
import { auditEvents } from '../../../../test/support/read-datasets';

/** A statement that keeps SQLite busy for a while (hundreds of ms on any machine). */
const SLOW = sql<{ n: number }>`with recursive c(i) as (select 1 union all select i + 1 from c where i < 3000000) select count(*) as n from c`;

describe('ThreadedReadDialect', () => {
  let db: TestDatabase;
  let store: EventStore;
  let database: Database;
  let pool: ReadPool;
  const statements: string[] = [];

  beforeAll(async () => {
    db = createTestDatabase('sqlite');
    store = await EventStore.open(db.url);
    await store.append({ events: auditEvents(), rejected: [] });
    database = openDatabase(db.url, { onQuery: (_ms, text) => statements.push(text) });
    pool = database.openReadPool(2);
  });

  afterAll(async () => {
    await pool.close();
    await database.close();
    await store.close();
    await db.drop();
  });

  it('reads what the database connection reads, and logs its statements like it', async () => {
    statements.length = 0;
    const query = (k: typeof pool.db) => k.selectFrom('events').selectAll().orderBy('position').execute();
    const viaThreads = await query(pool.db);
    expect(viaThreads.length).toBe(auditEvents().length);
    expect(viaThreads).toEqual(await query(database.db));
    expect(statements).toHaveLength(2);
  });

  it('refuses writes with SQLite\'s own error (the threads only read)', async () => {
    await expect(pool.db.deleteFrom('events').execute()).rejects.toThrow(/readonly|read-only|query_only|attempt to write/i);
    expect((await database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n).toBe(auditEvents().length);
  });

  it('runs a transaction on one thread: one snapshot from BEGIN to COMMIT', async () => {
    const [before, after] = await pool.db.transaction().execute(async (trx) => {
      const first = await trx.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      // Another connection appends meanwhile: the transaction does not see it.
      await store.append({ events: auditEvents().map((e) => ({ ...e, timestamp: e.timestamp + 1000 })), rejected: [] });
      const second = await trx.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      return [Number(first.n), Number(second.n)];
    });
    expect(after).toBe(before);
    const now = await pool.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(now.n)).toBe(before + auditEvents().length);
  });

  it('keeps the caller\'s event loop free during a slow statement, and serves another connection meanwhile', async () => {
    const finished: string[] = [];
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const slow = SLOW.execute(pool.db).then((r) => {
      finished.push('slow');
      return r.rows[0]!.n;
    });
    const quick = pool.db.selectFrom('events').select('position').limit(1).execute().then(() => finished.push('quick'));
    const [n] = await Promise.all([slow, quick]);
    ticking = false;
    expect(n).toBe(3_000_000);
    expect(finished).toEqual(['quick', 'slow']);
    // On the database's own connection the same statement would have run on this thread, without a turn.
    expect(turns).toBeGreaterThan(10);
  });

  it('queues callers when every connection is busy, and serves them all', async () => {
    const results = await Promise.all(Array.from({ length: 7 }, (_, i) => sql<{ v: number }>`select ${i} as v`.execute(pool.db)));
    expect(results.map((r) => r.rows[0]!.v)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('fails on the first statement, with the path, when the file cannot be opened', async () => {
    const broken = new Kysely<DB>({ dialect: new ThreadedReadDialect({ path: join(tmpdir(), 'cm-no-such-dir', 'none.db'), threads: 1 }) });
    await expect(broken.selectFrom('events').selectAll().execute()).rejects.toThrow(/could not open .*none\.db for reading in a thread/);
    await broken.destroy();
  });

  it('is the database connection itself for :memory: (a thread would open a database of its own)', async () => {
    const memory = openDatabase('sqlite::memory:');
    expect(memory.openReadPool(2).db).toBe(memory.db);
    await memory.close();
  });
});
