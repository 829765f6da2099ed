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
    expect(commitFailureHint(error)).toMatch(/write lock/);
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

  it('anything else: the general advice', () => {
    const db = new BetterSqlite3(':memory:');
    const error = sqliteError(() => db.prepare('insert into no_such_table values (1)').run());
    db.close();
    expect(commitFailureHint(error)).toBe('check that the database is reachable and writable');
    expect(commitFailureHint(new Error('no code'))).toBe('check that the database is reachable and writable');
    expect(commitFailureHint('a string')).toBe('check that the database is reachable and writable');
  });
});
