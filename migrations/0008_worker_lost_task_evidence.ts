/**
 * Three worker columns for the lost-task policy (and the API):
 * - `last_started_at`: the newest `worker-online` (worker clock) counting no running task (`active`
 *   not a positive number): when the worker process last started. Celery also says worker-online
 *   when its broker connection comes back, counting the tasks still running: not a start;
 * - `last_idle_at`: the newest report from the worker itself (worker-online, -heartbeat or
 *   -offline) saying it runs no task (`active` 0). A task STARTED before it on that worker has
 *   ended, whether or not its end reached us: killed and restarted (the new process reports 0), or
 *   its end event was lost.
 * - `last_goodbye_at`: the newest worker-offline from the worker itself. A warm shutdown says
 *   goodbye first and then finishes its running tasks, reporting their ends.
 *
 * The backfill reads the log once (one scan grouped by hostname). The worker status rule changed
 * with these columns (after its own goodbye only a worker's heart brings it back online): existing
 * rows follow it from their next event, or at once after `rebuild`. This file is frozen once released.
 */
import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../libs/state/src/dialect';

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const t = columnTypes(dialectOf(db));
  for (const column of ['last_started_at', 'last_idle_at', 'last_goodbye_at']) {
    await db.schema.alterTable('workers').addColumn(column, t.double).execute();
  }
  const own = "substr(source, 1, 10) <> 'collector:'";
  // `active` a number equal to 0 (not false, not a string), as the projection reads it; and a
  // positive number (tasks running).
  const idle = postgres
    ? "jsonb_typeof(payload::jsonb -> 'active') = 'number' and (payload::jsonb ->> 'active')::numeric = 0"
    : "json_type(payload, '$.active') in ('integer', 'real') and json_extract(payload, '$.active') = 0";
  const busy = postgres
    ? "jsonb_typeof(payload::jsonb -> 'active') = 'number' and (payload::jsonb ->> 'active')::numeric > 0"
    : "json_type(payload, '$.active') in ('integer', 'real') and json_extract(payload, '$.active') > 0";
  // One scan of the log for the three columns.
  await sql
    .raw(
      `update workers set last_started_at = found.online, last_idle_at = found.idle, last_goodbye_at = found.goodbye from (` +
        `select hostname, ` +
        `max(case when type = 'worker-online' and not coalesce(${busy}, false) then timestamp end) as online, ` +
        `max(case when ${own} and ${idle} then timestamp end) as idle, ` +
        `max(case when type = 'worker-offline' and ${own} then timestamp end) as goodbye ` +
        `from events where type in ('worker-online', 'worker-heartbeat', 'worker-offline') group by hostname` +
        `) as found where found.hostname = workers.hostname`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('workers').dropColumn('last_goodbye_at').execute();
  await db.schema.alterTable('workers').dropColumn('last_idle_at').execute();
  await db.schema.alterTable('workers').dropColumn('last_started_at').execute();
}
