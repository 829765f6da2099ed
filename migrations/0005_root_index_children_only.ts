/**
 * `tasks_root_received` keeps only the tasks that have a root other than themselves. Celery sets
 * `root_id = uuid` on every task that is not part of a workflow, so the index held every task, at
 * a random place (the uuid), and every new task cost an insert into it: about 5 µs of the
 * collector's CPU per event at a million tasks. A workflow's own root is found by its primary key
 * instead (libs/state/src/read/task-queries.ts reads the two and merges them in order).
 *
 * Same expressions and collation rules as 0002_api_indexes.ts. This file is frozen once released.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../libs/state/src/dialect';

const RECEIVED = 'coalesce(received_at, -1)';

function columns(postgres: boolean): string {
  return `(root_id, ${RECEIVED}, ${postgres ? 'uuid collate "C"' : 'uuid'})`;
}

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await sql.raw('drop index tasks_root_received').execute(db);
  await sql.raw(`create index tasks_root_received on tasks ${columns(postgres)} where root_id is not null and root_id <> uuid`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await sql.raw('drop index tasks_root_received').execute(db);
  await sql.raw(`create index tasks_root_received on tasks ${columns(postgres)} where root_id is not null`).execute(db);
}
