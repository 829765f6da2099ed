/**
 * The event log, its rejected messages, and the task and worker projections.
 * Positions are the cursor of every reader; dedup_key makes appends idempotent.
 */
import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../libs/state/src/dialect';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));

  await db.schema
    .createTable('events')
    .addColumn('position', t.bigint, (c) => t.autoIncrementPrimaryKey(c))
    .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('uuid', 'text')
    .addColumn('clock', t.bigint)
    .addColumn('timestamp', t.double, (c) => c.notNull())
    .addColumn('received_at', t.double, (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_uuid_position').on('events').columns(['uuid', 'position']).execute();
  await db.schema.createIndex('events_hostname_position').on('events').columns(['hostname', 'position']).execute();

  await db.schema
    .createTable('rejected_messages')
    .addColumn('id', t.bigint, (c) => t.autoIncrementPrimaryKey(c))
    .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('routing_key', 'text')
    .addColumn('content_type', 'text')
    .addColumn('raw', t.bytes, (c) => c.notNull())
    .addColumn('raw_size', t.bigint, (c) => c.notNull())
    .addColumn('received_at', t.double, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rejected_messages_reason').on('rejected_messages').columns(['reason', 'id']).execute();

  await db.schema
    .createTable('tasks')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_at', t.double)
    .addColumn('sent_at', t.double)
    .addColumn('received_at', t.double)
    .addColumn('started_at', t.double)
    .addColumn('succeeded_at', t.double)
    .addColumn('failed_at', t.double)
    .addColumn('retried_at', t.double)
    .addColumn('revoked_at', t.double)
    .addColumn('rejected_at', t.double)
    .addColumn('args', 'text')
    .addColumn('kwargs', 'text')
    .addColumn('result', 'text')
    .addColumn('exception', 'text')
    .addColumn('traceback', 'text')
    .addColumn('runtime', t.double)
    .addColumn('retries', t.bigint)
    .addColumn('eta', 'text')
    .addColumn('expires', 'text')
    .addColumn('worker', 'text')
    .addColumn('client', 'text')
    .addColumn('queue', 'text')
    .addColumn('exchange', 'text')
    .addColumn('routing_key', 'text')
    .addColumn('root_id', 'text')
    .addColumn('parent_id', 'text')
    .addColumn('revoked_terminated', t.bigint)
    .addColumn('revoked_signum', 'text')
    .addColumn('revoked_expired', t.bigint)
    .addColumn('rejected_requeue', t.bigint)
    .addColumn('source', 'text')
    .addColumn('first_position', t.bigint, (c) => c.notNull())
    .addColumn('last_position', t.bigint, (c) => c.notNull())
    .addColumn('event_count', t.bigint, (c) => c.notNull())
    .addColumn('merge_meta', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tasks_state').on('tasks').columns(['state']).execute();
  await db.schema.createIndex('tasks_worker_state').on('tasks').columns(['worker', 'state']).execute();

  await db.schema
    .createTable('workers')
    .addColumn('hostname', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('offline_reason', 'text')
    .addColumn('sw_ident', 'text')
    .addColumn('sw_ver', 'text')
    .addColumn('sw_sys', 'text')
    .addColumn('pid', t.bigint)
    .addColumn('freq', t.double)
    .addColumn('active', t.bigint)
    .addColumn('processed', t.bigint)
    .addColumn('loadavg', 'text')
    .addColumn('last_heartbeat_at', t.double)
    .addColumn('last_seen_at', t.double)
    .addColumn('last_seen_received_at', t.double)
    .addColumn('heartbeat_expires_at', t.double)
    .addColumn('online_since', t.double)
    .addColumn('offline_since', t.double)
    .addColumn('task_counts', 'text', (c) => c.notNull())
    .addColumn('first_position', t.bigint, (c) => c.notNull())
    .addColumn('last_position', t.bigint, (c) => c.notNull())
    .addColumn('merge_meta', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workers_status_expires').on('workers').columns(['status', 'heartbeat_expires_at']).execute();

  await db.schema
    .createTable('projection_checkpoints')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('position', t.bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('source_checkpoints')
    .addColumn('source', 'text', (c) => c.primaryKey())
    .addColumn('last_received_at', t.double, (c) => c.notNull())
    .addColumn('last_position', t.bigint, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['source_checkpoints', 'projection_checkpoints', 'workers', 'tasks', 'rejected_messages', 'events']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
