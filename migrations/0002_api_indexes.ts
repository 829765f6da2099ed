/**
 * Indexes for the API's task queries (issue #3): one per sort order of `tasks(orderBy:)`, and the
 * lookups of the field resolvers (children by parent, workflow by root, a worker's recent tasks).
 *
 * Sort orders are keyset-paginated on (sort value, …, uuid), where a missing value sorts as the
 * sentinel -1 (times and runtimes are never negative) or '' (names): the index expressions below
 * are the exact expressions `libs/state/src/read/task-queries.ts` writes (SQLite matches expression
 * indexes by parse tree, Postgres by analysed expression; a bound parameter would not match, so
 * the sentinels are literals). Text keys are compared byte-wise on both databases: SQLite's default
 * BINARY collation, `COLLATE "C"` on Postgres. A test checks that every order is served by its
 * index on both dialects.
 *
 * `tasks_state` (state) is dropped: `tasks_state_order` (state, received, uuid) starts with the same
 * column and serves every query it served; each index costs ingestion time.
 *
 * This file is frozen once released: it keeps its own copy of the expressions.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../libs/state/src/dialect';

const RECEIVED = 'coalesce(received_at, -1)';
const STARTED = 'coalesce(started_at, -1)';
const FINISHED = "coalesce(case when state in ('SUCCESS', 'FAILURE', 'REVOKED') then state_at end, -1)";
const RUNTIME = 'coalesce(runtime, -1)';

function indexes(postgres: boolean): Array<[name: string, definition: string]> {
  const c = (expr: string) => (postgres ? `${expr} collate "C"` : expr);
  const uuid = c('uuid');
  // SQLite tests the columns an index holds before it reads the row (deferred seek): walking an
  // order index with a state filter then costs ~70 ns per rejected entry instead of ~2.5 µs. Postgres
  // reads the row to test a non-key column anyway, so it does not carry them.
  const state = postgres ? '' : ', state';
  return [
    ['tasks_received_order', `(${RECEIVED}, ${uuid}${state})`],
    ['tasks_started_order', `(${STARTED}, ${uuid}${state})`],
    ['tasks_finished_order', `(${FINISHED}, ${uuid}${state})`],
    ['tasks_runtime_order', `(${RUNTIME}, ${uuid}${state})`],
    ['tasks_name_order', `(${c("coalesce(name, '')")}, ${RECEIVED}, ${uuid}${state})`],
    ['tasks_state_order', `(${c('state')}, ${RECEIVED}, ${uuid})`],
    ['tasks_worker_received', `(worker, ${RECEIVED}, ${uuid}${state})`],
    ['tasks_parent_received', `(parent_id, ${RECEIVED}, ${uuid}) where parent_id is not null`],
    ['tasks_root_received', `(root_id, ${RECEIVED}, ${uuid}) where root_id is not null`],
  ];
}

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  for (const [name, definition] of indexes(postgres)) {
    await sql.raw(`create index ${name} on tasks ${definition}`).execute(db);
  }
  await sql.raw('drop index tasks_state').execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await sql.raw('create index tasks_state on tasks (state)').execute(db);
  for (const [name] of indexes(postgres).reverse()) {
    await sql.raw(`drop index if exists ${name}`).execute(db);
  }
}
