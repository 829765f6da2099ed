/**
 * Small, fully known datasets for the read queries (state layer and API tests).
 *
 * auditEvents: events of several types, hosts and sources for event-log audits.
 *
 * The stats dataset: tasks with every expected number computed by hand below. Times are F plus
 * offsets that are multiples of 1/4 s, so every difference (queue wait) is exact in binary.
 *
 * Window [F, F + 180), buckets of 60 s: b0 = [F, F+60), b1 = [F+60, F+120), b2 = [F+120, F+180).
 *
 *  task     name      arrives (rcv/sent)  started   ends                  state     runtime  wait
 *  a1       app.a     rcv F+1    b0       F+2       succeeded F+5   b0    SUCCESS   3        1
 *  a2       app.a     rcv F+10   b0       F+12      succeeded F+70  b1    SUCCESS   1        2
 *  a3       app.a     rcv F+20   b0       F+24      failed F+130    b2    FAILURE   4        4
 *  a4       app.a     rcv F+30   b0       F+38      succeeded F+200 out   SUCCESS   2        8
 *  a5       app.a     rcv F+100  b1       F+100.5   —                     STARTED   —        0.5
 *  b1       app.b     sent F+50  b0       —         —                     PENDING   —        —
 *  b2       app.b     rcv F+60   b1       —         revoked F+61    b1    REVOKED   —        —
 *  b3       app.b     rcv F+179.75 b2     F+180.25  succeeded F+181 out   SUCCESS   0.5      0.5
 *  b5       app.b     sent F−10, rcv F+5 b0  F+6    failed F+7      b0    FAILURE   1.5      1
 *  u1       (none)    rcv F+130  b2       —         —                     RECEIVED  —        —
 *  m1..m40  app.many  rcv F+120+i/2 b2    +0.25     succeeded +1    b2    SUCCESS   2·i      0.25
 *  excluded: x1 app.b rcv F+180 (= to); x2 app.b rcv F−1 (succeeded F+3); x3 app.b sent F+100 but
 *            rcv F+200 (received wins over sent); x4 only a task-started event (no arrival time).
 */
import type { NewEvent } from '../../libs/state/src';
import { event, heartbeat, successfulTask, T0 } from './event-factory';

/** 3 tasks on two workers and two sources, heartbeats, a worker going offline, a failure; from t0. */
export function auditEvents(t0 = T0): NewEvent[] {
  return [
    ...successfulTask('t-1', t0, 'celery@w1'),
    heartbeat('celery@w1', t0 + 1, 10),
    ...successfulTask('t-2', t0 + 2, 'celery@w2', 'app.mul').map((e) => ({ ...e, source: 'redis' })),
    heartbeat('celery@w2', t0 + 3, 11),
    // A custom event naming a task (an application's own event type): no task row takes it.
    event({ type: 'app-progress', hostname: 'celery@w2', uuid: 't-2', done: 3, total: 4, timestamp: t0 + 3.5, clock: 15 }, 'redis'),
    event({ type: 'task-received', hostname: 'celery@w1', uuid: 't-3', name: 'app.fail', timestamp: t0 + 4, clock: 12 }),
    event({ type: 'task-failed', hostname: 'celery@w1', uuid: 't-3', exception: 'ValueError()', timestamp: t0 + 5, clock: 13 }),
    event({ type: 'worker-offline', hostname: 'celery@w2', reason: 'heartbeat-timeout', timestamp: t0 + 6, clock: 14 }, 'collector:liveness'),
  ];
}

/** Start of the stats window (the stats dataset's times are offsets from it). */
export const F = T0;
export const STATS_FROM = F;
export const STATS_TO = F + 180;
export const STATS_BUCKET = 60;

interface TaskSpec {
  uuid: string;
  name?: string;
  sent?: number;
  received?: number;
  started?: number;
  end?: { type: 'task-succeeded' | 'task-failed' | 'task-revoked'; at: number; runtime?: number };
  worker?: string;
}

function taskEvents(t: TaskSpec): NewEvent[] {
  const worker = t.worker ?? 'celery@w1';
  const out: NewEvent[] = [];
  const name = t.name === undefined ? {} : { name: t.name };
  if (t.sent !== undefined) out.push(event({ type: 'task-sent', hostname: 'gen1@client', uuid: t.uuid, ...name, args: '()', kwargs: '{}', queue: 'celery', timestamp: F + t.sent, clock: 1 }));
  if (t.received !== undefined) out.push(event({ type: 'task-received', hostname: worker, uuid: t.uuid, ...name, args: '()', kwargs: '{}', timestamp: F + t.received, clock: 2 }));
  if (t.started !== undefined) out.push(event({ type: 'task-started', hostname: worker, uuid: t.uuid, timestamp: F + t.started, clock: 3 }));
  if (t.end) {
    const extra: Record<string, unknown> = t.end.runtime === undefined ? {} : { runtime: t.end.runtime };
    if (t.end.type === 'task-failed') Object.assign(extra, { exception: 'ValueError()', traceback: 'Traceback…' });
    if (t.end.type === 'task-succeeded') extra.result = 'None';
    if (t.end.type === 'task-revoked') Object.assign(extra, { terminated: false, signum: null, expired: false });
    out.push(event({ type: t.end.type, hostname: worker, uuid: t.uuid, ...extra, timestamp: F + t.end.at, clock: 4 }));
  }
  return out;
}

const SPECS: TaskSpec[] = [
  { uuid: 'a1', name: 'app.a', received: 1, started: 2, end: { type: 'task-succeeded', at: 5, runtime: 3 } },
  { uuid: 'a2', name: 'app.a', received: 10, started: 12, end: { type: 'task-succeeded', at: 70, runtime: 1 } },
  { uuid: 'a3', name: 'app.a', received: 20, started: 24, end: { type: 'task-failed', at: 130, runtime: 4 } },
  { uuid: 'a4', name: 'app.a', received: 30, started: 38, end: { type: 'task-succeeded', at: 200, runtime: 2 } },
  { uuid: 'a5', name: 'app.a', received: 100, started: 100.5 },
  { uuid: 'b1', name: 'app.b', sent: 50 },
  { uuid: 'b2', name: 'app.b', received: 60, end: { type: 'task-revoked', at: 61 } },
  { uuid: 'b3', name: 'app.b', received: 179.75, started: 180.25, end: { type: 'task-succeeded', at: 181, runtime: 0.5 } },
  { uuid: 'b5', name: 'app.b', sent: -10, received: 5, started: 6, end: { type: 'task-failed', at: 7, runtime: 1.5 } },
  { uuid: 'u1', received: 130 },
  // app.many: inserted in a scrambled order (i·17 mod 41 visits 1..40) so that storage order is not runtime order.
  ...Array.from({ length: 40 }, (_, k) => {
    const i = ((k + 1) * 17) % 41;
    const r = 120 + i / 2;
    return { uuid: `m${i}`, name: 'app.many', received: r, started: r + 0.25, end: { type: 'task-succeeded' as const, at: r + 1, runtime: 2 * i } };
  }),
  { uuid: 'x1', name: 'app.b', received: 180, started: 181, end: { type: 'task-succeeded', at: 182, runtime: 1000 } },
  { uuid: 'x2', name: 'app.b', received: -1, started: 2, end: { type: 'task-succeeded', at: 3, runtime: 1000 } },
  { uuid: 'x3', name: 'app.b', sent: 100, received: 200 },
  { uuid: 'x4', started: 50 },
];

/** Every event of the dataset. */
export function statsDatasetEvents(): NewEvent[] {
  return SPECS.flatMap(taskEvents);
}

const EMPTY = { count: 0, p50: null, p95: null, p99: null, max: null };

/** The expected stats over [STATS_FROM, STATS_TO) with STATS_BUCKET, all computed by hand (see above). */
export const EXPECTED_STATS = {
  total: 50,
  states: [
    { state: 'SUCCESS', count: 44 },
    { state: 'FAILURE', count: 2 },
    { state: 'PENDING', count: 1 },
    { state: 'RECEIVED', count: 1 },
    { state: 'REVOKED', count: 1 },
    { state: 'STARTED', count: 1 },
  ],
  throughput: [
    { offset: 0, finished: 2, succeeded: 1, failed: 1, revoked: 0, received: 6 },
    { offset: 60, finished: 2, succeeded: 1, failed: 0, revoked: 1, received: 2 },
    { offset: 120, finished: 41, succeeded: 40, failed: 1, revoked: 0, received: 42 },
  ],
  // 46 runtimes: 0.5 1 1.5 2 2 3 4 4 6 8 … 80; nearest ranks 23, 44, 46 → 34, 76, 80.
  runtime: { count: 46, p50: 34, p95: 76, p99: 80, max: 80 },
  // 47 waits: 40 × 0.25, 0.5 0.5 1 1 2 4 8; nearest ranks 24, 45, 47 → 0.25, 2, 8.
  queueWait: { count: 47, p50: 0.25, p95: 2, p99: 8, max: 8 },
  names: [
    {
      name: 'app.many', count: 40, states: [{ state: 'SUCCESS', count: 40 }], succeeded: 40, failures: 0, failureRate: 0,
      // 2, 4, …, 80: ranks 20, 38, 40.
      runtime: { count: 40, p50: 40, p95: 76, p99: 80, max: 80 },
      queueWait: { count: 40, p50: 0.25, p95: 0.25, p99: 0.25, max: 0.25 },
    },
    {
      name: 'app.a', count: 5,
      states: [{ state: 'SUCCESS', count: 3 }, { state: 'FAILURE', count: 1 }, { state: 'STARTED', count: 1 }],
      succeeded: 3, failures: 1, failureRate: 0.25,
      // 1 2 3 4: ranks 2, 4, 4.
      runtime: { count: 4, p50: 2, p95: 4, p99: 4, max: 4 },
      // 0.5 1 2 4 8: ranks 3, 5, 5.
      queueWait: { count: 5, p50: 2, p95: 8, p99: 8, max: 8 },
    },
    {
      name: 'app.b', count: 4,
      states: [{ state: 'FAILURE', count: 1 }, { state: 'PENDING', count: 1 }, { state: 'REVOKED', count: 1 }, { state: 'SUCCESS', count: 1 }],
      succeeded: 1, failures: 1, failureRate: 0.5,
      // 0.5 1.5: ranks 1, 2, 2.
      runtime: { count: 2, p50: 0.5, p95: 1.5, p99: 1.5, max: 1.5 },
      // 0.5 1: ranks 1, 2, 2.
      queueWait: { count: 2, p50: 0.5, p95: 1, p99: 1, max: 1 },
    },
    { name: null, count: 1, states: [{ state: 'RECEIVED', count: 1 }], succeeded: 0, failures: 0, failureRate: null, runtime: EMPTY, queueWait: EMPTY },
  ],
};
