/**
 * Drops `tasks_worker_state` (worker, state), from 0001. No query reads it: a worker's tasks are
 * read through `tasks_worker_received` (0002), and its counts by state are kept in its row by the
 * projection. It still cost an insert for every new task and a move at every change of state
 * (state is part of its key): about 0.05 rewritten pages per event at a steady 1,000-event commit
 * (measured, BENCHMARKS.md). This file is frozen once released.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw('drop index tasks_worker_state').execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('create index tasks_worker_state on tasks (worker, state)').execute(db);
}
