/**
 * commitFailureHint on the errors the drivers really throw: each is provoked against a real SQLite
 * file or the machine's Postgres, not built by hand.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL } from '../../../test/support/test-databases';
import { commitFailureHint } from './commit-failure';

const dir = mkdtempSync(join(tmpdir(), 'cm-commit-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sqliteError(work: () => void): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the statement to fail');
}

async function pgError(url: string, work: (client: pg.Client) => Promise<unknown>): Promise<unknown> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await work(client);
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error('expected Postgres to refuse');
}

function otherPgUrl(database: string): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

describe('commitFailureHint', () => {
  it('a full database (SQLITE_FULL): the disk is full', () => {
    const db = new BetterSqlite3(join(dir, 'full.db'));
    db.exec('create table t (x text)');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const error = sqliteError(() => db.prepare('insert into t values (?)').run('x'.repeat(100_000)));
    db.close();
    expect((error as { code?: string }).code).toBe('SQLITE_FULL');
    expect(commitFailureHint(error)).toMatch(/disk is full/);
  });

  it('a read-only SQLite file (SQLITE_READONLY): refuses writes', () => {
    const file = join(dir, 'ro.db');
    new BetterSqlite3(file).exec('create table t (x)');
    const db = new BetterSqlite3(file, { readonly: true });
    const error = sqliteError(() => db.prepare('insert into t values (1)').run());
    db.close();
    expect((error as { code?: string }).code).toMatch(/^SQLITE_READONLY/);
    expect(commitFailureHint(error)).toMatch(/refuses writes/);
  });

  it('a write lock held by another connection (SQLITE_BUSY): another process holds it', () => {
    const file = join(dir, 'busy.db');
    const holder = new BetterSqlite3(file);
    holder.pragma('journal_mode = WAL');
    holder.exec('create table t (x)');
    holder.exec('begin immediate');
    const waiter = new BetterSqlite3(file, { timeout: 0 });
    const error = sqliteError(() => waiter.prepare('insert into t values (1)').run());
    holder.exec('rollback');
    holder.close();
    waiter.close();
    expect((error as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    expect(commitFailureHint(error)).toMatch(/holds a lock the collector needs/);
  });

  it('a file that is not a database (SQLITE_NOTADB): damaged', () => {
    const file = join(dir, 'garbage.db');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const error = sqliteError(() => new BetterSqlite3(file).prepare('select * from sqlite_master').all());
    expect((error as { code?: string }).code).toBe('SQLITE_NOTADB');
    expect(commitFailureHint(error)).toMatch(/damaged/);
  });

  it('a Postgres read-only transaction (25006): refuses writes', async () => {
    const error = await pgError(POSTGRES_URL, async (client) => {
      await client.query('begin transaction read only');
      await client.query('create temporary table cm_commit_failure_probe (x int)');
    });
    expect((error as { code?: string }).code).toBe('25006');
    expect(commitFailureHint(error)).toMatch(/refuses writes/);
  });

  it('a Postgres database that does not exist (3D000)', async () => {
    const error = await pgError(otherPgUrl('cm_no_such_database_here'), async () => undefined);
    expect((error as { code?: string }).code).toBe('3D000');
    expect(commitFailureHint(error)).toMatch(/does not exist/);
  });

  it('nobody listening (ECONNREFUSED): cannot be reached', async () => {
    const url = new URL(POSTGRES_URL);
    url.port = '1';
    const error = await pgError(url.toString(), async () => undefined);
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
    expect(commitFailureHint(error)).toMatch(/cannot be reached/);
  });

  it('a missing table (SQLite "no such table", Postgres 42P01): restart to migrate', async () => {
    const db = new BetterSqlite3(':memory:');
    const sqliteMissing = sqliteError(() => db.prepare('insert into events values (1)').run());
    db.close();
    expect(commitFailureHint(sqliteMissing)).toMatch(/table of the collector is missing.*restart the collector/);
    const pgMissing = await pgError(POSTGRES_URL, (client) => client.query('insert into cm_no_such_table_here values (1)'));
    expect((pgMissing as { code?: string }).code).toBe('42P01');
    expect(commitFailureHint(pgMissing)).toMatch(/table of the collector is missing/);
  });

  it('a lock held by another session past lock_timeout (55P03): names the lock', async () => {
    const table = `cm_commit_failure_lock_${process.pid}`;
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    try {
      await holder.query(`create table if not exists ${table} (x int)`);
      await holder.query('begin');
      await holder.query(`lock table ${table} in access exclusive mode`);
      const error = await pgError(POSTGRES_URL, async (client) => {
        await client.query("set lock_timeout = '200ms'");
        await client.query(`insert into ${table} values (1)`);
      });
      expect((error as { code?: string }).code).toBe('55P03');
      expect(commitFailureHint(error)).toMatch(/holds a lock the collector needs/);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.query(`drop table if exists ${table}`);
      await holder.end();
    }
  });

  it('a deadlock with another session (40P01): a conflict the retry resolves', async () => {
    const [a, b] = [`cm_commit_failure_da_${process.pid}`, `cm_commit_failure_db_${process.pid}`];
    const first = new pg.Client({ connectionString: POSTGRES_URL });
    const second = new pg.Client({ connectionString: POSTGRES_URL });
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query(`create table if not exists ${a} (x int); create table if not exists ${b} (x int)`);
      await first.query('begin');
      await second.query('begin');
      await first.query(`lock table ${a} in exclusive mode`);
      await second.query(`lock table ${b} in exclusive mode`);
      const waits = first.query(`lock table ${b} in exclusive mode`).then(() => null, (e: unknown) => e);
      const crosses = second.query(`lock table ${a} in exclusive mode`).then(() => null, (e: unknown) => e);
      const errors = (await Promise.all([waits, crosses])).filter((e) => e !== null);
      expect(errors).toHaveLength(1);
      expect((errors[0] as { code?: string }).code).toBe('40P01');
      expect(commitFailureHint(errors[0])).toMatch(/conflict with another transaction/);
    } finally {
      await Promise.all([first.query('rollback').catch(() => undefined), second.query('rollback').catch(() => undefined)]);
      await first.query(`drop table if exists ${a}; drop table if exists ${b}`);
      await Promise.all([first.end(), second.end()]);
    }
  });

  it('a connection the server ends (57P01, then "Connection terminated"): it reconnects', async () => {
    const victim = new pg.Client({ connectionString: POSTGRES_URL });
    victim.on('error', () => undefined);
    await victim.connect();
    const pid = ((await victim.query('select pg_backend_pid() as pid')).rows[0] as { pid: number }).pid;
    const sleeping = victim.query('select pg_sleep(10)').then(() => null, (e: unknown) => e);
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await admin.end();
    const ended = await sleeping;
    expect((ended as { code?: string }).code).toBe('57P01');
    expect(commitFailureHint(ended)).toMatch(/server ended the connection/);
    const afterwards = await victim.query('select 1').then(() => null, (e: unknown) => e);
    expect(afterwards).not.toBeNull();
    expect(commitFailureHint(afterwards)).toMatch(/server ended the connection/);
    await victim.end().catch(() => undefined);
  });

  it('anything else: the general advice', () => {
    const db = new BetterSqlite3(':memory:');
    db.exec('create table t (x text not null)');
    const error = sqliteError(() => db.prepare('insert into t values (null)').run());
    db.close();
    expect(commitFailureHint(error)).toBe('check that the database is reachable and writable');
    expect(commitFailureHint(new Error('no code'))).toBe('check that the database is reachable and writable');
    expect(commitFailureHint('a string')).toBe('check that the database is reachable and writable');
  });
});
