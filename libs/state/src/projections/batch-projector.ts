/**
 * Folds a batch of newly stored events into the tasks and workers tables, inside the transaction
 * that appended them. Loads each touched row once, merges in position order with the pure merge
 * functions, keeps per-worker task counts by state, and writes each changed row once.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../schema';
import { isDerivedEvent, type StoredEvent } from '../stored-event';
import type { TaskRecord, TaskRepository } from '../repositories/task.repository';
import type { WorkerRecord, WorkerRepository } from '../repositories/worker.repository';
import type { CheckpointRepository } from '../repositories/checkpoint.repository';
import { mergeTaskEvents } from './task-merge';
import { emptyWorkerRow, mergeWorkerEvents } from './worker-merge';

export const PROJECTION_NAME = 'tasks_workers';

export interface LivenessOptions {
  /** A worker is offline once freq × expiryFactor seconds pass without a sign of life (default 2). */
  expiryFactor: number;
  /** Heartbeat interval assumed before a worker has told its own (default 2 s). */
  defaultFreq: number;
}

export const DEFAULT_LIVENESS: LivenessOptions = { expiryFactor: 2, defaultFreq: 2 };

export function isTaskEvent(e: StoredEvent): boolean {
  return e.uuid !== null && e.type.startsWith('task-');
}

/**
 * Events that tell something about the worker named by `hostname`. task-sent comes from a client,
 * and a derived task event (`task-lost`) is the collector's verdict, not a sign of the worker's life.
 */
export function isWorkerEvent(e: StoredEvent): boolean {
  return e.type.startsWith('worker-') || (isTaskEvent(e) && e.type !== 'task-sent' && !isDerivedEvent(e));
}

/**
 * Events after which the worker named by `hostname` may read differently, as `project` writes it:
 * its own events, and a derived task event (`task-lost`), which is no sign of its life but moves
 * its task counts.
 */
export function changesWorkerRow(e: StoredEvent): boolean {
  return isWorkerEvent(e) || (isTaskEvent(e) && isDerivedEvent(e));
}

export class BatchProjector {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly workers: WorkerRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly liveness: LivenessOptions,
  ) {}

  async project(trx: Kysely<DB>, events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Each task and each worker is folded once per batch, its events in position order.
    const byTask = groupBy(events.filter(isTaskEvent), (e) => e.uuid!);
    const uuids = [...byTask.keys()];
    const beforeRows = await this.tasks.findByUuids(trx, uuids);
    const taskRows = new Map(beforeRows);
    for (const [uuid, taskEvents] of byTask) taskRows.set(uuid, mergeTaskEvents(beforeRows.get(uuid), taskEvents) as TaskRecord);
    const countDeltas = new Map<string, Map<string, number>>();
    const bump = (worker: string | null, state: string, by: number) => {
      if (worker === null) return;
      let states = countDeltas.get(worker);
      if (!states) countDeltas.set(worker, (states = new Map()));
      states.set(state, (states.get(state) ?? 0) + by);
    };
    for (const uuid of uuids) {
      const after = taskRows.get(uuid)!;
      const prior = beforeRows.get(uuid);
      if (prior && prior.worker === after.worker && prior.state === after.state) continue;
      if (prior) bump(prior.worker, prior.state, -1);
      bump(after.worker, after.state, +1);
    }

    const byWorker = groupBy(events.filter(isWorkerEvent), (e) => e.hostname);
    const hostnames = [...new Set([...byWorker.keys(), ...countDeltas.keys()])];
    const workerRows = await this.workers.findByHostnames(trx, hostnames);
    for (const [hostname, workerEvents] of byWorker) {
      workerRows.set(hostname, mergeWorkerEvents(workerRows.get(hostname), workerEvents, this.liveness) as WorkerRecord);
    }
    for (const [hostname, deltas] of countDeltas) {
      const row = workerRows.get(hostname) ?? (emptyWorkerRow(hostname) as WorkerRecord);
      workerRows.set(hostname, { ...row, task_counts: applyCountDeltas(row.task_counts, deltas) });
    }

    await this.tasks.write(trx, uuids.map((u) => ({ before: beforeRows.get(u), after: taskRows.get(u)! })));
    await this.workers.upsert(trx, hostnames.map((h) => workerRows.get(h)!));
    await this.checkpoints.setProjectionPosition(trx, PROJECTION_NAME, events[events.length - 1]!.position);
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** Adds deltas to a {state: count} JSON text; zero counts are dropped; keys sorted (canonical). */
export function applyCountDeltas(countsJson: string, deltas: ReadonlyMap<string, number>): string {
  const counts = JSON.parse(countsJson) as Record<string, number>;
  for (const [state, delta] of deltas) counts[state] = (counts[state] ?? 0) + delta;
  const sorted: Record<string, number> = {};
  for (const state of Object.keys(counts).sort()) if (counts[state] !== 0) sorted[state] = counts[state]!;
  return JSON.stringify(sorted);
}
