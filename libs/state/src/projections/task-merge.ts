/**
 * Folds one stored `task-*` event into a task row. Pure (no I/O, `row` is never mutated) and
 * order-independent: folding any permutation of the same set of events from `undefined` gives the
 * same row, `merge_meta` text included (its encoding is canonical).
 *
 * Rules (see task-state.ts for the state):
 * - Order key of an event: (timestamp, clock ?? -1, dedup_key), lexicographic.
 * - Every field takes its value from the greatest-order-key event among those whose payload has
 *   the key (a JSON null counts as a value); `merge_meta` keeps, per field, that event's order key.
 *   The fields that describe one attempt's message (name, args, kwargs, eta, expires, queue,
 *   exchange, routing_key, root_id, parent_id) are ordered by the event's attempt first: its
 *   `retries` (-1 when it carries none), then the order key. A retry's task-received therefore
 *   beats the first task-sent even when the client's clock runs ahead of the workers'.
 *   `hostname` goes to `client` for task-sent and to `worker` for every other task event.
 *   task-revoked: terminated/signum/expired → revoked_*; task-rejected: requeue → rejected_requeue.
 *   `source` comes from the greatest-order-key event of all (for a derived `collector:*` event
 *   such as `task-lost`, its payload's `broker_source`).
 * - Values of the wrong type for their column are stored as null (never a crash).
 * - `<x>_at` = newest timestamp of the events of that type; `merge_meta` keeps the newest
 *   timestamp of every state (custom ones included), and the highest `retries` of the PENDING
 *   and RECEIVED events with the newest timestamp among those of that attempt, from which the
 *   state is resolved (task-state.ts, RetryEvidence).
 * - first/last_position = min/max position; event_count = number of merges; event_positions = the
 *   positions merged, ascending and distinct, comma-separated (see task-event-positions.ts).
 *
 * Callers must merge each stored event exactly once (the log's dedup guarantees distinct events):
 * merging the same event again changes nothing but event_count, which would then over-count.
 *
 * merge_meta layout (compact JSON): `{"v":2,"o":[[timestamp,clock,dedup_key],…],"f":{column:index
 * in o},"a":{column:attempt},"s":{state:newest timestamp},"r":{state:[highest retries,newest
 * timestamp of that attempt]}}` — `o` sorted ascending without duplicates, `f` and `a` in a fixed
 * column order (`a` only for attempt fields whose value came with a `retries`), `s` and `r` sorted
 * by name; `a` and `r` are left out when empty.
 *
 * Rows merged before version 2 (no `"v"`) keep being merged by the rules they were built with
 * (order key only, timestamps against RETRY), so that they stay consistent; `rebuild` brings them
 * to version 2.
 */
import type { Selectable } from 'kysely';
import type { TasksTable } from '../schema';
import { brokerSourceOf, type StoredEvent } from '../stored-event';
import { parseEventPositions } from './task-event-positions';
import {
  buildKeyTable,
  compareOrderKeys,
  decodeFieldKeys,
  orderKeyOf,
  parseMeta,
  type OrderKey,
} from './order-key';
import {
  PENDING,
  RECEIVED,
  REJECTED,
  RETRY,
  REVOKED,
  STARTED,
  SUCCESS,
  FAILURE,
  resolveTaskState,
  stateForEventType,
  type RetryEvidence,
  timestampColumnForEventType,
  type TaskTimestampColumn,
} from './task-state';
import { textColumn } from '../text-columns';

export type TaskRow = Selectable<TasksTable>;

type Coerce = (v: unknown) => string | number | null;

const asText: Coerce = (v) => (typeof v === 'string' ? textColumn(v) : null);
const asNumber: Coerce = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const asFlag: Coerce = (v) => (v === true ? 1 : v === false ? 0 : null);
/** Signal: Celery sends an int, null, or a name such as "SIGTERM". */
const asSignum: Coerce = (v) =>
  typeof v === 'string' ? textColumn(v) : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : null;

/** Columns set by order key (everything in `merge_meta.f`). */
type KeyedColumn =
  | 'name'
  | 'args'
  | 'kwargs'
  | 'result'
  | 'exception'
  | 'traceback'
  | 'runtime'
  | 'eta'
  | 'expires'
  | 'queue'
  | 'exchange'
  | 'routing_key'
  | 'root_id'
  | 'parent_id'
  | 'revoked_terminated'
  | 'revoked_signum'
  | 'revoked_expired'
  | 'rejected_requeue'
  | 'client'
  | 'worker'
  | 'source';

type FieldSpec = readonly [payloadKey: string, column: KeyedColumn, coerce: Coerce];

/** Payload keys copied from any task event. */
const COMMON_FIELDS: readonly FieldSpec[] = [
  ['name', 'name', asText],
  ['args', 'args', asText],
  ['kwargs', 'kwargs', asText],
  ['result', 'result', asText],
  ['exception', 'exception', asText],
  ['traceback', 'traceback', asText],
  ['runtime', 'runtime', asNumber],
  ['eta', 'eta', asText],
  ['expires', 'expires', asText],
  ['queue', 'queue', asText],
  ['exchange', 'exchange', asText],
  ['routing_key', 'routing_key', asText],
  ['root_id', 'root_id', asText],
  ['parent_id', 'parent_id', asText],
];

const REVOKED_FIELDS: readonly FieldSpec[] = [
  ['terminated', 'revoked_terminated', asFlag],
  ['signum', 'revoked_signum', asSignum],
  ['expired', 'revoked_expired', asFlag],
];

const REJECTED_FIELDS: readonly FieldSpec[] = [['requeue', 'rejected_requeue', asFlag]];

/** Fields of one attempt's message: ordered by (attempt, order key) in version-2 rows. */
const ATTEMPT_COLUMNS: ReadonlySet<KeyedColumn> = new Set<KeyedColumn>([
  'name',
  'args',
  'kwargs',
  'eta',
  'expires',
  'queue',
  'exchange',
  'routing_key',
  'root_id',
  'parent_id',
]);

/** States whose highest `retries` the meta keeps (the events that carry one). */
const ATTEMPT_STATES: ReadonlySet<string> = new Set([PENDING, RECEIVED]);

const META_VERSION = 2;

/** Canonical order of `merge_meta.f`. */
const KEYED_COLUMNS: readonly KeyedColumn[] = [
  ...COMMON_FIELDS.map((f) => f[1]),
  ...REVOKED_FIELDS.map((f) => f[1]),
  ...REJECTED_FIELDS.map((f) => f[1]),
  'client',
  'worker',
  'source',
];

const STATE_COLUMNS: ReadonlyArray<readonly [string, TaskTimestampColumn]> = [
  [PENDING, 'sent_at'],
  [RECEIVED, 'received_at'],
  [STARTED, 'started_at'],
  [SUCCESS, 'succeeded_at'],
  [FAILURE, 'failed_at'],
  [RETRY, 'retried_at'],
  [REVOKED, 'revoked_at'],
  [REJECTED, 'rejected_at'],
];

/** A row no event was merged into yet (state PENDING, positions 0, event_count 0). */
export function emptyTaskRow(uuid: string): TaskRow {
  return {
    uuid,
    name: null,
    state: PENDING,
    state_at: null,
    sent_at: null,
    received_at: null,
    started_at: null,
    succeeded_at: null,
    failed_at: null,
    retried_at: null,
    revoked_at: null,
    rejected_at: null,
    args: null,
    kwargs: null,
    result: null,
    exception: null,
    traceback: null,
    runtime: null,
    retries: null,
    eta: null,
    expires: null,
    worker: null,
    client: null,
    queue: null,
    exchange: null,
    routing_key: null,
    root_id: null,
    parent_id: null,
    revoked_terminated: null,
    revoked_signum: null,
    revoked_expired: null,
    rejected_requeue: null,
    source: null,
    first_position: 0,
    last_position: 0,
    event_count: 0,
    event_positions: '',
    merge_meta: '{}',
  };
}

function hasKey(payload: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(payload, key) && payload[key] !== undefined;
}

function maxOf(a: number | null, b: number): number {
  return a === null || b > a ? b : a;
}

/** Newest timestamp per state, from `merge_meta.s`, completed by the `<x>_at` columns. */
function decodeStateTimes(meta: Record<string, unknown>, row: TaskRow): Map<string, number> {
  const at = new Map<string, number>();
  const s = meta['s'];
  if (s !== null && typeof s === 'object' && !Array.isArray(s)) {
    for (const [state, ts] of Object.entries(s as Record<string, unknown>)) {
      if (typeof ts === 'number' && Number.isFinite(ts)) at.set(state, ts);
    }
  }
  for (const [state, column] of STATE_COLUMNS) {
    const ts = row[column];
    if (ts !== null) at.set(state, maxOf(at.get(state) ?? null, ts));
  }
  return at;
}

/** What the fold reads from and writes back to `merge_meta`. */
interface FoldState {
  /** Version 2 (attempt-aware) rules; false for a row merged by earlier versions. */
  readonly attemptAware: boolean;
  /** Per keyed column, the order key of the event its value came from. */
  readonly keys: Map<string, OrderKey>;
  /** Per attempt column, the `retries` of the event its value came from (absent: -1). */
  readonly attempts: Map<string, number>;
  /** Newest timestamp per state. */
  readonly at: Map<string, number>;
  /** Per state in ATTEMPT_STATES: the highest `retries`, and the newest timestamp of that attempt. */
  readonly stateAttempts: Map<string, { attempt: number; at: number }>;
}

/** Reads `{name: integer}` entries of `meta[key]`; malformed entries are skipped. */
function decodeIntegers(meta: Record<string, unknown>, key: string): Map<string, number> {
  const out = new Map<string, number>();
  const v = meta[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [name, n] of Object.entries(v as Record<string, unknown>)) {
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) out.set(name, n);
  }
  return out;
}

/**
 * The rules a row is merged by: `attempt-aware` (merge_meta version 2) or `timestamps` (rows
 * written before it, kept so until a rebuild). A row with no event yet takes `forNewRow`.
 */
export type MergeRules = 'attempt-aware' | 'timestamps';

/** The rules a stored row was merged by (to fold its events again the same way). */
export function mergeRulesOf(row: Pick<TaskRow, 'event_count' | 'merge_meta'>): MergeRules {
  return row.event_count === 0 || parseMeta(row.merge_meta)['v'] === META_VERSION ? 'attempt-aware' : 'timestamps';
}

/** Reads `{state: [attempt, timestamp]}` entries of `meta.r`; malformed entries are skipped. */
function decodeStateAttempts(meta: Record<string, unknown>): Map<string, { attempt: number; at: number }> {
  const out = new Map<string, { attempt: number; at: number }>();
  const v = meta['r'];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [state, pair] of Object.entries(v as Record<string, unknown>)) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    const [attempt, at] = pair as unknown[];
    if (typeof attempt === 'number' && Number.isSafeInteger(attempt) && attempt >= 0 && typeof at === 'number' && Number.isFinite(at)) {
      out.set(state, { attempt, at });
    }
  }
  return out;
}

function decodeFoldState(meta: Record<string, unknown>, row: TaskRow, forNewRow: MergeRules): FoldState {
  return {
    attemptAware: row.event_count === 0 ? forNewRow === 'attempt-aware' : meta['v'] === META_VERSION,
    keys: decodeFieldKeys(meta),
    attempts: decodeIntegers(meta, 'a'),
    at: decodeStateTimes(meta, row),
    stateAttempts: decodeStateAttempts(meta),
  };
}

function encodeMeta(fold: FoldState): string {
  const { table, indexOf } = buildKeyTable(fold.keys.values());
  const f: Record<string, number> = {};
  const a: Record<string, number> = {};
  for (const column of KEYED_COLUMNS) {
    const k = fold.keys.get(column);
    if (k !== undefined) f[column] = indexOf(k);
    const attempt = fold.attempts.get(column);
    if (attempt !== undefined) a[column] = attempt;
  }
  const s: Record<string, number> = {};
  for (const state of [...fold.at.keys()].sort()) s[state] = fold.at.get(state) as number;
  if (!fold.attemptAware) return JSON.stringify({ o: table, f, s });
  const r: Record<string, [number, number]> = {};
  for (const state of [...fold.stateAttempts.keys()].sort()) {
    const { attempt, at } = fold.stateAttempts.get(state)!;
    r[state] = [attempt, at];
  }
  return JSON.stringify({
    v: META_VERSION,
    o: table,
    f,
    ...(Object.keys(a).length > 0 ? { a } : {}),
    s,
    ...(Object.keys(r).length > 0 ? { r } : {}),
  });
}

/** The evidence task-state.ts needs from the fold (undefined for rows of earlier versions). */
function retryEvidence(fold: FoldState): RetryEvidence | undefined {
  return fold.attemptAware ? { attempts: fold.stateAttempts } : undefined;
}

/** `retries` of an event as an attempt number: a non-negative integer, else -1. */
function attemptOf(payload: Record<string, unknown>): number {
  const retries = payload['retries'];
  return typeof retries === 'number' && Number.isSafeInteger(retries) && retries >= 0 ? retries : -1;
}

/**
 * Merges one stored `task-*` event (with a uuid) into `row` (undefined for a task not seen yet)
 * and returns the new row. Throws on an event that is not a task event of this row's uuid.
 * `forNewRow`: the rules of a row that has no event yet (to replay a stored row's events by the
 * rules it was written with, see mergeRulesOf); rows with events keep their own.
 */
export function mergeTaskEvent(row: TaskRow | undefined, event: StoredEvent, forNewRow: MergeRules = 'attempt-aware'): TaskRow {
  return mergeTaskEvents(row, [event], forNewRow);
}

/**
 * Merges several stored events of one task, in the given order: the same row as merging them one
 * by one, with `merge_meta` parsed and encoded once (the ingestion hot path merges a batch's events
 * of a task together).
 */
export function mergeTaskEvents(row: TaskRow | undefined, events: readonly StoredEvent[], forNewRow: MergeRules = 'attempt-aware'): TaskRow {
  const firstEvent = events[0];
  if (firstEvent === undefined) {
    if (row === undefined) throw new Error('mergeTaskEvents: no row and no events');
    return row;
  }
  if (!firstEvent.type.startsWith('task-')) throw new Error(`mergeTaskEvent: not a task event: ${firstEvent.type}`);
  const uuid = row?.uuid ?? firstEvent.uuid;
  if (uuid === null) throw new Error(`mergeTaskEvent: ${firstEvent.type} at position ${firstEvent.position} has no uuid`);
  const next: TaskRow = { ...(row ?? emptyTaskRow(uuid)) };
  const fold = decodeFoldState(parseMeta(next.merge_meta), next, forNewRow);
  const positions = parseEventPositions(next.event_positions);
  for (const event of events) {
    foldTaskEvent(next, fold, event);
    insertPosition(positions, event.position);
  }
  next.merge_meta = encodeMeta(fold);
  next.event_positions = positions.join(',');
  return next;
}

/** Inserts `position` into the ascending list `positions` (mutated) unless already there. */
function insertPosition(positions: number[], position: number): void {
  let i = positions.length;
  // Events mostly come in position order: the search starts from the end.
  while (i > 0 && positions[i - 1]! > position) i -= 1;
  if (i > 0 && positions[i - 1] === position) return;
  positions.splice(i, 0, position);
}

/** Folds one event into `next` (mutated), its field order keys and its state times. */
function foldTaskEvent(next: TaskRow, fold: FoldState, event: StoredEvent): void {
  if (!event.type.startsWith('task-')) {
    throw new Error(`mergeTaskEvent: not a task event: ${event.type}`);
  }
  const uuid = event.uuid;
  if (uuid === null) throw new Error(`mergeTaskEvent: ${event.type} at position ${event.position} has no uuid`);
  if (next.uuid !== uuid) {
    throw new Error(`mergeTaskEvent: event for task ${uuid} merged into row of task ${next.uuid}`);
  }
  const cells = next as unknown as Record<KeyedColumn, string | number | null>;
  const { keys, attempts, at } = fold;
  const key = orderKeyOf(event);
  const payload = event.payload;
  const attempt = attemptOf(payload);

  const take = (column: KeyedColumn, value: string | number | null): void => {
    const current = keys.get(column);
    const byAttempt = fold.attemptAware && ATTEMPT_COLUMNS.has(column);
    const currentAttempt = attempts.get(column) ?? -1;
    const wins =
      current === undefined ||
      (byAttempt && attempt !== currentAttempt ? attempt > currentAttempt : compareOrderKeys(key, current) >= 0);
    if (!wins) return;
    cells[column] = value;
    keys.set(column, key);
    if (byAttempt && attempt >= 0) attempts.set(column, attempt);
    else attempts.delete(column);
  };
  const copy = (payload: Record<string, unknown>, fields: readonly FieldSpec[]): void => {
    for (const [payloadKey, column, coerce] of fields) {
      if (!hasKey(payload, payloadKey)) continue;
      const raw = payload[payloadKey];
      const value = coerce(raw);
      // A value the column cannot hold (a custom event's `result: {…}`, say) tells nothing: it
      // must not blank what another event said. An explicit null still does.
      if (value === null && raw !== null) continue;
      take(column, value);
    }
  };

  copy(payload, COMMON_FIELDS);
  // The attempt counter only grows: the highest seen wins, whatever the timestamps say (a client
  // stamps task-sent after publishing, so under load its retries=0 can postdate the retry's events).
  const retries = payload['retries'];
  if (typeof retries === 'number' && Number.isSafeInteger(retries) && (next.retries === null || retries > next.retries)) next.retries = retries;
  if (event.type === 'task-revoked') copy(payload, REVOKED_FIELDS);
  else if (event.type === 'task-rejected') copy(payload, REJECTED_FIELDS);
  take(event.type === 'task-sent' ? 'client' : 'worker', event.hostname);
  take('source', brokerSourceOf(event));

  const eventState = stateForEventType(event.type);
  at.set(eventState, maxOf(at.get(eventState) ?? null, event.timestamp));
  const column = timestampColumnForEventType(event.type);
  if (column !== undefined) next[column] = maxOf(next[column], event.timestamp);
  if (fold.attemptAware) {
    if (attempt >= 0 && ATTEMPT_STATES.has(eventState)) {
      const latest = fold.stateAttempts.get(eventState);
      if (latest === undefined || attempt > latest.attempt) fold.stateAttempts.set(eventState, { attempt, at: event.timestamp });
      else if (attempt === latest.attempt && event.timestamp > latest.at) fold.stateAttempts.set(eventState, { attempt, at: event.timestamp });
    }
  }

  const state = resolveTaskState(at, retryEvidence(fold)) ?? PENDING;
  next.state = state;
  next.state_at = at.get(state) ?? null;

  const first = next.event_count === 0;
  next.first_position = first ? event.position : Math.min(next.first_position, event.position);
  next.last_position = first ? event.position : Math.max(next.last_position, event.position);
  next.event_count += 1;
}
