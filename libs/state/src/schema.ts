/**
 * The one typed description of the database, shared by every repository.
 * Column names are the SQL names (snake_case); both dialects store the same shapes:
 * times are epoch seconds (double precision), booleans are 0/1 integers, JSON is text.
 */
import type { Generated } from 'kysely';

export interface EventsTable {
  /** Global, gap-tolerant, strictly increasing position: the cursor of every reader. */
  position: Generated<number>;
  /** Unique identity of the event's content: the same event delivered twice is stored once. */
  dedup_key: string;
  /** Name of the broker source, or `collector:<policy>` for derived events. */
  source: string;
  type: string;
  hostname: string;
  uuid: string | null;
  clock: number | null;
  /** Epoch seconds as sent by the worker. */
  timestamp: number;
  /** Epoch seconds when the collector received it. */
  received_at: number;
  /** The full original event (after kombu `__type__` decoding), JSON text. */
  payload: string;
}

export interface RejectedMessagesTable {
  id: Generated<number>;
  dedup_key: string;
  source: string;
  reason: string;
  detail: string;
  routing_key: string | null;
  content_type: string | null;
  /** Offending bytes, truncated to the collector's bound. */
  raw: Buffer;
  raw_size: number;
  received_at: number;
}

export interface TasksTable {
  uuid: string;
  name: string | null;
  /** PENDING, RECEIVED, STARTED, SUCCESS, FAILURE, RETRY, REVOKED, REJECTED, or a custom state. */
  state: string;
  /** Timestamp of the event that gave the current state. */
  state_at: number | null;
  sent_at: number | null;
  received_at: number | null;
  started_at: number | null;
  succeeded_at: number | null;
  failed_at: number | null;
  retried_at: number | null;
  revoked_at: number | null;
  rejected_at: number | null;
  args: string | null;
  kwargs: string | null;
  result: string | null;
  exception: string | null;
  traceback: string | null;
  runtime: number | null;
  retries: number | null;
  eta: string | null;
  expires: string | null;
  worker: string | null;
  client: string | null;
  queue: string | null;
  exchange: string | null;
  routing_key: string | null;
  root_id: string | null;
  parent_id: string | null;
  revoked_terminated: number | null;
  revoked_signum: string | null;
  revoked_expired: number | null;
  rejected_requeue: number | null;
  /** Source of the newest event merged into this row. */
  source: string | null;
  first_position: number;
  last_position: number;
  event_count: number;
  /**
   * Positions of the task events merged into this row, ascending, comma-separated ("" before the
   * first): how a task's events are found in the log (the log has no index by task uuid).
   */
  event_positions: string;
  /**
   * JSON text: bookkeeping that makes the merge order-independent — for every field, the order
   * key of the event its value came from, and the newest timestamp seen for every state.
   */
  merge_meta: string;
}

export interface WorkersTable {
  hostname: string;
  source: string | null;
  /** `online` or `offline`. */
  status: string;
  /** `worker-offline` (the worker said so) or `heartbeat-timeout` (derived); null when online. */
  offline_reason: string | null;
  sw_ident: string | null;
  sw_ver: string | null;
  sw_sys: string | null;
  pid: number | null;
  freq: number | null;
  active: number | null;
  processed: number | null;
  /** JSON text: [1m, 5m, 15m]. */
  loadavg: string | null;
  /**
   * Worker clock: newest worker-online counting no running task: when the worker process last
   * started (a worker-online after a broker reconnection counts the tasks still running).
   */
  last_started_at: number | null;
  /** Worker clock: newest report of the worker itself (online, heartbeat, offline) saying it runs no task (`active` 0). */
  last_idle_at: number | null;
  /** Worker clock: newest worker-offline of the worker itself (not the liveness policy's). */
  last_goodbye_at: number | null;
  /** Worker clock: newest worker-heartbeat / worker-online timestamp. */
  last_heartbeat_at: number | null;
  /** Worker clock: newest sign of life (heartbeat, online, or a task event from this worker). */
  last_seen_at: number | null;
  /** Collector clock: when the newest sign of life was received. */
  last_seen_received_at: number | null;
  /** Collector clock: last_seen_received_at + freq × expiry factor; past it the worker is offline. */
  heartbeat_expires_at: number | null;
  online_since: number | null;
  offline_since: number | null;
  /** JSON text: {"SUCCESS": 12, "STARTED": 1, …} — tasks whose current worker is this one. */
  task_counts: string;
  first_position: number;
  last_position: number;
  /** JSON text: order keys per field, as for tasks. */
  merge_meta: string;
}

export interface ProjectionCheckpointsTable {
  name: string;
  position: number;
}

/** Per broker source: when its newest event was received, to name the gap after a restart. */
export interface SourceCheckpointsTable {
  source: string;
  last_received_at: number;
  last_position: number;
}

export interface DB {
  events: EventsTable;
  rejected_messages: RejectedMessagesTable;
  tasks: TasksTable;
  workers: WorkersTable;
  projection_checkpoints: ProjectionCheckpointsTable;
  source_checkpoints: SourceCheckpointsTable;
}
