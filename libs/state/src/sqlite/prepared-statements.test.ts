/**
 * Prepared statements kept per connection: reused by SQL text, bounded least recently used first,
 * still right after the schema changes under them, and behind Kysely on the database handle.
 */
import BetterSqlite3 from 'better-sqlite3';
import { type Generated, Kysely, SqliteDialect, sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PreparedStatements, withPreparedStatements } from './prepared-statements';

describe('PreparedStatements', () => {
  const open: BetterSqlite3.Database[] = [];
  const connection = () => {
    const c = new BetterSqlite3(':memory:');
    open.push(c);
    c.exec('create table t (id integer primary key, v text)');
    return c;
  };
  afterEach(() => {
    for (const c of open.splice(0)) if (c.open) c.close();
  });

  it('prepares a SQL text once and hands the same statement back', () => {
    const statements = new PreparedStatements(connection());
    const a = statements.get('select * from t where id = ?');
    expect(statements.get('select * from t where id = ?')).toBe(a);
    expect(statements.get('select * from t where id > ?')).not.toBe(a);
    expect(statements.size).toBe(2);
  });

  it('keeps at most `max` statements, dropping the least recently used', () => {
    const statements = new PreparedStatements(connection(), 2);
    const one = statements.get('select 1');
    const two = statements.get('select 2');
    expect(statements.get('select 1')).toBe(one); // now "select 2" is the least recently used
    statements.get('select 3');
    expect(statements.size).toBe(2);
    expect(statements.get('select 1')).toBe(one);
    expect(statements.get('select 2')).not.toBe(two);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new PreparedStatements(connection(), 0)).toThrow(/max must be a positive integer, got 0/);
  });

  it('answers with the new columns after another connection changed the table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cm-prepared-'));
    try {
      const [reader, writer] = [new BetterSqlite3(join(dir, 'db.sqlite')), new BetterSqlite3(join(dir, 'db.sqlite'))];
      open.push(reader, writer);
      writer.exec("create table t (id integer primary key, v text); insert into t (v) values ('a')");
      const statements = new PreparedStatements(reader);
      expect(statements.get('select * from t').all()).toEqual([{ id: 1, v: 'a' }]);
      writer.exec("alter table t add column w text not null default 'x'");
      expect(statements.get('select * from t').all()).toEqual([{ id: 1, v: 'a', w: 'x' }]);
    } finally {
      for (const c of open.splice(0)) c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves Kysely: reads and writes go through the kept statements', async () => {
    const c = connection();
    const prepared: string[] = [];
    const original = c.prepare.bind(c);
    c.prepare = ((text: string) => (prepared.push(text), original(text))) as typeof c.prepare;
    const db = new Kysely<{ t: { id: Generated<number>; v: string } }>({ dialect: new SqliteDialect({ database: withPreparedStatements(new PreparedStatements(c)) }) });
    for (const v of ['a', 'b', 'c']) await db.insertInto('t').values({ v }).execute();
    for (let i = 0; i < 3; i++) expect(await db.selectFrom('t').select('v').where('id', '=', 2).execute()).toEqual([{ v: 'b' }]);
    const n = await sql<{ n: number }>`select count(*) as n from t`.execute(db);
    expect(n.rows).toEqual([{ n: 3 }]);
    expect(prepared).toHaveLength(3); // one insert, one select, one count, each prepared once
    await db.destroy();
    expect(c.open).toBe(false);
  });
});
