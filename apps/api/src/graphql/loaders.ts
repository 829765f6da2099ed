/**
 * Per-request batching of the field resolvers (no N+1): every `load` of one execution that happens
 * in the same tick becomes one SQL statement, and repeated keys are read once.
 *
 * Loaders belong to one GraphQL execution. They are created on first use and kept on the request's
 * context object (Apollo builds a fresh one per HTTP operation; graphql-ws one per subscribe).
 * Every event of a subscription executes with the same context, so there they are kept per event
 * (its root value) instead: an event never sees rows cached for an earlier one.
 */
import { Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import type { GraphQLResolveInfo } from 'graphql';
import { TaskQueries, WorkerQueries, type StoredEvent, type TaskRecord } from '../../../../libs/state/src';
import type { EventModel } from '../events/event.model';
import { toEventModel } from '../events/event.mapper';
import type { TaskModel } from '../tasks/task.model';
import { toTaskModel } from '../tasks/task.mapper';
import type { WorkerModel } from '../workers/worker.model';
import { toWorkerModel } from '../workers/worker.mapper';

export interface ApiLoaders {
  /** A task by uuid, or null. */
  task: DataLoader<string, TaskModel | null>;
  /** Tasks whose parent is the key (never the key itself), oldest received first. */
  children: DataLoader<string, TaskModel[]>;
  /** Every stored event of the task, in log order. */
  timeline: DataLoader<string, EventModel[]>;
  /** A worker by hostname, or null. */
  worker: DataLoader<string, WorkerModel | null>;
  /** Key `${first}\u0000${hostname}`: the worker's newest tasks by received. */
  recentTasks: DataLoader<string, TaskModel[]>;
}

/** Largest batch per statement (the queries also chunk their IN lists). */
const MAX_BATCH = 1000;

export function recentTasksKey(hostname: string, first: number): string {
  return `${first}\u0000${hostname}`;
}

export function createLoaders(tasks: TaskQueries, workers: WorkerQueries): ApiLoaders {
  const options = { maxBatchSize: MAX_BATCH };
  return {
    task: new DataLoader<string, TaskModel | null>(async (uuids) => {
      const byUuid = new Map((await tasks.byUuids(uuids)).map((r) => [r.uuid, toTaskModel(r)]));
      return uuids.map((u) => byUuid.get(u) ?? null);
    }, options),
    children: new DataLoader<string, TaskModel[]>(async (parents) => {
      const byParent = groupBy(await tasks.childrenOf(parents), (r: TaskRecord) => r.parent_id!);
      return parents.map((p) => (byParent.get(p) ?? []).map(toTaskModel));
    }, options),
    timeline: new DataLoader<string, EventModel[]>(async (uuids) => {
      const byTask = groupBy(await tasks.eventsOf(uuids), (e: StoredEvent) => e.uuid!);
      return uuids.map((u) => (byTask.get(u) ?? []).map(toEventModel));
    }, options),
    worker: new DataLoader<string, WorkerModel | null>(async (hostnames) => {
      const byHostname = new Map((await workers.byHostnames(hostnames)).map((w) => [w.hostname, toWorkerModel(w)]));
      return hostnames.map((h) => byHostname.get(h) ?? null);
    }, options),
    recentTasks: new DataLoader<string, TaskModel[]>(async (keys) => {
      // One statement per distinct `first` (normally one).
      const byFirst = new Map<number, string[]>();
      for (const key of keys) {
        const [first, hostname] = splitRecentKey(key);
        const list = byFirst.get(first);
        if (list) list.push(hostname);
        else byFirst.set(first, [hostname]);
      }
      const found = new Map<string, TaskModel[]>();
      for (const [first, hostnames] of byFirst) {
        const byWorker = await tasks.recentByWorkers(hostnames, first);
        for (const h of hostnames) found.set(recentTasksKey(h, first), (byWorker.get(h) ?? []).map(toTaskModel));
      }
      return keys.map((k) => found.get(k) ?? []);
    }, options),
  };
}

function splitRecentKey(key: string): [number, string] {
  const i = key.indexOf('\u0000');
  return [Number(key.slice(0, i)), key.slice(i + 1)];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

const LOADERS = Symbol('celery-monitor.loaders');
type Holder = { [LOADERS]?: ApiLoaders };

/** Hands out the loaders of the current execution (see the file comment). */
@Injectable()
export class Loaders {
  /** Subscription events: loaders by root value (weakly held, gone with the event). */
  private readonly perEvent = new WeakMap<object, ApiLoaders>();

  constructor(
    private readonly tasks: TaskQueries,
    private readonly workers: WorkerQueries,
  ) {}

  of(context: unknown, info: GraphQLResolveInfo): ApiLoaders {
    const root: unknown = info.rootValue;
    if (info.operation.operation === 'subscription' && typeof root === 'object' && root !== null) {
      let loaders = this.perEvent.get(root);
      if (!loaders) this.perEvent.set(root, (loaders = createLoaders(this.tasks, this.workers)));
      return loaders;
    }
    if (typeof context !== 'object' || context === null) return createLoaders(this.tasks, this.workers);
    const holder = context as Holder;
    return (holder[LOADERS] ??= createLoaders(this.tasks, this.workers));
  }
}
