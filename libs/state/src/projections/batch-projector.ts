/**
 * Folds a batch of newly stored events into the tasks and workers tables, inside the transaction
 * that appended them. Loads each touched row once, merges in position order with the pure merge
 * functions, keeps per-worker task counts by state, and writes each changed row once.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../schema';
import type { StoredEvent } from '../stored-event';
import type { TaskRecord, TaskRepository } from '../repositories/task.repository';
import type { WorkerRecord, WorkerRepository } from '../repositories/worker.repository';
import type { CheckpointRepository } from '../repositories/checkpoint.repository';
import { mergeTaskEvent } from './task-merge';
import { emptyWorkerRow, mergeWorkerEvent } from './worker-merge';

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

/** Events that tell something about the worker named by `hostname`. task-sent comes from a client. */
export function isWorkerEvent(e: StoredEvent): boolean {
  return e.type.startsWith('worker-') || (isTaskEvent(e) && e.type !== 'task-sent');
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
    const taskEvents = events.filter(isTaskEvent);
    const uuids = [...new Set(taskEvents.map((e) => e.uuid!))];
    const taskRows = await this.tasks.findByUuids(trx, uuids);
    const before = new Map<string, { worker: string | null; state: string }>();
    for (const [uuid, row] of taskRows) before.set(uuid, { worker: row.worker, state: row.state });

    for (const e of taskEvents) {
      const uuid = e.uuid!;
      taskRows.set(uuid, mergeTaskEvent(taskRows.get(uuid), e) as TaskRecord);
    }
    const countDeltas = new Map<string, Map<string, number>>();
    const bump = (worker: string | null, state: string, by: number) => {
      if (worker === null) return;
      let states = countDeltas.get(worker);
      if (!states) countDeltas.set(worker, (states = new Map()));
      states.set(state, (states.get(state) ?? 0) + by);
    };
    for (const uuid of uuids) {
      const after = taskRows.get(uuid)!;
      const prior = before.get(uuid);
      if (prior && prior.worker === after.worker && prior.state === after.state) continue;
      if (prior) bump(prior.worker, prior.state, -1);
      bump(after.worker, after.state, +1);
    }

    const workerEvents = events.filter(isWorkerEvent);
    const hostnames = [...new Set([...workerEvents.map((e) => e.hostname), ...countDeltas.keys()])];
    const workerRows = await this.workers.findByHostnames(trx, hostnames);
    for (const e of workerEvents) {
      workerRows.set(e.hostname, mergeWorkerEvent(workerRows.get(e.hostname), e, this.liveness) as WorkerRecord);
    }
    for (const [hostname, deltas] of countDeltas) {
      const row = workerRows.get(hostname) ?? (emptyWorkerRow(hostname) as WorkerRecord);
      workerRows.set(hostname, { ...row, task_counts: applyCountDeltas(row.task_counts, deltas) });
    }

    await this.tasks.upsert(trx, uuids.map((u) => taskRows.get(u)!));
    await this.workers.upsert(trx, hostnames.map((h) => workerRows.get(h)!));
    await this.checkpoints.setProjectionPosition(trx, PROJECTION_NAME, events[events.length - 1]!.position);
  }
}

/** Adds deltas to a {state: count} JSON text; zero counts are dropped; keys sorted (canonical). */
export function applyCountDeltas(countsJson: string, deltas: ReadonlyMap<string, number>): string {
  const counts = JSON.parse(countsJson) as Record<string, number>;
  for (const [state, delta] of deltas) counts[state] = (counts[state] ?? 0) + delta;
  const sorted: Record<string, number> = {};
  for (const state of Object.keys(counts).sort()) if (counts[state] !== 0) sorted[state] = counts[state]!;
  return JSON.stringify(sorted);
}
