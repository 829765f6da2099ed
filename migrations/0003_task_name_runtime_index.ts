/**
 * `tasks(filter: {names: [...]}, orderBy: {field: RUNTIME})` — the slowest tasks of a task name, a
 * dashboard staple — read one ordered range of this index per name. Without it the page walked the
 * runtime order for every task (a common name whose tasks are all short sits at the far end of a
 * descending walk: p95 682 ms at 1 M tasks) or read and sorted every task of the name.
 *
 * Same expressions and collation rules as 0002_api_indexes.ts (SQLite carries `state` so a state
 * filter is tested on the entry). This file is frozen once released.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../libs/state/src/dialect';

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const definition = postgres
    ? `(coalesce(name, '') collate "C", coalesce(runtime, -1), uuid collate "C")`
    : `(coalesce(name, ''), coalesce(runtime, -1), uuid, state)`;
  await sql.raw(`create index tasks_name_runtime on tasks ${definition}`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop index if exists tasks_name_runtime').execute(db);
}
