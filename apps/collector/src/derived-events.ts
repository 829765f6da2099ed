/**
 * Events the collector derives itself and appends to the log like any other, so projections
 * change only through events and a rebuild reproduces them. Their payloads are deterministic
 * (no wall-clock fields) so two collectors on one Postgres derive the same event and store it once.
 */
import { hostname as osHostname } from 'node:os';
import { newEvent, type NewEvent, type StrandedTask, type WorkerRecord } from '../../../libs/state/src';

export const LIVENESS_SOURCE = 'collector:liveness';
export const GAP_SOURCE = 'collector:gap';
export const COLLECTOR_HOSTNAME = `celery-monitor@${osHostname()}`;

/** `worker-offline` with reason `heartbeat-timeout`, timestamped at the expiry instant (worker clock). */
export function heartbeatTimeoutEvent(worker: WorkerRecord, expiryFactor: number, defaultFreq: number, now: number): NewEvent {
  const freq = worker.freq ?? defaultFreq;
  const lastSeenAt = worker.last_seen_at ?? now;
  const fields = {
    type: 'worker-offline',
    hostname: worker.hostname,
    timestamp: lastSeenAt + freq * expiryFactor,
    reason: 'heartbeat-timeout',
    last_seen_at: lastSeenAt,
    heartbeat_freq: freq,
    expiry_factor: expiryFactor,
    broker_source: worker.source,
  };
  return newEvent(LIVENESS_SOURCE, now, { type: fields.type, hostname: worker.hostname, timestamp: fields.timestamp, clock: null, uuid: null, fields });
}

/** `collector-gap`: the interval in which a Redis source was not listening. */
export function gapEvent(brokerSource: string, from: number, to: number, reason: 'resubscribed' | 'collector-started', now: number): NewEvent {
  const fields = {
    type: 'collector-gap',
    hostname: COLLECTOR_HOSTNAME,
    timestamp: to,
    broker_source: brokerSource,
    gap_from: from,
    gap_to: to,
    gap_seconds: Math.max(0, to - from),
    reason,
  };
  return newEvent(GAP_SOURCE, now, { type: fields.type, hostname: COLLECTOR_HOSTNAME, timestamp: to, clock: null, uuid: null, fields });
}

export const LOST_TASKS_SOURCE = 'collector:lost-tasks';

/**
 * Why a task was declared lost: its worker reported running no task since the task started (after
 * starting again since: `worker-restarted`; in its goodbye: `worker-offline`; else `worker-idle`,
 * the task's end never reached us: Celery 5.2 sends none for a task that ran across a broker
 * reconnection, nor for Ignore(), and a Redis gap may have swallowed it), or went offline without
 * saying so (`heartbeat-timeout`), or said goodbye while the task ran and never reported its end
 * (`worker-offline`, after the drain window).
 */
export type TaskLostReason = 'worker-restarted' | 'worker-idle' | 'worker-offline' | 'heartbeat-timeout';

export interface LostTaskVerdict {
  /** Worker clock: when the task was known to be cut off. */
  at: number;
  reason: TaskLostReason;
  /**
   * How long the verdict must hold before it is appended: `grace` (CM_LOST_TASK_GRACE_SECONDS), or
   * `drain` (CM_LOST_TASK_DRAIN_SECONDS) when the worker said goodbye while the task still ran: a
   * warm shutdown finishes its tasks, and reports their ends, after the goodbye.
   */
  wait: 'grace' | 'drain';
}

/**
 * When and why a task STARTED on a worker was cut off, from the worker's row:
 * - the worker's newest report of running no task (`active` 0), when after the start: at the
 *   worker's newest start (a worker-online counting no running task) if that is after the task's
 *   too, else at that report (which moves on with each idle heartbeat: the policy keeps the
 *   verdict it found first);
 * - else, the worker being offline since the start: after a goodbye of its own since the start with
 *   no heartbeat after it (a warm shutdown, which finishes its tasks after the goodbye), at the
 *   goodbye, to be waited out as a drain; else (killed, cut off) at the offline instant, after the
 *   grace.
 * Null when the worker has done none of these since the start.
 */
export function lostTaskVerdict(task: StrandedTask): LostTaskVerdict | null {
  const started = task.started_at;
  // A worker without a heart (--without-heartbeat) reports nothing we could judge by.
  if (task.worker_last_heartbeat_at === null) return null;
  const idleAt = task.worker_last_idle_at;
  const offlineAt = task.worker_status === 'offline' ? task.worker_offline_since : null;
  if (idleAt !== null && idleAt > started) {
    const restartedAt = task.worker_last_started_at;
    if (restartedAt !== null && restartedAt > started) return { at: restartedAt, reason: 'worker-restarted', wait: 'grace' };
    return { at: idleAt, reason: task.worker_last_goodbye_at === idleAt ? 'worker-offline' : 'worker-idle', wait: 'grace' };
  }
  if (offlineAt === null || offlineAt < started) return null;
  // A goodbye with no heartbeat after it: a warm shutdown still finishing its tasks. (Celery also
  // says goodbye when its broker connection drops, and worker-online once it is back: that goodbye
  // is no shutdown.)
  const goodbyeAt = task.worker_last_goodbye_at;
  const heartAt = task.worker_last_heartbeat_at;
  if (goodbyeAt !== null && goodbyeAt >= started && (heartAt === null || heartAt < goodbyeAt)) {
    return { at: goodbyeAt, reason: 'worker-offline', wait: 'drain' };
  }
  return { at: offlineAt, reason: task.worker_offline_reason === 'heartbeat-timeout' ? 'heartbeat-timeout' : 'worker-offline', wait: 'grace' };
}

/**
 * `task-lost`: the task's worker went away, or moved on, before reporting how the task ended.
 * Timestamped at that instant (worker clock), named after the worker, so the task row's state
 * becomes LOST unless a later event shows the task lived on (redelivered, retried) or it ended
 * after all. The payload is a function of the verdict, so twin collectors store it once.
 */
export function taskLostEvent(task: StrandedTask, verdict: LostTaskVerdict, now: number): NewEvent {
  const fields = {
    type: 'task-lost',
    uuid: task.uuid,
    hostname: task.worker,
    timestamp: verdict.at,
    reason: verdict.reason,
    started_at: task.started_at,
    ...(task.source === null ? {} : { broker_source: task.source }),
  };
  return newEvent(LOST_TASKS_SOURCE, now, { type: fields.type, hostname: task.worker, timestamp: verdict.at, clock: null, uuid: task.uuid, fields });
}
