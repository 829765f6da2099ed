import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { StoredEvent } from '../stored-event';
import { compareOrderKeys, orderKeyOf } from './order-key';
import {
  DEFAULT_WORKER_MERGE_OPTIONS,
  emptyWorkerRow,
  mergeWorkerEvent,
  mergeWorkerEvents,
  type WorkerMergeOptions,
  type WorkerRow,
} from './worker-merge';

const HOST = 'celery@w1';
const T0 = 1_795_486_200;
const LIVENESS = 'collector:liveness';

interface EvOpts {
  clock?: number | null;
  hostname?: string;
  source?: string;
  position?: number;
  received_at?: number;
  dedup_key?: string;
}

let autoPosition = 0;

function wev(type: string, ts: number, fields: Record<string, unknown> = {}, o: EvOpts = {}): StoredEvent {
  const position = o.position ?? ++autoPosition;
  const hostname = o.hostname ?? HOST;
  const clock = o.clock === undefined ? position : o.clock;
  return {
    position,
    dedup_key: o.dedup_key ?? `dk-${position}`,
    source: o.source ?? 'rabbit',
    type,
    hostname,
    uuid: type.startsWith('task-') ? 'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9' : null,
    clock,
    timestamp: ts,
    received_at: o.received_at ?? ts + 0.05,
    payload: { type, hostname, timestamp: ts, utcoffset: 0, pid: 7990, clock, ...fields },
  };
}

const HB = {
  freq: 2,
  active: 0,
  processed: 5,
  loadavg: [0.1, 0.2, 0.3],
  sw_ident: 'py-celery',
  sw_ver: '5.2.6',
  sw_sys: 'Linux',
};

/** The collector's derived offline event: its timestamp is the expiry instant in worker clock. */
function timeout(ts: number, o: EvOpts = {}): StoredEvent {
  return wev('worker-offline', ts, { reason: 'heartbeat-timeout' }, { source: LIVENESS, ...o });
}

function fold(events: readonly StoredEvent[], opts?: WorkerMergeOptions, start?: WorkerRow): WorkerRow {
  let row = start;
  for (const e of events) row = mergeWorkerEvent(row, e, opts);
  if (row === undefined) throw new Error('no events');
  return row;
}

type Meta = { o: [number, number, string][]; f: Record<string, number>; x?: [number, string]; on?: number; oh?: number };
const meta = (row: WorkerRow): Meta => JSON.parse(row.merge_meta) as Meta;

describe('mergeWorkerEvent: examples', () => {
  it('online, heartbeats, then offline from the worker', () => {
    const online = wev('worker-online', T0, HB, { position: 5, received_at: T0 + 0.1 });
    let row = mergeWorkerEvent(undefined, online);
    expect(row).toEqual({
      hostname: HOST,
      source: 'rabbit',
      status: 'online',
      offline_reason: null,
      sw_ident: 'py-celery',
      sw_ver: '5.2.6',
      sw_sys: 'Linux',
      pid: 7990,
      freq: 2,
      active: 0,
      processed: 5,
      loadavg: '[0.1,0.2,0.3]',
      last_started_at: T0,
      last_idle_at: T0,
      last_goodbye_at: null,
      last_heartbeat_at: T0,
      last_seen_at: T0,
      last_seen_received_at: T0 + 0.1,
      heartbeat_expires_at: T0 + 0.1 + 4,
      online_since: T0,
      offline_since: null,
      task_counts: '{}',
      first_position: 5,
      last_position: 5,
      merge_meta: row.merge_meta,
    });
    row = mergeWorkerEvent(row, wev('worker-heartbeat', T0 + 2, { ...HB, active: 1, processed: 6 }, { received_at: T0 + 2.2 }));
    row = mergeWorkerEvent(row, wev('worker-heartbeat', T0 + 4, { ...HB, active: 0, processed: 7 }, { received_at: T0 + 4.1 }));
    expect(row.status).toBe('online');
    expect([row.active, row.processed]).toEqual([0, 7]);
    expect(row.last_heartbeat_at).toBe(T0 + 4);
    expect(row.heartbeat_expires_at).toBe(T0 + 4.1 + 4);
    expect(row.online_since).toBe(T0);
    row = mergeWorkerEvent(row, wev('worker-offline', T0 + 5, HB));
    expect(row.status).toBe('offline');
    expect(row.offline_reason).toBe('worker-offline');
    expect(row.offline_since).toBe(T0 + 5);
    expect(row.online_since).toBeNull();
    // last_* keep their values: the worker's last sign of life.
    expect(row.last_seen_at).toBe(T0 + 4);
    expect(meta(row).x?.[1]).toBe('worker-offline');
  });

  it('comes back online: online_since is the first sign of life after the offline', () => {
    const row = fold([
      wev('worker-online', T0, HB),
      wev('worker-offline', T0 + 5, HB),
      wev('worker-online', T0 + 60, HB),
      wev('worker-heartbeat', T0 + 62, HB),
    ]);
    expect(row.status).toBe('online');
    expect(row.online_since).toBe(T0 + 60);
    expect([row.offline_since, row.offline_reason]).toEqual([null, null]);
  });

  it("after its own goodbye, only the worker's heart brings it back: a warm shutdown reports its last tasks' ends after the goodbye", () => {
    const busy = { ...HB, active: 1 };
    const draining = fold([
      wev('worker-online', T0, HB),
      wev('worker-heartbeat', T0 + 2, busy),
      wev('worker-offline', T0 + 3, busy), // SIGTERM: goodbye, one task still running
      wev('task-succeeded', T0 + 6), // the warm shutdown finishes it
    ]);
    expect(draining).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', offline_since: T0 + 3, online_since: null, last_seen_at: T0 + 6 });
    // The same worker started again (or its broker connection came back): online since then.
    const back = fold([wev('task-started', T0 + 8), wev('worker-online', T0 + 9, HB)], undefined, draining);
    expect(back).toMatchObject({ status: 'online', offline_since: null, online_since: T0 + 9 });
    // After the liveness policy's timeout, any sign of life shows the worker was only cut off.
    const cut = fold([wev('worker-heartbeat', T0, busy), timeout(T0 + 4), wev('task-succeeded', T0 + 7)]);
    expect(cut).toMatchObject({ status: 'online', online_since: T0 + 7 });
  });

  it('derived heartbeat-timeout takes the worker offline until it beats again', () => {
    const beat = wev('worker-heartbeat', T0, HB, { received_at: T0 + 0.3 });
    let row = mergeWorkerEvent(undefined, beat);
    expect(row.heartbeat_expires_at).toBe(T0 + 4.3);
    row = mergeWorkerEvent(row, timeout(T0 + 4));
    expect(row.status).toBe('offline');
    expect(row.offline_reason).toBe('heartbeat-timeout');
    expect(row.offline_since).toBe(T0 + 4);
    expect(row.source).toBe(LIVENESS);
    // The derived event carries no worker fields: they are untouched.
    expect(row.processed).toBe(5);
    row = mergeWorkerEvent(row, wev('worker-heartbeat', T0 + 10, HB, { received_at: T0 + 10.1 }));
    expect(row.status).toBe('online');
    expect(row.online_since).toBe(T0 + 10);
    expect(row.offline_reason).toBeNull();
    expect(row.source).toBe('rabbit');
  });

  it('the heartbeat control command (freq 5, no counters) keeps the counters', () => {
    const row = fold([
      wev('worker-heartbeat', T0, HB, { received_at: T0 }),
      wev('worker-heartbeat', T0 + 1, { freq: 5, sw_ident: 'py-celery', sw_ver: '5.2.6', sw_sys: 'Linux' }, { received_at: T0 + 1 }),
    ]);
    expect(row.freq).toBe(5);
    expect([row.active, row.processed, row.loadavg]).toEqual([0, 5, '[0.1,0.2,0.3]']);
    expect(row.heartbeat_expires_at).toBe(T0 + 1 + 10);
  });

  it('task events are signs of life only', () => {
    const row = fold([
      wev('worker-heartbeat', T0, HB, { received_at: T0 + 0.1 }),
      wev('task-received', T0 + 1, { name: 'x', pid: 1, freq: 99, active: 42 }, { received_at: T0 + 1.5 }),
      wev('task-progress', T0 + 1.2, {}, { received_at: T0 + 1.6 }),
    ]);
    expect(row.last_heartbeat_at).toBe(T0);
    expect(row.last_seen_at).toBe(T0 + 1.2);
    expect(row.last_seen_received_at).toBe(T0 + 1.6);
    expect(row.heartbeat_expires_at).toBe(T0 + 1.6 + 4);
    expect([row.pid, row.freq, row.active]).toEqual([7990, 2, 0]);
    // A worker first seen through a task event.
    const fromTask = fold([wev('task-started', T0, {}, { received_at: T0 + 0.2 })]);
    expect(fromTask.status).toBe('online');
    expect(fromTask.online_since).toBe(T0);
    expect([fromTask.last_heartbeat_at, fromTask.freq]).toEqual([null, null]);
    expect(fromTask.heartbeat_expires_at).toBe(T0 + 0.2 + 4);
  });

  it('uses the options: default freq and expiry factor', () => {
    const row = fold([wev('task-started', T0, {}, { received_at: T0 })], { defaultFreq: 5, expiryFactor: 3 });
    expect(row.heartbeat_expires_at).toBe(T0 + 15);
    const withFreq = fold([wev('worker-heartbeat', T0, { freq: 1 }, { received_at: T0 })], { defaultFreq: 5, expiryFactor: 3 });
    expect(withFreq.heartbeat_expires_at).toBe(T0 + 3);
    expect(DEFAULT_WORKER_MERGE_OPTIONS).toEqual({ expiryFactor: 2, defaultFreq: 2 });
  });

  it('a late heartbeat older than the offline leaves the worker offline', () => {
    const row = fold([wev('worker-online', T0, HB), wev('worker-offline', T0 + 5, HB), wev('worker-heartbeat', T0 + 3, HB)]);
    expect(row.status).toBe('offline');
    expect(row.last_seen_at).toBe(T0 + 3);
    expect(row.offline_since).toBe(T0 + 5);
  });

  it('a late offline older than newer signs of life leaves it online; online_since falls back', () => {
    // In order: online@0, offline@5, online@60, hb@62 → online since 60.
    // Here offline@5 arrives last: the alive instants after 5 were folded into "since 0" before
    // the offline was known, so online_since falls back to last_seen_at (documented).
    const row = fold([wev('worker-online', T0, HB), wev('worker-online', T0 + 60, HB), wev('worker-heartbeat', T0 + 62, HB), wev('worker-offline', T0 + 5, HB)]);
    expect(row.status).toBe('online');
    expect(row.online_since).toBe(T0 + 62);
    // Once it is known, later alive events refine it.
    const refined = mergeWorkerEvent(row, wev('worker-heartbeat', T0 + 61, HB));
    expect(refined.online_since).toBe(T0 + 61);
  });

  it('ties: an offline at the same instant as the last sign of life wins', () => {
    expect(fold([wev('worker-heartbeat', T0, HB), wev('worker-offline', T0, HB)]).status).toBe('offline');
    expect(fold([wev('worker-offline', T0, HB), wev('worker-heartbeat', T0, HB)]).status).toBe('offline');
  });

  it('offline_reason comes from the newest offline event', () => {
    const a = timeout(T0 + 4, { clock: 1 });
    const b = wev('worker-offline', T0 + 4, HB, { clock: 2 });
    expect(fold([a, b]).offline_reason).toBe('worker-offline');
    expect(fold([b, a]).offline_reason).toBe('worker-offline');
    expect(fold([wev('worker-offline', T0, { reason: '' })]).offline_reason).toBe('worker-offline');
    expect(fold([wev('worker-offline', T0, { reason: 7 })]).offline_reason).toBe('worker-offline');
  });

  it('a row made by an offline alone is offline; by worker-elect alone, online without liveness', () => {
    const off = fold([wev('worker-offline', T0, HB)]);
    expect([off.status, off.offline_since, off.last_seen_at, off.heartbeat_expires_at]).toEqual(['offline', T0, null, null]);
    const elect = fold([wev('worker-elect', T0, { sw_ver: '5.3.0' })]);
    expect([elect.status, elect.last_seen_at, elect.online_since, elect.sw_ver]).toEqual(['online', null, null, '5.3.0']);
  });

  it('takes nothing from a value of the wrong type (null when no other event says better)', () => {
    const row = fold([
      wev('worker-heartbeat', T0, {
        freq: '2',
        active: 1.5,
        processed: -0.5,
        pid: 'x',
        loadavg: [0.1, 'x', 0.3],
        sw_ident: 1,
        sw_ver: null,
        sw_sys: { a: 1 },
      }),
    ]);
    expect([row.freq, row.active, row.processed, row.pid, row.loadavg, row.sw_ident, row.sw_ver, row.sw_sys]).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(row.heartbeat_expires_at).toBe(T0 + 0.05 + 4);
    expect(fold([wev('worker-heartbeat', T0, { loadavg: 'x' })]).loadavg).toBeNull();
    expect(fold([wev('worker-heartbeat', T0, { loadavg: [] })]).loadavg).toBe('[]');
    // A newer wrong-typed value (a custom worker event's, say) leaves the older one, in any order.
    const two = [wev('worker-heartbeat', T0, { sw_sys: 'Linux', active: 2 }), wev('worker-custom', T0 + 1, { sw_sys: { a: 1 }, active: 'x' })];
    expect([fold(two).sw_sys, fold(two).active]).toEqual(['Linux', 2]);
    expect([fold([...two].reverse()).sw_sys, fold([...two].reverse()).active]).toEqual(['Linux', 2]);
  });

  it('keeps task_counts as the projector left it, and never mutates the row', () => {
    const row = Object.freeze({ ...fold([wev('worker-online', T0, HB)]), task_counts: '{"SUCCESS":3}' });
    const copy = { ...row };
    const next = mergeWorkerEvent(row, wev('worker-heartbeat', T0 + 2, HB));
    expect(next.task_counts).toBe('{"SUCCESS":3}');
    expect(row).toEqual(copy);
    expect(fold([wev('worker-online', T0, HB)]).task_counts).toBe('{}');
  });

  it('refuses task-sent, foreign events and other hostnames', () => {
    expect(() => mergeWorkerEvent(undefined, wev('task-sent', T0, {}, { hostname: 'gen1@client' }))).toThrow(/client/);
    expect(() => mergeWorkerEvent(undefined, wev('something-else', T0))).toThrow(/not a worker or task event/);
    const row = fold([wev('worker-online', T0, HB)]);
    expect(() => mergeWorkerEvent(row, wev('worker-heartbeat', T0, HB, { hostname: 'celery@w2' }))).toThrow(/celery@w2/);
    // The lost-task policy's verdict names the worker but is no sign of its life.
    expect(() => mergeWorkerEvent(row, wev('task-lost', T0 + 60, { reason: 'heartbeat-timeout' }, { source: 'collector:lost-tasks' }))).toThrow(
      /verdict \(collector:lost-tasks\)/,
    );
  });

  it('last_idle_at: the newest report of the worker itself that it runs no task', () => {
    const busy = { ...HB, active: 2 };
    expect(fold([wev('worker-online', T0, busy), wev('worker-heartbeat', T0 + 2, busy)]).last_idle_at).toBeNull();
    const row = fold([
      wev('worker-online', T0, HB), // active 0
      wev('worker-heartbeat', T0 + 2, busy),
      wev('worker-heartbeat', T0 + 4, { ...HB, active: 0 }),
      wev('worker-heartbeat', T0 + 6, busy),
      wev('task-started', T0 + 7, { active: 0 }), // not a worker report
      wev('worker-heartbeat', T0 + 8, { ...HB, active: false }), // not a count
      wev('worker-heartbeat', T0 + 9, { ...HB, active: '0' }),
      wev('worker-status', T0 + 10, { ...HB, active: 0 }), // a custom worker event, not the heart
      timeout(T0 + 20, {}), // derived: no report of the worker's
    ]);
    expect(row.last_idle_at).toBe(T0 + 4);
    expect(row.last_goodbye_at).toBeNull(); // the liveness policy's offline is no goodbye
    const bye = fold([wev('worker-offline', T0 + 30, { ...HB, active: 0 })], undefined, row);
    expect([bye.last_idle_at, bye.last_goodbye_at]).toEqual([T0 + 30, T0 + 30]);
    // A warm shutdown says goodbye while tasks still run: a goodbye, not an idle report.
    const draining = fold([wev('worker-offline', T0 + 40, { ...HB, active: 1 })], undefined, bye);
    expect([draining.last_idle_at, draining.last_goodbye_at]).toEqual([T0 + 30, T0 + 40]);
  });

  it('last_started_at: the newest worker-online counting no running task, whatever comes between and in any order', () => {
    const first = wev('worker-online', T0, HB);
    const beat = wev('worker-heartbeat', T0 + 30, HB);
    const restart = wev('worker-online', T0 + 20, HB);
    expect(fold([first]).last_started_at).toBe(T0);
    expect(fold([first, beat]).last_started_at).toBe(T0);
    expect(fold([first, beat, restart]).last_started_at).toBe(T0 + 20);
    expect(fold([restart, beat, first]).last_started_at).toBe(T0 + 20);
    expect(fold([beat]).last_started_at).toBeNull();
    // A worker-offline (its own or derived) leaves it: it says when the process last started.
    expect(fold([first, wev('worker-offline', T0 + 40, HB), timeout(T0 + 50)]).last_started_at).toBe(T0);
    // Celery's worker-online after a broker reconnection counts the tasks still running: no start.
    expect(fold([first, wev('worker-offline', T0 + 40, { ...HB, active: 2 }), wev('worker-online', T0 + 41, { ...HB, active: 2 })]).last_started_at).toBe(T0);
    const { active: _none, ...withoutActive } = HB;
    expect(fold([first, wev('worker-online', T0 + 60, withoutActive)]).last_started_at).toBe(T0 + 60);
  });

  it('positions: min and max; emptyWorkerRow is a neutral start', () => {
    const events = [wev('worker-heartbeat', T0, HB, { position: 40 }), wev('worker-online', T0 - 1, HB, { position: 30 })];
    const row = fold(events);
    expect([row.first_position, row.last_position]).toEqual([30, 40]);
    expect(fold(events, undefined, emptyWorkerRow(HOST))).toEqual(row);
  });

  it('recovers from unreadable merge_meta', () => {
    const row = fold([wev('worker-online', T0, HB, { position: 3 }), wev('worker-heartbeat', T0 + 2, HB, { position: 4 })]);
    const next = mergeWorkerEvent({ ...row, merge_meta: '[' }, wev('worker-heartbeat', T0 + 4, { ...HB, processed: 9 }, { position: 9 }));
    expect([next.first_position, next.last_position, next.processed, next.last_seen_at]).toEqual([3, 9, 9, T0 + 4]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties.

const KINDS = [
  'worker-online',
  'worker-heartbeat',
  'worker-offline',
  'derived-offline',
  'task-received',
  'task-started',
  'task-succeeded',
  'task-progress',
  'worker-elect',
] as const;
const FIELD_KEYS = ['sw_ident', 'sw_ver', 'sw_sys', 'pid', 'freq', 'active', 'processed', 'loadavg'];

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 10 }) },
  { weight: 2, arbitrary: fc.constantFrom('py-celery', '5.2.6', 'Linux') },
  { weight: 2, arbitrary: fc.array(fc.double({ min: 0, max: 4, noNaN: true }), { minLength: 3, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 10, noNaN: true }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(['x']) },
);

const rawArb = fc.record({
  kind: fc.constantFrom(...KINDS),
  dt: fc.constantFrom(0, 0.5, 1, 2, 3, 4, 6, 9),
  recv: fc.constantFrom(0, 0.1, 0.5, 3),
  clock: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
  dedup_key: fc.string({ minLength: 1, maxLength: 4 }),
  source: fc.constantFrom('rabbit', 'redis'),
  fields: fc.record(Object.fromEntries(FIELD_KEYS.map((k) => [k, valueArb])) as Record<string, fc.Arbitrary<unknown>>, {
    requiredKeys: [],
  }),
});

const eventSetArb: fc.Arbitrary<StoredEvent[]> = fc
  .uniqueArray(rawArb, { selector: (r) => r.dedup_key, minLength: 1, maxLength: 14 })
  .chain((raws) =>
    fc
      .shuffledSubarray(
        raws.map((_, i) => i + 1),
        { minLength: raws.length, maxLength: raws.length },
      )
      .map((positions) =>
        raws.map((r, i) => {
          const derived = r.kind === 'derived-offline';
          const type = derived ? 'worker-offline' : r.kind;
          // A derived event that (wrongly) said `active: 0` would still be no report of the worker's.
          const fields = derived ? { reason: 'heartbeat-timeout', ...(r.clock === 0 ? { active: 0 } : {}) } : r.fields;
          return wev(type, T0 + r.dt, fields, {
            clock: r.clock,
            dedup_key: r.dedup_key,
            source: derived ? LIVENESS : r.source,
            position: positions[i] as number,
            received_at: T0 + r.dt + r.recv,
          });
        }),
      ),
  );

const permutedArb = eventSetArb.chain((events) =>
  fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })),
);

const optsArb = fc.record({
  expiryFactor: fc.constantFrom(1, 2, 2.5),
  defaultFreq: fc.constantFrom(1, 2, 5),
});

const isAlive = (e: StoredEvent): boolean => e.type === 'worker-online' || e.type === 'worker-heartbeat' || e.type.startsWith('task-');

function latest(events: readonly StoredEvent[], pred: (e: StoredEvent) => boolean): StoredEvent | undefined {
  let best: StoredEvent | undefined;
  for (const e of events) if (pred(e) && (best === undefined || compareOrderKeys(orderKeyOf(e), orderKeyOf(best)) > 0)) best = e;
  return best;
}

/** After the worker's own goodbye only its heart revives it; after the liveness policy's timeout any sign of life does. */
const revives = (off: StoredEvent | undefined) => (e: StoredEvent): boolean =>
  isAlive(e) && (off === undefined || off.payload['reason'] === 'heartbeat-timeout' || e.type.startsWith('worker-'));

/** The exact online_since: first sign of life (that revives) after the newest offline (null when offline). */
function exactOnlineSince(events: readonly StoredEvent[]): number | null {
  const off = latest(events, (e) => e.type === 'worker-offline');
  const after = events.filter((e) => revives(off)(e) && (off === undefined || e.timestamp > off.timestamp)).map((e) => e.timestamp);
  return after.length ? Math.min(...after) : null;
}

/** The rules stated over the whole set (online_since excluded), independent of the fold. */
function specRow(events: readonly StoredEvent[], opts: WorkerMergeOptions): Omit<WorkerRow, 'merge_meta' | 'online_since'> {
  const field = (key: string, coerce: (v: unknown) => string | number | null): string | number | null => {
    // The newest worker event that says something the column can hold (a value of its type, or null).
    const e = latest(events, (x) => x.type.startsWith('worker-') && key in x.payload && (x.payload[key] === null || coerce(x.payload[key]) !== null));
    return e === undefined ? null : coerce(e.payload[key]);
  };
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const int = (v: unknown): number | null => (Number.isInteger(v) ? (v as number) : null);
  const max = (xs: number[]): number | null => (xs.length ? Math.max(...xs) : null);
  const alive = events.filter(isAlive);
  const lastSeen = max(alive.map((e) => e.timestamp));
  const lastSeenReceived = max(alive.map((e) => e.received_at));
  const freq = field('freq', (v) => (typeof v === 'number' ? v : null)) as number | null;
  const off = latest(events, (e) => e.type === 'worker-offline');
  const revival = max(events.filter(revives(off)).map((e) => e.timestamp));
  const offline = off !== undefined && (revival === null || off.timestamp >= revival);
  const reason = off?.payload['reason'];
  return {
    hostname: HOST,
    source: (latest(events, () => true) as StoredEvent).source,
    status: offline ? 'offline' : 'online',
    offline_reason: offline ? (typeof reason === 'string' && reason ? reason : 'worker-offline') : null,
    sw_ident: field('sw_ident', text) as string | null,
    sw_ver: field('sw_ver', text) as string | null,
    sw_sys: field('sw_sys', text) as string | null,
    pid: field('pid', int) as number | null,
    freq,
    active: field('active', int) as number | null,
    processed: field('processed', int) as number | null,
    loadavg: field('loadavg', (v) =>
      Array.isArray(v) && v.every((x) => typeof x === 'number') ? JSON.stringify(v) : null,
    ) as string | null,
    last_started_at: max(
      events.filter((e) => e.type === 'worker-online' && !(typeof e.payload['active'] === 'number' && e.payload['active'] > 0)).map((e) => e.timestamp),
    ),
    last_idle_at: max(
      events
        .filter((e) => ['worker-online', 'worker-heartbeat', 'worker-offline'].includes(e.type) && e.payload['active'] === 0 && e.source !== LIVENESS)
        .map((e) => e.timestamp),
    ),
    last_goodbye_at: max(events.filter((e) => e.type === 'worker-offline' && e.source !== LIVENESS).map((e) => e.timestamp)),
    last_heartbeat_at: max(events.filter((e) => e.type === 'worker-online' || e.type === 'worker-heartbeat').map((e) => e.timestamp)),
    last_seen_at: lastSeen,
    last_seen_received_at: lastSeenReceived,
    heartbeat_expires_at: lastSeenReceived === null ? null : lastSeenReceived + (freq ?? opts.defaultFreq) * opts.expiryFactor,
    offline_since: offline ? (off as StoredEvent).timestamp : null,
    task_counts: '{}',
    first_position: Math.min(...events.map((e) => e.position)),
    last_position: Math.max(...events.map((e) => e.position)),
  };
}

/** Everything but online_since (and its bookkeeping): the order-independent part. */
function orderIndependentPart(row: WorkerRow): unknown {
  const { online_since: _os, merge_meta, ...rest } = row;
  const { on: _on, oh: _oh, ...m } = JSON.parse(merge_meta) as Meta;
  return { ...rest, merge_meta: m };
}

describe('mergeWorkerEvent: order-independence (property)', () => {
  it('every permutation folds to the same row (online_since aside)', () => {
    fc.assert(
      fc.property(permutedArb, optsArb, ([events, permuted], opts) => {
        expect(orderIndependentPart(fold(permuted, opts))).toEqual(orderIndependentPart(fold(events, opts)));
      }),
      { numRuns: 1000 },
    );
  });

  it('the fold equals the rules stated over the whole set', () => {
    fc.assert(
      fc.property(eventSetArb, optsArb, (events, opts) => {
        const { merge_meta: _m, online_since: _o, ...row } = fold(events, opts);
        expect(row).toEqual(specRow(events, opts));
      }),
      { numRuns: 1000 },
    );
  });

  it('online_since is exact for events folded in order', () => {
    fc.assert(
      fc.property(eventSetArb, (events) => {
        const inOrder = [...events].sort((a, b) => compareOrderKeys(orderKeyOf(a), orderKeyOf(b)));
        const row = fold(inOrder);
        expect(row.online_since).toBe(row.status === 'online' ? exactOnlineSince(events) : null);
      }),
      { numRuns: 1000 },
    );
  });

  it('online_since is exact in any order when no offline event exists', () => {
    fc.assert(
      fc.property(permutedArb, ([events, permuted]) => {
        fc.pre(!events.some((e) => e.type === 'worker-offline'));
        expect(fold(permuted).online_since).toBe(exactOnlineSince(events));
      }),
      { numRuns: 300 },
    );
  });

  it('online_since in any order: null when offline, else between the exact value and last_seen_at', () => {
    fc.assert(
      fc.property(permutedArb, ([, permuted]) => {
        const row = fold(permuted);
        if (row.status === 'offline' || row.last_seen_at === null) {
          expect(row.online_since).toBeNull();
          return;
        }
        const exact = exactOnlineSince(permuted) as number;
        expect(row.online_since).not.toBeNull();
        expect(row.online_since as number).toBeGreaterThanOrEqual(exact);
        expect(row.online_since as number).toBeLessThanOrEqual(row.last_seen_at);
        // Online since after the newest offline event, if any (offline_since is null on an online row).
        const off = latest(permuted, (e) => e.type === 'worker-offline');
        if (off !== undefined) expect(row.online_since as number).toBeGreaterThan(off.timestamp);
      }),
      { numRuns: 1000 },
    );
  });

  it('re-merging an already merged event changes nothing (online_since can only get more exact)', () => {
    fc.assert(
      fc.property(
        permutedArb.chain(([events, permuted]) => fc.tuple(fc.constant(permuted), fc.constantFrom(...events))),
        ([events, again]) => {
          const row = fold(events);
          const next = mergeWorkerEvent(row, again);
          expect(orderIndependentPart(next)).toEqual(orderIndependentPart(row));
          if (row.online_since !== null) {
            expect(next.online_since as number).toBeLessThanOrEqual(row.online_since);
            expect(next.online_since as number).toBeGreaterThanOrEqual(exactOnlineSince(events) as number);
          } else {
            expect(next.online_since).toBeNull();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('survives a database round trip between merges', () => {
    fc.assert(
      fc.property(permutedArb, ([, permuted]) => {
        let row: WorkerRow | undefined;
        for (const e of permuted) row = JSON.parse(JSON.stringify(mergeWorkerEvent(row, e))) as WorkerRow;
        expect(row).toEqual(fold(permuted));
      }),
      { numRuns: 300 },
    );
  });
});

describe('mergeWorkerEvent: derived events keep the broker source', () => {
  it('a collector:liveness worker-offline names the broker from its payload, not itself', () => {
    const base = {
      dedup_key: 'a', hostname: 'celery@w9', uuid: null, clock: 1, received_at: 1_795_000_000.5,
    };
    const heartbeat = { ...base, position: 1, source: 'rabbit', type: 'worker-heartbeat', timestamp: 1_795_000_000, payload: { type: 'worker-heartbeat', hostname: 'celery@w9', freq: 2, timestamp: 1_795_000_000 } };
    const derived = {
      ...base, position: 2, dedup_key: 'b', clock: null, source: 'collector:liveness', type: 'worker-offline', timestamp: 1_795_000_004,
      payload: { type: 'worker-offline', hostname: 'celery@w9', timestamp: 1_795_000_004, reason: 'heartbeat-timeout', broker_source: 'rabbit', heartbeat_freq: 2 },
    };
    const row = mergeWorkerEvent(mergeWorkerEvent(undefined, heartbeat), derived);
    expect(row).toMatchObject({ status: 'offline', offline_reason: 'heartbeat-timeout', source: 'rabbit', freq: 2 });
  });
});

describe('mergeWorkerEvents: a batch fold equals merging one by one', () => {
  it('for any events and any split into batches (property)', () => {
    fc.assert(
      fc.property(eventSetArb, optsArb, fc.array(fc.nat(), { maxLength: 4 }), (events, opts, cuts) => {
        const bounds = [...new Set(cuts.map((c) => c % (events.length + 1)))].sort((a, b) => a - b);
        let row: WorkerRow | undefined;
        let from = 0;
        for (const to of [...bounds, events.length]) {
          if (to > from) row = mergeWorkerEvents(row, events.slice(from, to), opts);
          from = to;
        }
        expect(row).toEqual(fold(events, opts));
      }),
    );
  });
});
