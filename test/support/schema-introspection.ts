/** What a migration left behind, as the database itself describes it (for migration tests). */
import { sql } from 'kysely';
import type { Database } from '../../libs/state/src/database';

/**
 * Index definitions by name, in name order, of one table or of all: SQLite's `create index`
 * text, Postgres's `pg_indexes.indexdef`. The indexes a database makes by itself for a primary
 * key (and, on SQLite, for a UNIQUE constraint) are left out; Kysely's own tables too.
 */
export async function indexDefinitions(database: Database, table?: string): Promise<Map<string, string>> {
  if (database.dialect === 'sqlite') {
    const { rows } = await sql<{ name: string; sql: string }>`
      select name, sql from sqlite_master
      where type = 'index' and sql is not null and tbl_name not like 'kysely_%' and (${table ?? null} is null or tbl_name = ${table ?? null})
      order by name`.execute(database.db);
    return new Map(rows.map((r) => [r.name, r.sql]));
  }
  const { rows } = await sql<{ indexname: string; indexdef: string }>`
    select indexname, indexdef from pg_indexes
    where schemaname = ${database.pgSchema} and indexname not like '%pkey' and tablename not like 'kysely_%'
      and (${table ?? null}::text is null or tablename = ${table ?? null})
    order by indexname`.execute(database.db);
  return new Map(rows.map((r) => [r.indexname, r.indexdef]));
}
