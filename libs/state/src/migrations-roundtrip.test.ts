/**
 * Every migration's `down` undoes its `up`: from the latest schema down to the first migration
 * and up again gives the same tables, columns and indexes, on both dialects. And each index a
 * migration drops is really gone (0007: tasks_worker_state).
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/test-databases';
import { indexDefinitions } from '../../../test/support/schema-introspection';
import type { Database } from './database';
import { openDatabase } from './database';
import { migrateToLatest, migratorFor } from './migrate';

/** Tables with their columns, and index definitions, as the database describes them. */
async function schemaOf(database: Database): Promise<string[]> {
  const indexes = [...(await indexDefinitions(database)).entries()].map(([name, definition]) => `index ${name}: ${definition}`);
  if (database.dialect === 'sqlite') {
    const { rows } = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'table' and name not like 'kysely_%' order by name`.execute(database.db);
    return [...rows.map((r) => `table ${r.name}: ${r.sql}`), ...indexes];
  }
  const { rows: columns } = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null }>`
    select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns
    where table_schema = ${database.pgSchema} and table_name not like 'kysely_%' order by table_name, column_name`.execute(database.db);
  return [...columns.map((c) => `column ${c.table_name}.${c.column_name} ${c.data_type} ${c.is_nullable} ${c.column_default ?? ''}`), ...indexes];
}

describe.each(DIALECTS)('migrations down and up again on %s', (dialect) => {
  let db: TestDatabase;

  afterEach(async () => {
    await db.drop();
  });

  it('restore the same schema, and 0007 leaves tasks_worker_state out', async () => {
    db = createTestDatabase(dialect);
    const database = openDatabase(db.url);
    try {
      await migrateToLatest(database);
      const latest = await schemaOf(database);
      expect(latest.some((line) => line.includes('tasks_worker_state'))).toBe(false);
      expect(latest.some((line) => line.includes('tasks_worker_received'))).toBe(true);

      const { error: toSix } = await (await migratorFor(database)).migrateTo('0006_task_event_positions');
      expect(toSix).toBeUndefined();
      expect((await schemaOf(database)).filter((line) => line.includes('tasks_worker_state'))).toHaveLength(1);

      const { error: down } = await (await migratorFor(database)).migrateTo('0001_initial');
      expect(down).toBeUndefined();
      await migrateToLatest(database);
      expect(await schemaOf(database)).toEqual(latest);
    } finally {
      await database.close();
    }
  });
});
