/**
 * Folds one stored event into a worker row. Pure (no I/O, `row` is never mutated) and, except for
 * `online_since`, order-independent: folding any permutation of the same set of events from
 * `undefined` gives the same row.
 *
 * Which events to pass:
 * - every `worker-*` event of the worker (`event.hostname`), including the derived
 *   `worker-offline` the collector's liveness policy appends (payload `reason: "heartbeat-timeout"`,
 *   timestamp = the expiry instant in worker clock);
 * - every `task-*` event EXCEPT `task-sent` and derived ones (`task-lost`): its hostname is the
 *   worker that ran it, and it only counts as a sign of life. `task-sent` comes from a client (`gen<pid>@host`), not a worker, and
 *   is refused (throws).
 * Each stored event must be merged once (the log's dedup guarantees distinct events).
 *
 * Rules:
 * - sw_ident, sw_ver, sw_sys, pid, freq, active, processed, loadavg (JSON text): from `worker-*`
 *   events, each from the greatest-order-key event whose payload has the key; `source` from the
 *   greatest-order-key event of all (for a derived `collector:*` event, its payload's
 *   `broker_source`, so the row always names the broker). Values of the wrong type are stored as null.
 * - Alive events: worker-online, worker-heartbeat and task events (not derived ones such as
 *   `task-lost`). last_started_at = newest timestamp of a worker-online that counts no running task
 *   (`active` not a positive number: a start; Celery also says worker-online when its broker
 *   connection comes back, counting the tasks it still runs); last_idle_at = newest timestamp of
 *   a worker-online, -heartbeat or -offline of the worker itself whose `active` is 0;
 *   last_goodbye_at = newest worker-offline of the worker itself (not derived); last_heartbeat_at = newest
 *   online/heartbeat timestamp; last_seen_at = newest alive timestamp; last_seen_received_at =
 *   newest alive received_at; heartbeat_expires_at = last_seen_received_at +
 *   (freq ?? defaultFreq) × expiryFactor (null when never alive).
 * - Offline events: `worker-offline` (reason: the payload's `reason` when it is a non-empty
 *   string, e.g. `heartbeat-timeout`, else `worker-offline`). The newest one by order key is kept
 *   in merge_meta; status = offline when its timestamp >= the newest sign of life that can revive
 *   the worker (after a `heartbeat-timeout`: last_seen_at; after any other offline, the worker's
 *   own goodbye: last_heartbeat_at, as a warm shutdown reports its last tasks' ends after the
 *   goodbye), or when there is none; else online — a row with neither alive nor offline events is `online`.
 *   offline_since / offline_reason = that event's timestamp / reason when offline, else null.
 * - online_since (only when online, else null): the timestamp of the first alive event after the
 *   newest offline event (after a goodbye, of the first online/heartbeat). merge_meta.on keeps the
 *   earliest alive timestamp known to be after the current newest offline event, merge_meta.oh the
 *   earliest online/heartbeat one. It is exact when no offline event arrives after alive events
 *   newer than it (in particular in timestamp order, or with no offline event at all); when a
 *   newer offline event arrives late and invalidates it, the earliest alive timestamp after it is
 *   unknown and the newest sign of life that revives the worker stands in for it (it is at least
 *   after the offline instant).
 * - task_counts is '{}' on creation and never changed here (the projector maintains it).
 * - first/last_position = min/max position.
 *
 * merge_meta layout: `{"o":[[timestamp,clock,dedup_key],…],"f":{column:index in o},
 * "x":[index in o, reason],"on":timestamp,"oh":timestamp}` (x: the newest offline event; x, on
 * and oh optional).
 */
import type { Selectable } from 'kysely';
import type { WorkersTable } from '../schema';
import { brokerSourceOf, isDerivedEvent, type StoredEvent } from '../stored-event';
import {
  buildKeyTable,
  compareOrderKeys,
  decodeFieldKeys,
  decodeKeyRef,
  orderKeyOf,
  parseMeta,
  type OrderKey,
} from './order-key';
import { textColumn } from '../text-columns';

export type WorkerRow = Selectable<WorkersTable>;

export interface WorkerMergeOptions {
  /** Multiplier of freq past which a silent worker is offline (Celery: 200% → 2). */
  expiryFactor: number;
  /** Heartbeat period (seconds) assumed when the worker never sent `freq` (Celery: 2). */
  defaultFreq: number;
}

export const DEFAULT_WORKER_MERGE_OPTIONS: Readonly<WorkerMergeOptions> = Object.freeze({
  expiryFactor: 2,
  defaultFreq: 2,
});

export const OFFLINE_REASON_WORKER = 'worker-offline';
export const OFFLINE_REASON_HEARTBEAT_TIMEOUT = 'heartbeat-timeout';

type Coerce = (v: unknown) => string | number | null;

const asText: Coerce = (v) => (typeof v === 'string' ? textColumn(v) : null);
const asNumber: Coerce = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const asInteger: Coerce = (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const asLoadavg: Coerce = (v) =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? JSON.stringify(v) : null;

type KeyedColumn =
  | 'sw_ident'
  | 'sw_ver'
  | 'sw_sys'
  | 'pid'
  | 'freq'
  | 'active'
  | 'processed'
  | 'loadavg'
  | 'source';

type FieldSpec = readonly [payloadKey: string, column: KeyedColumn, coerce: Coerce];

const WORKER_FIELDS: readonly FieldSpec[] = [
  ['sw_ident', 'sw_ident', asText],
  ['sw_ver', 'sw_ver', asText],
  ['sw_sys', 'sw_sys', asText],
  ['pid', 'pid', asInteger],
  ['freq', 'freq', asNumber],
  ['active', 'active', asInteger],
  ['processed', 'processed', asInteger],
  ['loadavg', 'loadavg', asLoadavg],
];

/** Canonical order of `merge_meta.f`. */
const KEYED_COLUMNS: readonly KeyedColumn[] = [...WORKER_FIELDS.map((f) => f[1]), 'source'];

/** A row no event was merged into yet. */
export function emptyWorkerRow(hostname: string): WorkerRow {
  return {
    hostname,
    source: null,
    status: 'online',
    offline_reason: null,
    sw_ident: null,
    sw_ver: null,
    sw_sys: null,
    pid: null,
    freq: null,
    active: null,
    processed: null,
    loadavg: null,
    last_started_at: null,
    last_idle_at: null,
    last_goodbye_at: null,
    last_heartbeat_at: null,
    last_seen_at: null,
    last_seen_received_at: null,
    heartbeat_expires_at: null,
    online_since: null,
    offline_since: null,
    task_counts: '{}',
    first_position: 0,
    last_position: 0,
    merge_meta: '{}',
  };
}

function hasKey(payload: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(payload, key) && payload[key] !== undefined;
}

function maxOf(a: number | null, b: number): number {
  return a === null || b > a ? b : a;
}

function offlineReason(payload: Record<string, unknown>): string {
  const reason = payload['reason'];
  return typeof reason === 'string' && reason !== '' ? reason : OFFLINE_REASON_WORKER;
}

interface OfflineMark {
  key: OrderKey;
  reason: string;
}

function decodeOffline(meta: Record<string, unknown>): OfflineMark | null {
  const x = meta['x'];
  if (!Array.isArray(x) || typeof x[1] !== 'string') return null;
  const key = decodeKeyRef(meta, x[0]);
  return key === null ? null : { key, reason: x[1] };
}

/**
 * Merges one stored event into `row` (undefined for a worker not seen yet) and returns the new
 * row. Throws on `task-sent`, on events that are neither `worker-*` nor `task-*`, and on an event
 * of another hostname.
 */
export function mergeWorkerEvent(
  row: WorkerRow | undefined,
  event: StoredEvent,
  opts: WorkerMergeOptions = DEFAULT_WORKER_MERGE_OPTIONS,
): WorkerRow {
  return mergeWorkerEvents(row, [event], opts);
}

interface WorkerFold {
  next: WorkerRow;
  keys: Map<string, OrderKey>;
  offline: OfflineMark | null;
  aliveSince: number | null;
  /** The same, counting only the worker's heart (online, heartbeat): online_since after a goodbye. */
  heartSince: number | null;
}

/**
 * Merges several stored events of one worker, in the given order: the same row as merging them
 * one by one, with `merge_meta` parsed and encoded once (a batch carries many task events of each
 * worker, every one a sign of life).
 */
export function mergeWorkerEvents(
  row: WorkerRow | undefined,
  events: readonly StoredEvent[],
  opts: WorkerMergeOptions = DEFAULT_WORKER_MERGE_OPTIONS,
): WorkerRow {
  const firstEvent = events[0];
  if (firstEvent === undefined) {
    if (row === undefined) throw new Error('mergeWorkerEvents: no row and no events');
    return row;
  }
  const next: WorkerRow = { ...(row ?? emptyWorkerRow(firstEvent.hostname)) };
  const meta = parseMeta(next.merge_meta);
  const fold: WorkerFold = {
    next,
    keys: decodeFieldKeys(meta),
    offline: decodeOffline(meta),
    aliveSince: typeof meta['on'] === 'number' ? meta['on'] : null,
    heartSince: typeof meta['oh'] === 'number' ? meta['oh'] : null,
  };
  for (const event of events) foldWorkerEvent(fold, event, opts);
  next.merge_meta = encodeMeta(fold.keys, fold.offline, fold.aliveSince, fold.heartSince);
  return next;
}

/** Folds one event into the worker being merged (mutated). */
function foldWorkerEvent(fold: WorkerFold, event: StoredEvent, opts: WorkerMergeOptions): void {
  const type = event.type;
  const isWorkerEvent = type.startsWith('worker-');
  if (!isWorkerEvent && !type.startsWith('task-')) {
    throw new Error(`mergeWorkerEvent: not a worker or task event: ${type}`);
  }
  if (type === 'task-sent') {
    throw new Error('mergeWorkerEvent: task-sent comes from a client, not a worker');
  }
  if (!isWorkerEvent && isDerivedEvent(event)) {
    throw new Error(`mergeWorkerEvent: ${type} is the collector's verdict (${event.source}), not a sign of the worker's life`);
  }
  const next = fold.next;
  if (next.hostname !== event.hostname) {
    throw new Error(`mergeWorkerEvent: event of ${event.hostname} merged into row of ${next.hostname}`);
  }
  const cells = next as unknown as Record<KeyedColumn, string | number | null>;
  const keys = fold.keys;
  const key = orderKeyOf(event);
  // Every merge records the source's key: without it (and positions), nothing was merged yet.
  const first = !keys.has('source') && next.first_position === 0 && next.last_position === 0;

  const take = (column: KeyedColumn, value: string | number | null): void => {
    const current = keys.get(column);
    if (current === undefined || compareOrderKeys(key, current) >= 0) {
      cells[column] = value;
      keys.set(column, key);
    }
  };

  const payload = event.payload;
  if (isWorkerEvent) {
    for (const [payloadKey, column, coerce] of WORKER_FIELDS) {
      if (!hasKey(payload, payloadKey)) continue;
      const raw = payload[payloadKey];
      const value = coerce(raw);
      if (value === null && raw !== null) continue; // a value the column cannot hold tells nothing
      take(column, value);
    }
  }
  // A derived event names the broker the worker lives on: the row keeps that, so it always says
  // where the worker can be reached.
  take('source', brokerSourceOf(event));

  const ts = event.timestamp;
  // The worker's heart says it runs no task (derived events carry no `active`; custom worker-*
  // events are not the heart's).
  if (HEART_TYPES.has(type) && payload['active'] === 0 && !isDerivedEvent(event)) next.last_idle_at = maxOf(next.last_idle_at, ts);
  if (type === 'worker-offline' && !isDerivedEvent(event)) next.last_goodbye_at = maxOf(next.last_goodbye_at, ts);
  if (type === 'worker-offline') {
    const offline = fold.offline;
    if (offline === null || compareOrderKeys(key, offline.key) > 0) {
      const previousAt = offline === null ? null : offline.key[0];
      fold.offline = { key, reason: offlineReason(payload) };
      if (previousAt === null || ts > previousAt) {
        // The earliest alive instant after the new offline instant: still known if the one we
        // had is after it; otherwise unknown, and the newest sign of life stands in for it.
        if (fold.aliveSince === null || fold.aliveSince <= ts) {
          fold.aliveSince = next.last_seen_at !== null && next.last_seen_at > ts ? next.last_seen_at : null;
        }
        if (fold.heartSince === null || fold.heartSince <= ts) {
          fold.heartSince = next.last_heartbeat_at !== null && next.last_heartbeat_at > ts ? next.last_heartbeat_at : null;
        }
      }
    }
  } else if (type === 'worker-online' || type === 'worker-heartbeat' || !isWorkerEvent) {
    if (isWorkerEvent) next.last_heartbeat_at = maxOf(next.last_heartbeat_at, ts);
    if (type === 'worker-online' && !runsTasks(payload)) next.last_started_at = maxOf(next.last_started_at, ts);
    next.last_seen_at = maxOf(next.last_seen_at, ts);
    next.last_seen_received_at = maxOf(next.last_seen_received_at, event.received_at);
    if (fold.offline === null || ts > fold.offline.key[0]) {
      fold.aliveSince = fold.aliveSince === null ? ts : Math.min(fold.aliveSince, ts);
      if (isWorkerEvent) fold.heartSince = fold.heartSince === null ? ts : Math.min(fold.heartSince, ts);
    }
  }

  next.heartbeat_expires_at =
    next.last_seen_received_at === null
      ? null
      : next.last_seen_received_at + (next.freq ?? opts.defaultFreq) * opts.expiryFactor;

  const offline = fold.offline;
  const offlineAt = offline === null ? null : offline.key[0];
  const revival = offline === null ? null : revivalAt(next, offline.reason);
  const isOffline = offline !== null && offlineAt !== null && (revival === null || offlineAt >= revival);
  next.status = isOffline ? 'offline' : 'online';
  next.offline_since = isOffline ? offlineAt : null;
  next.offline_reason = isOffline && offline !== null ? offline.reason : null;
  const heartOnly = offline !== null && offline.reason !== OFFLINE_REASON_HEARTBEAT_TIMEOUT;
  next.online_since = isOffline ? null : heartOnly ? (fold.heartSince ?? next.last_heartbeat_at) : (fold.aliveSince ?? next.last_seen_at);

  next.first_position = first ? event.position : Math.min(next.first_position, event.position);
  next.last_position = first ? event.position : Math.max(next.last_position, event.position);
}

/** What Celery's heart sends (celery/worker/heartbeat.py), each with `active`: the tasks running. */
const HEART_TYPES: ReadonlySet<string> = new Set(['worker-online', 'worker-heartbeat', 'worker-offline']);

/** Whether a worker event counts running tasks (`active` a positive number). */
function runsTasks(payload: Record<string, unknown>): boolean {
  const active = payload['active'];
  return typeof active === 'number' && active > 0;
}

/**
 * The newest sign of life that can outweigh an offline event of this reason. After the liveness
 * policy's heartbeat timeout any sign of life does (the worker was only cut off). After the
 * worker's own goodbye only its heart does (worker-online, worker-heartbeat): a warm shutdown says
 * goodbye first and then reports the ends of the tasks it finishes, and a worker whose broker
 * connection came back says worker-online again.
 */
function revivalAt(row: WorkerRow, reason: string): number | null {
  return reason === OFFLINE_REASON_HEARTBEAT_TIMEOUT ? row.last_seen_at : row.last_heartbeat_at;
}

function encodeMeta(keys: ReadonlyMap<string, OrderKey>, offline: OfflineMark | null, aliveSince: number | null, heartSince: number | null): string {
  const all: OrderKey[] = [...keys.values()];
  if (offline !== null) all.push(offline.key);
  const { table, indexOf } = buildKeyTable(all);
  const f: Record<string, number> = {};
  for (const column of KEYED_COLUMNS) {
    const k = keys.get(column);
    if (k !== undefined) f[column] = indexOf(k);
  }
  const meta: Record<string, unknown> = { o: table, f };
  if (offline !== null) meta['x'] = [indexOf(offline.key), offline.reason];
  if (aliveSince !== null) meta['on'] = aliveSince;
  if (heartSince !== null) meta['oh'] = heartSince;
  return JSON.stringify(meta);
}
