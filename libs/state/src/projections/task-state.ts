/**
 * Celery task states and their precedence, as in celery/states.py and the event → state mapping of
 * celery/events/state.py (TASK_EVENT_TO_STATE; any other `task-<subject>` is `SUBJECT.upper()`).
 */

export const PENDING = 'PENDING';
export const RECEIVED = 'RECEIVED';
export const STARTED = 'STARTED';
export const SUCCESS = 'SUCCESS';
export const FAILURE = 'FAILURE';
export const RETRY = 'RETRY';
export const REVOKED = 'REVOKED';
export const REJECTED = 'REJECTED';
/**
 * Not a Celery state: the collector's lost-task policy says so (a derived `task-lost` event) of a
 * task STARTED on a worker that went offline or restarted before reporting how the task ended.
 */
export const LOST = 'LOST';

/** The built-in states; anything else is a custom state. */
export const BUILTIN_STATES: ReadonlySet<string> = new Set([
  PENDING,
  RECEIVED,
  STARTED,
  SUCCESS,
  FAILURE,
  RETRY,
  REVOKED,
  REJECTED,
  LOST,
]);

/** States after which Celery considers the task done. */
export const READY_STATES: ReadonlySet<string> = new Set([SUCCESS, FAILURE, REVOKED]);

/** `task-<subject>` → state for the built-in subjects. */
const SUBJECT_TO_STATE: ReadonlyMap<string, string> = new Map([
  ['sent', PENDING],
  ['received', RECEIVED],
  ['started', STARTED],
  ['succeeded', SUCCESS],
  ['failed', FAILURE],
  ['retried', RETRY],
  ['revoked', REVOKED],
  ['rejected', REJECTED],
]);

/**
 * State a task event stands for: built-in subjects map to their state, any other subject is
 * upper-cased with `-` kept (`task-cancelled` → `CANCELLED`, `task-my-thing` → `MY-THING`).
 * Like Celery, the subject is whatever follows the first `-` of the type.
 */
export function stateForEventType(type: string): string {
  const dash = type.indexOf('-');
  const subject = dash < 0 ? type : type.slice(dash + 1);
  return SUBJECT_TO_STATE.get(subject) ?? subject.toUpperCase();
}

/** The `<x>_at` column a built-in subject sets, if any. */
export type TaskTimestampColumn =
  | 'sent_at'
  | 'received_at'
  | 'started_at'
  | 'succeeded_at'
  | 'failed_at'
  | 'retried_at'
  | 'revoked_at'
  | 'rejected_at';

const SUBJECT_TO_COLUMN: ReadonlyMap<string, TaskTimestampColumn> = new Map([
  ['sent', 'sent_at'],
  ['received', 'received_at'],
  ['started', 'started_at'],
  ['succeeded', 'succeeded_at'],
  ['failed', 'failed_at'],
  ['retried', 'retried_at'],
  ['revoked', 'revoked_at'],
  ['rejected', 'rejected_at'],
] as const);

export function timestampColumnForEventType(type: string): TaskTimestampColumn | undefined {
  const dash = type.indexOf('-');
  return SUBJECT_TO_COLUMN.get(dash < 0 ? type : type.slice(dash + 1));
}

/**
 * States whose event, stamped after a task was declared LOST, shows the task lived on: it was
 * redelivered (received, started again), retried, rejected, or reported progress elsewhere. A
 * task-sent is not one: a client's clock says nothing of the worker's.
 */
function outlivesLoss(state: string): boolean {
  return state !== PENDING && state !== LOST;
}

/** Celery's PRECEDENCE: SUCCESS, FAILURE, (unknown/custom), REVOKED, STARTED, RECEIVED, REJECTED, RETRY, PENDING. */
const PRECEDENCE: ReadonlyMap<string, number> = new Map([
  [SUCCESS, 0],
  [FAILURE, 1],
  // 2: any custom state
  [REVOKED, 3],
  [STARTED, 4],
  [RECEIVED, 5],
  [REJECTED, 6],
  [RETRY, 7],
  [PENDING, 8],
]);

/** Index of the state in Celery's PRECEDENCE list: lower wins. Custom states are 2. */
export const CUSTOM_PRECEDENCE = 2;

export function precedence(state: string): number {
  return PRECEDENCE.get(state) ?? CUSTOM_PRECEDENCE;
}

export function isReadyState(state: string): boolean {
  return READY_STATES.has(state);
}

/** Non-terminal built-in states in precedence order, RETRY excluded (it is handled apart). */
const PROGRESS_ORDER = [STARTED, RECEIVED, REJECTED, PENDING] as const;

/**
 * What Celery's `retries` counters say about sends and receipts, when timestamps from different
 * clocks disagree: for PENDING and RECEIVED, the highest `retries` carried by a task-sent /
 * task-received (`attempt`) and the newest timestamp among those events of that attempt (`at`).
 *
 * Against the newest RETRY, a send or receipt is placed by the newest timestamp of its latest
 * attempt, not of all its events: a client's first task-sent, stamped by a clock running ahead of
 * the workers', says nothing of where the retry's own task-sent stands. And the first send
 * (task-sent with `retries` 0 and no later attempt) comes before every RETRY, whatever its
 * timestamp. Nothing more is read from the counters: Celery (5.2.6, `Task.retry`) publishes a
 * retry's message (`retries` = n) just before it reports the n-th retry, so `retries` = n falls
 * on either side of it; a message redelivered and run twice reports a retry twice; and retries
 * may be missing from the log (a collector started late, a Redis gap).
 */
export interface RetryEvidence {
  readonly attempts: ReadonlyMap<string, { readonly attempt: number; readonly at: number }>;
}

/** Whether the newest `state` event counts as later than the newest RETRY (at `retryAt`). */
function afterRetry(state: string, ts: number, retryAt: number, evidence: RetryEvidence | undefined): boolean {
  const latest = evidence?.attempts.get(state);
  if (latest === undefined) return ts > retryAt;
  if (state === PENDING && latest.attempt === 0) return false;
  return latest.at > retryAt;
}

/**
 * The state of a task given, for every state it went through, the newest timestamp of an event
 * of that state. Order-independent by construction, and equal to Celery's in-order result for
 * realistic life cycles (Celery: the best precedence among the states seen since the newest
 * RETRY, RETRY itself bypassing precedence both ways):
 *
 * - SUCCESS, then FAILURE, win whenever present, whatever their timestamps (robust to clock skew
 *   between workers: a retry stamped later by a fast clock cannot undo a success).
 * - Then LOST (the collector's verdict on a task whose worker died), unless the task was REVOKED or
 *   an event of another state but PENDING is newer than it (redelivered, retried: see outlivesLoss).
 *   A task that outlived its loss is resolved from the states newer than the loss alone (as for a
 *   RETRY, the earlier attempt no longer competes). With REVOKED, LOST plays no part.
 * - Then a custom state, unless a RETRY is at least as new as it (a task that reported progress
 *   and then retried is RETRY, as in Celery). Among several, the newest wins (tie: the
 *   lexicographically greatest name).
 * - Then REVOKED, whenever present (a revoked task stays revoked, even if it retried).
 * - Otherwise, when RETRY is present, only states seen strictly after the newest RETRY compete
 *   (a retried task received again is RECEIVED); if none, RETRY. Without RETRY, the best
 *   precedence among PENDING, RECEIVED, STARTED, REJECTED. With `evidence`, PENDING and RECEIVED
 *   are placed against the RETRY by their latest attempt, and the first send is before it
 *   (RetryEvidence).
 *
 * Returns null when `at` is empty.
 */
export function resolveTaskState(at: ReadonlyMap<string, number>, evidence?: RetryEvidence): string | null {
  if (at.size === 0) return null;
  if (at.has(SUCCESS)) return SUCCESS;
  if (at.has(FAILURE)) return FAILURE;
  const lostAt = at.get(LOST);
  if (lostAt !== undefined && !at.has(REVOKED)) {
    let outlived = false;
    for (const [state, ts] of at) if (ts > lostAt && outlivesLoss(state)) outlived = true;
    if (!outlived) return LOST;
    // The task lived on (redelivered, retried): what happened before the loss no longer competes.
    const since = new Map<string, number>();
    for (const [state, ts] of at) if (ts > lostAt) since.set(state, ts);
    return resolveTaskState(since, evidence);
  }
  const retryAt = at.get(RETRY);
  let custom: string | null = null;
  let customAt = -Infinity;
  for (const [state, ts] of at) {
    if (BUILTIN_STATES.has(state) || (retryAt !== undefined && ts <= retryAt)) continue;
    if (custom === null || ts > customAt || (ts === customAt && state > custom)) {
      custom = state;
      customAt = ts;
    }
  }
  if (custom !== null) return custom;
  if (at.has(REVOKED)) return REVOKED;
  for (const state of PROGRESS_ORDER) {
    const ts = at.get(state);
    if (ts === undefined) continue;
    if (retryAt === undefined || afterRetry(state, ts, retryAt, evidence)) return state;
  }
  return retryAt !== undefined ? RETRY : null;
}
