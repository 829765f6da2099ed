/**
 * A task's events are found through its row, not through an index of the log by uuid.
 *
 * `events_uuid_position` (uuid, position) took one insert at a random place (the uuid) for every
 * task event, and the log is the largest table: at half a million events, dropping it saved about
 * 9 µs of the collector's CPU and 5 KB of disk writes per event at batches of 1,000 (measured,
 * BENCHMARKS.md). The projection already rewrites the task's row for each batch, so the row now
 * carries the positions of its events: `tasks.event_positions`, ascending, comma-separated.
 *
 * Events that carry a uuid but are not task events (a custom event type naming a task) have no
 * row; a small partial index keeps them findable by uuid, so a lookup by uuid still returns every
 * stored event with that uuid: the row's positions plus that index. The predicate is written the
 * way the readers write it (libs/state/src/read/events-of-tasks.ts) so both databases use it.
 *
 * The backfill reads the old index once, before dropping it. This file is frozen once released.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../libs/state/src/dialect';

const NOT_TASK_EVENT = "uuid is not null and substr(type, 1, 5) <> 'task-'";

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await db.schema.alterTable('tasks').addColumn('event_positions', 'text', (c) => c.notNull().defaultTo('')).execute();
  const positions = postgres
    ? "string_agg(e.position::text, ',' order by e.position)"
    : "group_concat(e.position, ',' order by e.position)";
  await sql
    .raw(
      `update tasks set event_positions = coalesce((select ${positions} from events e where e.uuid = tasks.uuid and substr(e.type, 1, 5) = 'task-'), '')`,
    )
    .execute(db);
  await sql.raw('drop index events_uuid_position').execute(db);
  await sql.raw(`create index events_uuid_not_task on events (uuid, position) where ${NOT_TASK_EVENT}`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop index events_uuid_not_task').execute(db);
  await sql.raw('create index events_uuid_position on events (uuid, position)').execute(db);
  await db.schema.alterTable('tasks').dropColumn('event_positions').execute();
}
