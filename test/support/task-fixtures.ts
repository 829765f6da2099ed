/**
 * Tasks for the task-query tests (state layer and API): a deterministic mix of every state, names
 * that sort differently byte-wise than by locale, missing values, tied sort values, text with LIKE
 * metacharacters, two sources and a workflow (root, children, grandchild, a retry naming itself as
 * parent) — plus the reference order and filter semantics, computed in JavaScript, that both
 * databases must reproduce exactly.
 */
import type { NewEvent, TaskRecord } from '../../libs/state/src';
import { event, heartbeat, T0 } from './event-factory';
import { Rng } from './rng';

export const WORKERS = ['celery@alpha', 'celery@beta', 'celery@gamma'];
/** Byte order: 'proj.Mail.send' < 'proj.Zeta' < 'proj.add' < 'proj.images.resize' < 'proj.émoji'. */
export const NAMES = ['proj.add', 'proj.Mail.send', 'proj.images.resize', 'proj.émoji', 'proj.Zeta'];
const STATES = ['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED', 'STARTED', 'RECEIVED', 'PENDING', 'REJECTED', 'NAMELESS'] as const;
const ARGS = ["('Alice', 42)", "('50%_off', 'a!b')", "('ÉCOLE', 'école')", '()', "('x_y', 'PLAIN')", "('%')"];

export const WORKFLOW = {
  root: 'wf-root',
  child1: 'wf-child-1',
  child2: 'wf-child-2',
  grandchild: 'wf-grandchild',
  /** A retried task whose parent_id names itself (Celery 5.2.6). */
  selfParent: 'wf-self',
  /** Its root is unknown (never stored). */
  orphan: 'wf-orphan',
};

interface TaskSpec {
  uuid: string;
  name: string;
  state: (typeof STATES)[number];
  t: number;
  worker: string;
  source: string;
  args: string;
  queue: string | null;
  runtime: number;
  rootId?: string;
  parentId?: string | null;
  sent?: boolean;
}

let clock = 100;

function taskEvents(s: TaskSpec): NewEvent[] {
  const base = { uuid: s.uuid };
  const ids = { root_id: s.rootId ?? s.uuid, parent_id: s.parentId ?? null };
  const out: NewEvent[] = [];
  const e = (spec: Parameters<typeof event>[0]) => out.push(event({ ...spec, clock: ++clock }, s.source));
  if (s.sent || s.state === 'PENDING') {
    e({ type: 'task-sent', hostname: 'gen1@client', ...base, name: s.name, args: s.args, kwargs: '{}', retries: 0, eta: null, expires: null, queue: s.queue, exchange: '', routing_key: s.queue, ...ids, timestamp: s.t - 0.5 });
  }
  if (s.state === 'PENDING') return out;
  if (s.state !== 'NAMELESS') {
    e({ type: 'task-received', hostname: s.worker, ...base, name: s.name, args: s.args, kwargs: `{'Key': '${s.uuid.toUpperCase()}'}`, retries: 0, eta: null, expires: null, ...ids, timestamp: s.t });
  }
  if (s.state === 'RECEIVED') return out;
  if (s.state === 'REVOKED') {
    e({ type: 'task-revoked', hostname: s.worker, ...base, terminated: false, signum: null, expired: false, timestamp: s.t + 1 });
    return out;
  }
  if (s.state === 'REJECTED') {
    e({ type: 'task-rejected', hostname: s.worker, ...base, requeue: false, timestamp: s.t + 0.5 });
    return out;
  }
  e({ type: 'task-started', hostname: s.worker, ...base, timestamp: s.t + 0.25 });
  if (s.state === 'STARTED') return out;
  if (s.state === 'SUCCESS' || s.state === 'NAMELESS') {
    e({ type: 'task-succeeded', hostname: s.worker, ...base, result: s.args.includes('%') ? "'100%_done'" : `'Result-${s.uuid}'`, runtime: s.runtime, timestamp: s.t + 0.25 + s.runtime });
  } else if (s.state === 'FAILURE') {
    e({ type: 'task-failed', hostname: s.worker, ...base, exception: "KeyError('Missing_Key')", traceback: 'Traceback (most recent call last):\n  ...\nKeyError', timestamp: s.t + 0.75 });
  } else if (s.state === 'RETRY') {
    e({ type: 'task-retried', hostname: s.worker, ...base, exception: "Retry('Retry in 10s')", traceback: 'Traceback…', timestamp: s.t + 0.5 });
  }
  return out;
}

/**
 * `count` generated tasks from `t0` (ids `task-000`…) plus the workflow, with worker heartbeats.
 * Several tasks share a received time and a runtime; ids do not follow time order.
 */
export function taskFixture(count = 60, t0 = T0, seed = 7): NewEvent[] {
  const rng = new Rng(seed);
  const events: NewEvent[] = [];
  WORKERS.forEach((w, i) => events.push(heartbeat(w, t0 - 10 + i, i + 1)));
  for (let i = 0; i < count; i++) {
    // Ids in a scrambled order so that uuid tie-breaks differ from time order.
    const uuid = `task-${String((i * 37) % count).padStart(3, '0')}-${rng.int(0, 9)}`;
    const state = STATES[i % STATES.length]!;
    // Every 5th task shares its received time with the previous one.
    const t = t0 + Math.floor(i - (i % 5 === 4 ? 1 : 0)) * 2.5;
    events.push(
      ...taskEvents({
        uuid,
        name: rng.pick(NAMES),
        state,
        t,
        worker: rng.pick(WORKERS),
        source: rng.next() < 0.7 ? 'rabbitmq' : 'redis',
        args: rng.pick(ARGS),
        queue: rng.next() < 0.6 ? 'celery' : 'images',
        runtime: rng.pick([0.5, 1, 1, 2.25, 3, 0.125]),
        sent: rng.next() < 0.3,
      }),
    );
  }
  const tw = t0 + count * 2.5 + 10;
  const wf = (uuid: string, dt: number, extra: Partial<TaskSpec>) =>
    taskEvents({ uuid, name: 'proj.flow', state: 'SUCCESS', t: tw + dt, worker: 'celery@alpha', source: 'rabbitmq', args: '()', queue: 'celery', runtime: 1, ...extra });
  events.push(
    ...wf(WORKFLOW.root, 0, {}),
    ...wf(WORKFLOW.child1, 1, { rootId: WORKFLOW.root, parentId: WORKFLOW.root }),
    ...wf(WORKFLOW.child2, 2, { rootId: WORKFLOW.root, parentId: WORKFLOW.root, worker: 'celery@beta' }),
    ...wf(WORKFLOW.grandchild, 3, { rootId: WORKFLOW.root, parentId: WORKFLOW.child1 }),
    ...wf(WORKFLOW.selfParent, 4, { rootId: WORKFLOW.root, parentId: WORKFLOW.selfParent, state: 'RETRY' }),
    ...wf(WORKFLOW.orphan, 5, { rootId: 'wf-never-seen', parentId: 'wf-never-seen', worker: 'celery@unknown' }),
    // A custom event naming a task (an application's own event type): in its timeline, in no row.
    event({ type: 'app-progress', hostname: 'celery@beta', uuid: WORKFLOW.child2, done: 1, total: 2, timestamp: tw + 2.5, clock: ++clock }),
  );
  return events;
}

/** New tasks arriving after the fixture (for pagination-stability tests): received after `t`. */
export function lateTasks(prefix: string, n: number, t: number): NewEvent[] {
  const out: NewEvent[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      ...taskEvents({ uuid: `${prefix}-${i}`, name: 'proj.add', state: 'SUCCESS', t: t + i, worker: 'celery@alpha', source: 'rabbitmq', args: '(1, 1)', queue: 'celery', runtime: 0.5 }),
    );
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Reference semantics

export type Field = 'received' | 'started' | 'finished' | 'runtime' | 'name' | 'state';
export const FIELDS: Field[] = ['received', 'started', 'finished', 'runtime', 'name', 'state'];
const READY = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** The subset of a task every order and filter looks at (rows or GraphQL tasks map onto it). */
export interface TaskFacts {
  uuid: string;
  name: string | null;
  state: string;
  stateAt: number | null;
  receivedAt: number | null;
  startedAt: number | null;
  runtime: number | null;
}

export function factsOfRow(r: TaskRecord): TaskFacts {
  return { uuid: r.uuid, name: r.name, state: r.state, stateAt: r.state_at, receivedAt: r.received_at, startedAt: r.started_at, runtime: r.runtime };
}

export function finishedAt(t: TaskFacts): number | null {
  return READY.has(t.state) ? t.stateAt : null;
}

export function sortKey(t: TaskFacts, field: Field): Array<string | number> {
  const n = (v: number | null) => v ?? -1;
  switch (field) {
    case 'received':
      return [n(t.receivedAt), t.uuid];
    case 'started':
      return [n(t.startedAt), t.uuid];
    case 'finished':
      return [n(finishedAt(t)), t.uuid];
    case 'runtime':
      return [n(t.runtime), t.uuid];
    case 'name':
      return [t.name ?? '', n(t.receivedAt), t.uuid];
    case 'state':
      return [t.state, n(t.receivedAt), t.uuid];
  }
}

/** Byte-wise (UTF-8) order of text, numeric order of numbers, component by component. */
export function compareKeys(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : Buffer.compare(Buffer.from(String(x)), Buffer.from(String(y)));
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

export function referenceOrder<T extends TaskFacts>(tasks: readonly T[], field: Field, direction: 'asc' | 'desc'): T[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...tasks].sort((a, b) => sign * compareKeys(sortKey(a, field), sortKey(b, field)));
}
