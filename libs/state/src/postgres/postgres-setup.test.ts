/**
 * Postgres set-up against the machine's real server: migrations that start together (the
 * collector and the API on a fresh database), a default-schema install beside a `?schema=` one in
 * the same database, and an idle pooled connection that the server ends.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import * as pg from 'pg';
import { describe, expect, it } from 'vitest';
import { POSTGRES_URL, withPostgresAdmin as admin } from '../../../../test/support/test-databases';
import { waitFor } from '../../../../test/support/wait-for';
import { heartbeat, T0 } from '../../../../test/support/event-factory';
import { openDatabase } from '../database';
import { EventStore } from '../event-store';
import { POSTGRES_LOCK_TIMEOUT_MS, withWriteTransaction } from '../write-transaction';
import { migrateToLatest } from '../migrate';


const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

function urlOfDatabase(name: string): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `work` with a database of its own on the server (its name given), dropped afterwards. */
async function withScratchDatabase(prefix: string, work: (name: string) => Promise<void>): Promise<void> {
  const name = uniqueName(prefix);
  await admin((c) => c.query(`create database ${name}`));
  try {
    await work(name);
  } finally {
    await admin((c) => c.query(`drop database if exists ${name} with (force)`));
  }
}

describe('Postgres set-up', () => {
  it('two processes migrating one fresh schema at the same time both succeed', async () => {
    // Each round: a new schema, two pools (as the collector and the API would have) at once.
    for (let round = 0; round < 8; round++) {
      const schema = uniqueName('t_migrace');
      const a = openDatabase(`${POSTGRES_URL}?schema=${schema}`);
      const b = openDatabase(`${POSTGRES_URL}?schema=${schema}`);
      try {
        const results = await Promise.allSettled([migrateToLatest(a), migrateToLatest(b)]);
        expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')), `round ${round}`).toEqual(['ok', 'ok']);
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from tasks`.execute(a.db);
        expect(rows[0]?.n).toBe(0);
      } finally {
        await a.close();
        await b.close();
        await admin((c) => c.query(`drop schema if exists ${schema} cascade`));
      }
    }
  });

  it('migrates the default schema of a database where another install uses ?schema=', async () => {
    await withScratchDatabase('t_migdb', async (name) => {
      const withSchema = openDatabase(`${urlOfDatabase(name)}?schema=other_install`);
      await migrateToLatest(withSchema);
      await withSchema.close();

      const plain = openDatabase(urlOfDatabase(name));
      try {
        const applied = await migrateToLatest(plain);
        expect(applied.length).toBeGreaterThan(0);
        expect(applied.every((r) => r.status === 'Success')).toBe(true);
        const { rows } = await sql<{ table_name: string }>`
          select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(plain.db);
        expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['events', 'tasks', 'workers', 'kysely_migration', 'kysely_migration_lock']));
        expect(await migrateToLatest(plain)).toEqual([]);
      } finally {
        await plain.close();
      }
    });
  });

  it('probeWritable fails on a read-only database (as an append would), and passes on a writable one', async () => {
    await withScratchDatabase('t_readonly', async (name) => {
      const writable = await EventStore.open(urlOfDatabase(name));
      await writable.probeWritable();
      await writable.close();
      await admin((c) => c.query(`alter database ${name} set default_transaction_read_only = on`));
      const readOnly = await EventStore.open(urlOfDatabase(name), { migrate: false });
      try {
        await expect(readOnly.probeWritable()).rejects.toThrow(/read-only transaction/);
      } finally {
        await readOnly.close();
      }
    });
  });

  it('probeWritable answers while another writer holds the append lock (a long commit, a rebuild)', async () => {
    const schema = uniqueName('t_probe');
    const store = await EventStore.open(`${POSTGRES_URL}?schema=${schema}`);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      let locked: () => void = () => undefined;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const writer = withWriteTransaction(store.database, async () => {
        locked();
        await held;
      });
      await lockTaken;
      await store.probeWritable(); // would wait for `release` if it took the append lock
      release();
      await writer;
    } finally {
      release();
      await store.close();
      await admin((c) => c.query(`drop schema if exists ${schema} cascade`));
    }
  });

  it('a connection the server ends inside a write transaction fails that transaction with its own error, and the next append succeeds', async () => {
    const schema = uniqueName('t_killed');
    const store = await EventStore.open(`${POSTGRES_URL}?schema=${schema}`);
    try {
      let inside: (pid: number) => void = () => undefined;
      const pidInside = new Promise<number>((resolve) => (inside = resolve));
      const failing = withWriteTransaction(store.database, async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        inside(rows[0]!.pid);
        await sql`select pg_sleep(10)`.execute(trx);
      });
      failing.catch(() => undefined);
      const pid = await pidInside;
      await admin((c) => c.query('select pg_terminate_backend($1)', [pid])); // as an administrator (or a failover) does
      // The server's own reason (57P01), not the failed rollback's "Connection terminated unexpectedly".
      await expect(failing).rejects.toMatchObject({ code: '57P01', message: 'terminating connection due to administrator command' });
      const receipt = await store.append({ events: [heartbeat('celery@after-kill', T0, 1)], rejected: [] });
      expect(receipt.stored).toHaveLength(1);
    } finally {
      await store.close();
      await admin((c) => c.query(`drop schema if exists ${schema} cascade`));
    }
  });

  it('a table lock held by another session: the probe fails within a second naming it, an append after POSTGRES_LOCK_TIMEOUT_MS (55P03)', async () => {
    const schema = uniqueName('t_locked');
    const store = await EventStore.open(`${POSTGRES_URL}?schema=${schema}`);
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`lock table ${schema}.events in access exclusive mode`); // as a migration or a tool would
      let started = Date.now();
      await expect(store.probeWritable()).rejects.toMatchObject({ code: '55P03', message: 'canceling statement due to lock timeout' });
      expect(Date.now() - started).toBeLessThan(3_000);
      started = Date.now();
      await expect(store.append({ events: [heartbeat('celery@locked-out', T0, 1)], rejected: [] })).rejects.toMatchObject({ code: '55P03' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(POSTGRES_LOCK_TIMEOUT_MS - 100);
      await holder.query('rollback');
      await store.probeWritable();
      expect((await store.append({ events: [heartbeat('celery@locked-out', T0, 1)], rejected: [] })).stored).toHaveLength(1);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
      await store.close();
      await admin((c) => c.query(`drop schema if exists ${schema} cascade`));
    }
  }, 30_000);

  it('an idle pooled connection ended by the server is reported and replaced, not fatal', async () => {
    const schema = uniqueName('t_idle');
    const reports: string[] = [];
    const database = openDatabase(`${POSTGRES_URL}?schema=${schema}`, { onConnectionError: (m) => reports.push(m) });
    try {
      await migrateToLatest(database);
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(database.db);
      const pid = rows[0]?.pid;
      expect(pid).toBeTypeOf('number');
      // Only this pool's connection (now idle) is ended: pg_terminate_backend of its own pid.
      await admin((c) => c.query('select pg_terminate_backend($1)', [pid]));
      await waitFor(() => reports.length > 0, { timeoutMs: 10_000, description: 'the pool to report the lost connection' });
      expect(reports[0]).toMatch(/an idle connection to postgres:\/\/.* failed and was dropped/);
      const again = await sql<{ one: number }>`select 1 as one`.execute(database.db);
      expect(again.rows[0]?.one).toBe(1);
    } finally {
      await database.close();
      await admin((c) => c.query(`drop schema if exists ${schema} cascade`));
    }
  });
});
