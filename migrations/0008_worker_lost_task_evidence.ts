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
  // `active` when it is a number (not false, not a string), as the projection reads it. Postgres
  // cannot hold a NUL in jsonb: a payload's \u0000 (kept as sent) is replaced before the cast.
  const active = postgres
    ? "case when jsonb_typeof(p -> 'active') = 'number' then (p ->> 'active')::numeric end"
    : "case when json_type(payload, '$.active') in ('integer', 'real') then json_extract(payload, '$.active') end";
  const parsed = postgres ? ", replace(payload, '\\u0000', '\\ufffd')::jsonb as p" : '';
  // One scan of the log for the three columns; each payload parsed once.
  await sql
    .raw(
      `update workers set last_started_at = found.started, last_idle_at = found.idle, last_goodbye_at = found.goodbye from (` +
        `select hostname, ` +
        `max(case when type = 'worker-online' and coalesce(active, 0) <= 0 then timestamp end) as started, ` +
        `max(case when own and active = 0 then timestamp end) as idle, ` +
        `max(case when type = 'worker-offline' and own then timestamp end) as goodbye ` +
        `from (select hostname, type, timestamp, substr(source, 1, 10) <> 'collector:' as own, ${active} as active from (` +
        `select hostname, type, timestamp, source, payload${parsed} from events where type in ('worker-online', 'worker-heartbeat', 'worker-offline')` +
        `) as worker_events) as reports group by hostname` +
        `) as found where found.hostname = workers.hostname`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('workers').dropColumn('last_goodbye_at').execute();
  await db.schema.alterTable('workers').dropColumn('last_idle_at').execute();
  await db.schema.alterTable('workers').dropColumn('last_started_at').execute();
}
