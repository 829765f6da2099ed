/**
 * Three worker columns for the lost-task policy (and the API):
 * - `last_online_at`: the newest `worker-online` (worker clock), when the worker last started (or
 *   its consumer reconnected to the broker: Celery restarts its heart then);
 * - `last_idle_at`: the newest report from the worker itself (worker-online, -heartbeat or
 *   -offline) saying it runs no task (`active` 0). A task STARTED before it on that worker has
 *   ended, whether or not its end reached us: killed and restarted (the new process reports 0), or
 *   its end event was lost.
 * - `last_goodbye_at`: the newest worker-offline from the worker itself. A warm shutdown says
 *   goodbye first and then finishes its running tasks, reporting their ends.
 *
 * The backfill reads the log once for each column (one scan grouped by hostname). This file is
 * frozen once released.
 */
import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../libs/state/src/dialect';

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const t = columnTypes(dialectOf(db));
  await db.schema.alterTable('workers').addColumn('last_online_at', t.double).execute();
  await db.schema.alterTable('workers').addColumn('last_idle_at', t.double).execute();
  await db.schema.alterTable('workers').addColumn('last_goodbye_at', t.double).execute();
  const ownReport = "substr(source, 1, 10) <> 'collector:'";
  await backfill(db, 'last_online_at', "type = 'worker-online'");
  await backfill(db, 'last_goodbye_at', `type = 'worker-offline' and ${ownReport}`);
  // `active` a number equal to 0 (not false, not a string), as the projection reads it; derived
  // events carry no `active`.
  const idle = postgres
    ? "jsonb_typeof(payload::jsonb -> 'active') = 'number' and (payload::jsonb ->> 'active')::numeric = 0"
    : "json_type(payload, '$.active') in ('integer', 'real') and json_extract(payload, '$.active') = 0";
  await backfill(db, 'last_idle_at', `type in ('worker-online', 'worker-heartbeat', 'worker-offline') and ${ownReport} and ${idle}`);
}

async function backfill(db: Kysely<any>, column: string, where: string): Promise<void> {
  await sql
    .raw(
      `update workers set ${column} = found.at from (select hostname, max(timestamp) as at from events where ${where} group by hostname) as found where found.hostname = workers.hostname`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('workers').dropColumn('last_goodbye_at').execute();
  await db.schema.alterTable('workers').dropColumn('last_idle_at').execute();
  await db.schema.alterTable('workers').dropColumn('last_online_at').execute();
}
