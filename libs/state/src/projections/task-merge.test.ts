import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredEvent } from '../stored-event';
import { emptyTaskRow, mergeRulesOf, mergeTaskEvent, mergeTaskEvents, type MergeRules, type TaskRow } from './task-merge';
import { compareOrderKeys, orderKeyOf } from './order-key';
import { precedence, stateForEventType } from './task-state';

const UUID = 'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9';
const T0 = 1_795_486_200;
const CLIENT = 'gen4242@client';

interface EvOpts {
  clock?: number | null;
  hostname?: string;
  source?: string;
  position?: number;
  received_at?: number;
  dedup_key?: string;
  uuid?: string | null;
}

let autoPosition = 0;

/** A stored task event whose payload looks like what Celery sends. */
function ev(type: string, ts: number, fields: Record<string, unknown> = {}, o: EvOpts = {}): StoredEvent {
  const position = o.position ?? ++autoPosition;
  const hostname = o.hostname ?? (type === 'task-sent' ? CLIENT : 'celery@w1');
  const clock = o.clock === undefined ? position : o.clock;
  const uuid = o.uuid === undefined ? UUID : o.uuid;
  return {
    position,
    dedup_key: o.dedup_key ?? `dk-${position}`,
    source: o.source ?? 'rabbit',
    type,
    hostname,
    uuid,
    clock,
    timestamp: ts,
    received_at: o.received_at ?? ts + 0.01,
    payload: { type, hostname, timestamp: ts, utcoffset: 0, pid: 7990, clock, uuid, ...fields },
  };
}

function fold(events: readonly StoredEvent[], start?: TaskRow): TaskRow {
  let row = start;
  for (const e of events) row = mergeTaskEvent(row, e);
  if (row === undefined) throw new Error('no events');
  return row;
}

function meta(row: TaskRow): { o: [number, number, string][]; f: Record<string, number>; s: Record<string, number> } {
  return JSON.parse(row.merge_meta) as { o: [number, number, string][]; f: Record<string, number>; s: Record<string, number> };
}

const SENT_FIELDS = {
  root_id: UUID,
  parent_id: null,
  name: 'proj.tasks.add',
  args: '(2, 3)',
  kwargs: '{}',
  retries: 0,
  eta: null,
  expires: null,
  queue: 'celery',
  exchange: '',
  routing_key: 'celery',
};
const RECEIVED_FIELDS = {
  name: 'proj.tasks.add',
  args: '(2, 3)',
  kwargs: '{}',
  root_id: UUID,
  parent_id: null,
  retries: 0,
  eta: null,
  expires: null,
};

describe('mergeTaskEvent: life cycles', () => {
  it('normal success: sent, received, started, succeeded', () => {
    const events = [
      ev('task-sent', T0, SENT_FIELDS, { position: 10, clock: 3 }),
      ev('task-received', T0 + 1, RECEIVED_FIELDS, { position: 11, clock: 5 }),
      ev('task-started', T0 + 2, {}, { position: 12, clock: 6 }),
      ev('task-succeeded', T0 + 3, { result: '5', runtime: 0.00029 }, { position: 13, clock: 7, source: 'redis' }),
    ];
    const states: string[] = [];
    let row: TaskRow | undefined;
    for (const e of events) {
      row = mergeTaskEvent(row, e);
      states.push(row.state);
    }
    expect(states).toEqual(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS']);
    const { merge_meta: _m, ...rest } = row as TaskRow;
    const { merge_meta: _e, ...empty } = emptyTaskRow(UUID);
    expect(rest).toEqual({
      ...empty,
      uuid: UUID,
      name: 'proj.tasks.add',
      state: 'SUCCESS',
      state_at: T0 + 3,
      sent_at: T0,
      received_at: T0 + 1,
      started_at: T0 + 2,
      succeeded_at: T0 + 3,
      args: '(2, 3)',
      kwargs: '{}',
      result: '5',
      runtime: 0.00029,
      retries: 0,
      worker: 'celery@w1',
      client: CLIENT,
      queue: 'celery',
      exchange: '',
      routing_key: 'celery',
      root_id: UUID,
      source: 'redis',
      first_position: 10,
      last_position: 13,
      event_count: 4,
      event_positions: '10,11,12,13',
    });
    const m = meta(row as TaskRow);
    expect(m.s).toEqual({ PENDING: T0, RECEIVED: T0 + 1, STARTED: T0 + 2, SUCCESS: T0 + 3 });
    // Only referenced keys are kept, sorted and distinct (task-started won no field).
    expect(m.o).toEqual([
      [T0, 3, 'dk-10'],
      [T0 + 1, 5, 'dk-11'],
      [T0 + 3, 7, 'dk-13'],
    ]);
    expect(m.o[m.f['name'] as number]).toEqual([T0 + 1, 5, 'dk-11']);
    expect(m.o[m.f['queue'] as number]).toEqual([T0, 3, 'dk-10']);
    expect(m.o[m.f['client'] as number]).toEqual([T0, 3, 'dk-10']);
    expect(m.o[m.f['worker'] as number]).toEqual([T0 + 3, 7, 'dk-13']);
    expect(m.o[m.f['source'] as number]).toEqual([T0 + 3, 7, 'dk-13']);
    expect(m.f['exception']).toBeUndefined();
  });

  it('failure', () => {
    const row = fold([
      ev('task-received', T0 + 1, RECEIVED_FIELDS),
      ev('task-started', T0 + 2),
      ev('task-failed', T0 + 3, { exception: "ZeroDivisionError('division by zero')", traceback: 'Traceback…' }),
    ]);
    expect(row.state).toBe('FAILURE');
    expect(row.state_at).toBe(T0 + 3);
    expect(row.failed_at).toBe(T0 + 3);
    expect(row.exception).toBe("ZeroDivisionError('division by zero')");
    expect(row.traceback).toBe('Traceback…');
    expect(row.result).toBeNull();
    expect(row.client).toBeNull();
    expect(row.worker).toBe('celery@w1');
  });

  it('retry on another worker, then success', () => {
    const events = [
      ev('task-sent', T0, SENT_FIELDS),
      ev('task-received', T0 + 1, RECEIVED_FIELDS, { hostname: 'celery@w1' }),
      ev('task-started', T0 + 2, {}, { hostname: 'celery@w1' }),
      ev('task-retried', T0 + 3, { exception: "Retry('later')", traceback: 'tb' }, { hostname: 'celery@w1' }),
      ev('task-received', T0 + 13, { ...RECEIVED_FIELDS, retries: 1, eta: '2026-11-22T10:00:13+00:00' }, { hostname: 'celery@w2' }),
      ev('task-started', T0 + 14, {}, { hostname: 'celery@w2' }),
      ev('task-succeeded', T0 + 15, { result: '5', runtime: 0.5 }, { hostname: 'celery@w2' }),
    ];
    const states: string[] = [];
    let row: TaskRow | undefined;
    for (const e of events) {
      row = mergeTaskEvent(row, e);
      states.push(row.state);
    }
    expect(states).toEqual(['PENDING', 'RECEIVED', 'STARTED', 'RETRY', 'RECEIVED', 'STARTED', 'SUCCESS']);
    const r = row as TaskRow;
    expect(r.worker).toBe('celery@w2');
    expect(r.client).toBe(CLIENT);
    expect(r.retries).toBe(1);
    expect(r.eta).toBe('2026-11-22T10:00:13+00:00');
    expect(r.received_at).toBe(T0 + 13);
    expect(r.started_at).toBe(T0 + 14);
    expect(r.retried_at).toBe(T0 + 3);
    // The retry's exception stays: no later event carried the key.
    expect(r.exception).toBe("Retry('later')");
    expect(r.result).toBe('5');
    // Any other order gives the same row.
    expect(fold([...events].reverse())).toEqual(r);
  });

  it('revoked while running, terminated with a signal', () => {
    const row = fold([
      ev('task-received', T0 + 1, RECEIVED_FIELDS),
      ev('task-started', T0 + 2),
      ev('task-revoked', T0 + 3, { terminated: true, signum: 15, expired: false }),
    ]);
    expect(row.state).toBe('REVOKED');
    expect(row.revoked_at).toBe(T0 + 3);
    expect(row.revoked_terminated).toBe(1);
    expect(row.revoked_signum).toBe('15');
    expect(row.revoked_expired).toBe(0);
  });

  it('revoked signum as a name or null; expired', () => {
    expect(fold([ev('task-revoked', T0, { terminated: true, signum: 'SIGKILL', expired: false })]).revoked_signum).toBe('SIGKILL');
    const r = fold([ev('task-revoked', T0, { terminated: false, signum: null, expired: true })]);
    expect([r.revoked_terminated, r.revoked_signum, r.revoked_expired]).toEqual([0, null, 1]);
    // revoked_* only come from task-revoked.
    expect(fold([ev('task-failed', T0, { terminated: true, signum: 9, expired: true })]).revoked_signum).toBeNull();
  });

  it('a revoked task that a worker still reports started stays REVOKED', () => {
    const row = fold([ev('task-revoked', T0 + 1, { terminated: false, signum: null, expired: false }), ev('task-started', T0 + 2)]);
    expect(row.state).toBe('REVOKED');
    expect(row.started_at).toBe(T0 + 2);
  });

  it('rejected: alone REJECTED; after received Celery keeps RECEIVED (lower precedence)', () => {
    const alone = fold([ev('task-rejected', T0, { requeue: false })]);
    expect(alone.state).toBe('REJECTED');
    expect(alone.rejected_requeue).toBe(0);
    expect(alone.rejected_at).toBe(T0);
    const after = fold([ev('task-received', T0, RECEIVED_FIELDS), ev('task-rejected', T0 + 1, { requeue: true })]);
    expect(after.state).toBe('RECEIVED');
    expect(after.state_at).toBe(T0);
    expect(after.rejected_requeue).toBe(1);
    expect(after.rejected_at).toBe(T0 + 1);
    // requeue only comes from task-rejected.
    expect(fold([ev('task-received', T0, { requeue: true })]).rejected_requeue).toBeNull();
  });

  it('custom state task-progress, then success', () => {
    const events = [
      ev('task-received', T0 + 1, RECEIVED_FIELDS),
      ev('task-started', T0 + 2),
      ev('task-progress', T0 + 3, { current: 1, total: 10 }),
      ev('task-progress', T0 + 4, { current: 2, total: 10 }),
    ];
    const progressing = fold(events);
    expect(progressing.state).toBe('PROGRESS');
    expect(progressing.state_at).toBe(T0 + 4);
    expect(meta(progressing).s['PROGRESS']).toBe(T0 + 4);
    const done = fold([...events, ev('task-succeeded', T0 + 5, { result: 'None', runtime: 3 })]);
    expect(done.state).toBe('SUCCESS');
    expect(meta(done).s).toEqual({ PROGRESS: T0 + 4, RECEIVED: T0 + 1, STARTED: T0 + 2, SUCCESS: T0 + 5 });
  });

  it('a custom state beats REVOKED (Celery precedence), task-cancelled is CANCELLED', () => {
    expect(fold([ev('task-revoked', T0, {}), ev('task-cancelled', T0 - 1)]).state).toBe('CANCELLED');
    expect(fold([ev('task-cancelled', T0), ev('task-progress', T0 + 1)]).state).toBe('PROGRESS');
  });

  it('task-sent comes from a client: sets client, not worker', () => {
    const row = fold([ev('task-sent', T0, SENT_FIELDS)]);
    expect(row.state).toBe('PENDING');
    expect(row.state_at).toBe(T0);
    expect(row.client).toBe(CLIENT);
    expect(row.worker).toBeNull();
    expect(row.sent_at).toBe(T0);
    const later = mergeTaskEvent(row, ev('task-received', T0 + 1, RECEIVED_FIELDS, { hostname: 'celery@w9' }));
    expect([later.client, later.worker]).toEqual([CLIENT, 'celery@w9']);
  });
});

describe('mergeTaskEvent: late and out-of-order events', () => {
  it('received after succeeded: state stays SUCCESS, fields fill in', () => {
    const row = fold([
      ev('task-started', T0 + 2),
      ev('task-succeeded', T0 + 3, { result: '5', runtime: 1 }),
      ev('task-received', T0 + 1, RECEIVED_FIELDS),
    ]);
    expect(row.state).toBe('SUCCESS');
    expect(row.state_at).toBe(T0 + 3);
    expect(row.name).toBe('proj.tasks.add');
    expect(row.args).toBe('(2, 3)');
    expect(row.received_at).toBe(T0 + 1);
    expect(row.source).toBe('rabbit');
  });

  it('keeps the highest retries even when the client stamps task-sent late', () => {
    // A client stamps task-sent after publishing: under load its retries=0 can postdate the retry.
    const retryReceived = ev('task-received', T0 + 2, { ...RECEIVED_FIELDS, retries: 1 });
    const lateSent = ev('task-sent', T0 + 3, { ...SENT_FIELDS, retries: 0 }, { hostname: CLIENT });
    expect(fold([retryReceived, lateSent]).retries).toBe(1);
    expect(fold([lateSent, retryReceived]).retries).toBe(1);
  });

  it('an older event never overwrites a field a newer one set', () => {
    const newer = ev('task-received', T0 + 5, { ...RECEIVED_FIELDS, retries: 2 }, { hostname: 'celery@w2' });
    const older = ev('task-received', T0 + 1, { ...RECEIVED_FIELDS, retries: 1 }, { hostname: 'celery@w1', source: 'redis' });
    const row = fold([newer, older]);
    expect(row.retries).toBe(2);
    expect(row.worker).toBe('celery@w2');
    expect(row.source).toBe('rabbit');
    expect(row.received_at).toBe(T0 + 5);
    expect(row.event_count).toBe(2);
    expect([row.first_position, row.last_position]).toEqual([
      Math.min(newer.position, older.position),
      Math.max(newer.position, older.position),
    ]);
  });

  it('retry arriving late still yields the newest attempt', () => {
    const events = [
      ev('task-received', T0 + 1, RECEIVED_FIELDS),
      ev('task-started', T0 + 2),
      ev('task-received', T0 + 10, { ...RECEIVED_FIELDS, retries: 1 }, { hostname: 'celery@w2' }),
      ev('task-retried', T0 + 3, { exception: 'x' }),
    ];
    expect(fold(events).state).toBe('RECEIVED');
    expect(fold(events).worker).toBe('celery@w2');
  });

  it('a client clock running ahead of the workers does not undo a retry (state, args, eta)', () => {
    // The client stamps task-sent a minute ahead of the workers' clocks.
    const sent = ev('task-sent', T0 + 60, { ...SENT_FIELDS, args: '(1,)', retries: 0 }, { hostname: CLIENT });
    const attempt0 = [
      ev('task-received', T0 + 1, { ...RECEIVED_FIELDS, args: '(1,)', retries: 0 }),
      ev('task-started', T0 + 2),
      ev('task-retried', T0 + 3, { exception: 'Retry in 30s', traceback: 'tb' }),
    ];
    const eta = '2026-11-24T12:00:33+00:00';
    // Celery publishes the retry's message (and sends its task-sent) before it reports the retry.
    const resent = ev('task-sent', T0 + 2.9, { ...SENT_FIELDS, args: '(2,)', retries: 1, eta }, { hostname: 'gen77@w1' });
    const received1 = ev('task-received', T0 + 3.2, { ...RECEIVED_FIELDS, args: '(2,)', retries: 1, eta });

    for (const order of [[sent, ...attempt0], [...attempt0, sent]]) {
      const row = fold(order);
      expect(row.state, 'the first send comes before every retry').toBe('RETRY');
      expect(row.args).toBe('(1,)');
    }
    for (const order of [[sent, ...attempt0, received1], [received1, ...attempt0, sent]]) {
      const row = fold(order);
      expect(row.state).toBe('RECEIVED');
      expect(row.args, "the retry's message").toBe('(2,)');
      expect(row.eta).toBe(eta);
      expect(row.retries).toBe(1);
    }
    // The retry's own task-sent (retries=1) carries the retry's message; the state stays RETRY.
    const row = fold([sent, ...attempt0, resent]);
    expect(row.state).toBe('RETRY');
    expect(row.eta).toBe(eta);
  });

  it('stays RETRY when the retry\'s message is received before the retry is reported, as Celery sends them', () => {
    const events = [
      ev('task-received', T0 + 1, { ...RECEIVED_FIELDS, retries: 0 }, { hostname: 'celery@a' }),
      ev('task-started', T0 + 1.1, {}, { hostname: 'celery@a' }),
      ev('task-received', T0 + 1.2, { ...RECEIVED_FIELDS, retries: 1 }, { hostname: 'celery@b' }),
      ev('task-retried', T0 + 1.3, { exception: 'Retry in 10s' }, { hostname: 'celery@a' }),
    ];
    expect(fold(events).state).toBe('RETRY');
    expect(fold([...events].reverse()).state).toBe('RETRY');
    expect(fold([...events, ev('task-started', T0 + 11, {}, { hostname: 'celery@b' })]).state).toBe('STARTED');
  });

  it('does not take missing retries for an earlier attempt (a collector started while a task kept retrying)', () => {
    // Retried 1000 times before the collector started: only its last attempt is in the log.
    const events = [
      ev('task-received', T0 + 1, { ...RECEIVED_FIELDS, retries: 1000 }),
      ev('task-started', T0 + 2),
      ev('task-retried', T0 + 3, { exception: 'Retry' }),
    ];
    expect(fold(events).state).toBe('RETRY');
    expect(fold([...events].reverse()).state).toBe('RETRY');
  });

  it('a message run twice (redelivered) reports two retries of one attempt: receipts of the next still count', () => {
    // Redis redelivers an ETA message past its visibility timeout: w1 and w2 both run attempt 0.
    const events = [
      ev('task-sent', T0, { ...SENT_FIELDS, retries: 0 }, { hostname: CLIENT }),
      ev('task-received', T0 + 0.01, { ...RECEIVED_FIELDS, retries: 0 }, { hostname: 'celery@w1' }),
      ev('task-received', T0 + 3600, { ...RECEIVED_FIELDS, retries: 0 }, { hostname: 'celery@w2' }),
      ev('task-started', T0 + 7200.01, {}, { hostname: 'celery@w1' }),
      ev('task-started', T0 + 7200.02, {}, { hostname: 'celery@w2' }),
      ev('task-sent', T0 + 7200.1, { ...SENT_FIELDS, retries: 1 }, { hostname: 'gen1@w1' }),
      ev('task-sent', T0 + 7200.11, { ...SENT_FIELDS, retries: 1 }, { hostname: 'gen2@w2' }),
      ev('task-retried', T0 + 7200.12, { exception: 'Retry' }, { hostname: 'celery@w1' }),
      ev('task-received', T0 + 7200.125, { ...RECEIVED_FIELDS, retries: 1 }, { hostname: 'celery@w3' }),
      ev('task-retried', T0 + 7200.13, { exception: 'Retry' }, { hostname: 'celery@w2' }),
      ev('task-received', T0 + 7200.14, { ...RECEIVED_FIELDS, retries: 1 }, { hostname: 'celery@w1' }),
    ];
    expectCeleryParity(events);
    expect(fold([...events].reverse()).state).toBe('RECEIVED');
  });

  it('the same task id sent again during a retry\'s countdown is received again', () => {
    const events = [
      ev('task-received', T0 + 1, { ...RECEIVED_FIELDS, retries: 0 }),
      ev('task-started', T0 + 2),
      ev('task-retried', T0 + 3, { exception: 'Retry' }),
      ev('task-received', T0 + 5, { ...RECEIVED_FIELDS, retries: 0 }, { hostname: 'celery@w2' }),
    ];
    expectCeleryParity(events);
    expect(fold([...events].reverse()).state).toBe('RECEIVED');
  });

  it('without retries counters (other clients), timestamps place events against the retry', () => {
    const events = [
      ev('task-received', T0 + 1, { name: 'x' }),
      ev('task-retried', T0 + 2, { exception: 'Retry' }),
      ev('task-received', T0 + 3, { name: 'x' }, { hostname: 'celery@w2' }),
    ];
    expect(fold(events).state).toBe('RECEIVED');
    expect(fold(events.slice(0, 2)).state).toBe('RETRY');
  });

  it('ties on timestamp are broken by clock (absent = -1), then dedup_key', () => {
    const a = ev('task-succeeded', T0, { result: 'a' }, { clock: 5, dedup_key: 'zzz' });
    const b = ev('task-succeeded', T0, { result: 'b' }, { clock: 6, dedup_key: 'aaa' });
    expect(fold([a, b]).result).toBe('b');
    expect(fold([b, a]).result).toBe('b');
    const c = ev('task-succeeded', T0, { result: 'c' }, { clock: null, dedup_key: 'zzz' });
    const d = ev('task-succeeded', T0, { result: 'd' }, { clock: 0, dedup_key: 'aaa' });
    expect(fold([c, d]).result).toBe('d');
    expect(fold([d, c]).result).toBe('d');
    const e = ev('task-succeeded', T0, { result: 'e' }, { clock: 1, dedup_key: 'k2' });
    const f = ev('task-succeeded', T0, { result: 'f' }, { clock: 1, dedup_key: 'k1' });
    expect(fold([e, f]).result).toBe('e');
    expect(fold([f, e]).result).toBe('e');
  });

  it('a null value counts as a value; an absent key does not', () => {
    const row = fold([ev('task-sent', T0, { eta: '2030-01-01T00:00:00+00:00' }), ev('task-received', T0 + 1, { eta: null })]);
    expect(row.eta).toBeNull();
    const kept = fold([ev('task-sent', T0, { eta: '2030-01-01T00:00:00+00:00' }), ev('task-received', T0 + 1, { name: 'x' })]);
    expect(kept.eta).toBe('2030-01-01T00:00:00+00:00');
  });
});

describe('mergeTaskEvent: defensive behaviour', () => {
  it('takes nothing from a value of the wrong type (null when no other event says better)', () => {
    const row = fold([
      ev('task-received', T0, { name: 42, args: [1, 2], kwargs: { a: 1 }, retries: 1.5, eta: 12, parent_id: true }),
      ev('task-succeeded', T0 + 1, { result: { x: 1 }, runtime: '0.1' }),
      ev('task-revoked', T0 + 2, { terminated: 'yes', signum: 1.5, expired: 1 }),
      ev('task-rejected', T0 + 3, { requeue: 'no' }),
    ]);
    expect([row.name, row.args, row.kwargs, row.retries, row.eta, row.parent_id]).toEqual([null, null, null, null, null, null]);
    expect([row.result, row.runtime]).toEqual([null, null]);
    expect([row.revoked_terminated, row.revoked_signum, row.revoked_expired, row.rejected_requeue]).toEqual([null, null, null, null]);
    expect(fold([ev('task-succeeded', T0, { runtime: Number.NaN })]).runtime).toBeNull();
    // A newer wrong-typed value does not blank an older right-typed one (a custom event's
    // `result: {…}` must not erase the task's result), in any order; an explicit null does.
    const r2 = [ev('task-received', T0 + 1, { name: 42 }), ev('task-sent', T0, { name: 'old' })];
    expect(fold(r2).name).toBe('old');
    expect(fold([...r2].reverse()).name).toBe('old');
    const progress = [ev('task-succeeded', T0, { result: '5' }), ev('task-progress', T0 + 1, { result: { a: 1 } })];
    expect(fold(progress).result).toBe('5');
    expect(fold([...progress].reverse()).result).toBe('5');
    expect(fold([ev('task-sent', T0, { name: 'old' }), ev('task-received', T0 + 1, { name: null })]).name).toBeNull();
  });

  it('never mutates the row it is given', () => {
    const row = Object.freeze(fold([ev('task-received', T0, RECEIVED_FIELDS)]));
    const copy = { ...row };
    const next = mergeTaskEvent(row, ev('task-succeeded', T0 + 1, { result: '1' }));
    expect(row).toEqual(copy);
    expect(next).not.toBe(row);
    expect(next.state).toBe('SUCCESS');
  });

  it('refuses events that are not task events of this row', () => {
    expect(() => mergeTaskEvent(undefined, ev('worker-heartbeat', T0, {}, { uuid: null }))).toThrow(/not a task event/);
    expect(() => mergeTaskEvent(undefined, ev('task-received', T0, {}, { uuid: null }))).toThrow(/no uuid/);
    const row = fold([ev('task-received', T0)]);
    expect(() => mergeTaskEvent(row, ev('task-started', T0, {}, { uuid: 'other' }))).toThrow(/other/);
  });

  it('merging the same event twice changes only event_count (callers merge each event once)', () => {
    const events = [ev('task-received', T0, RECEIVED_FIELDS), ev('task-succeeded', T0 + 1, { result: '1' })];
    const once = fold(events);
    const twice = mergeTaskEvent(once, events[0] as StoredEvent);
    expect({ ...twice, event_count: 0 }).toEqual({ ...once, event_count: 0 });
    expect(twice.event_count).toBe(3);
  });

  it('recovers from unreadable merge_meta using the <x>_at columns', () => {
    const row = fold([ev('task-received', T0, RECEIVED_FIELDS), ev('task-started', T0 + 1)]);
    const broken = { ...row, merge_meta: 'not json' };
    const next = mergeTaskEvent(broken, ev('task-retried', T0 + 0.5));
    expect(next.state).toBe('STARTED');
    expect(next.first_position).toBe(row.first_position);
    expect(meta(next).s).toEqual({ RECEIVED: T0, STARTED: T0 + 1, RETRY: T0 + 0.5 });
  });

  it('keeps merging a row built before attempt-aware rules by the rules it was built with', () => {
    const sent = ev('task-sent', T0 + 60, { ...SENT_FIELDS, args: '(1,)', retries: 0 }, { hostname: CLIENT });
    const attempt0 = [ev('task-received', T0 + 1, { ...RECEIVED_FIELDS, retries: 0 }), ev('task-retried', T0 + 3, { exception: 'Retry' })];
    const received1 = ev('task-received', T0 + 3.2, { ...RECEIVED_FIELDS, args: '(2,)', retries: 1 });
    const current = fold([sent, ...attempt0]);
    // The same row as an earlier version wrote it: no "v", no attempts, no retried positions.
    const { v: _v, t: _t, r: _r, ...old } = JSON.parse(current.merge_meta) as Record<string, unknown>;
    const legacy: TaskRow = { ...current, state: 'PENDING', merge_meta: JSON.stringify(old) };
    const row = mergeTaskEvent(legacy, received1);
    expect(row.args, 'timestamps decide, as before').toBe('(1,)');
    expect(row.state).toBe('RECEIVED');
    expect(JSON.parse(row.merge_meta)).not.toHaveProperty('v');
    // Replaying the log (rebuild) gives the attempt-aware row.
    const rebuilt = fold([sent, ...attempt0, received1]);
    expect([rebuilt.args, rebuilt.state]).toEqual(['(2,)', 'RECEIVED']);
    expect(JSON.parse(rebuilt.merge_meta)).toMatchObject({ v: 2, r: { PENDING: [0, T0 + 60], RECEIVED: [1, T0 + 3.2] } });
  });

  it('replays a stored row\'s events by the rules it was written with (mergeRulesOf), as the live fold does', () => {
    const events = [
      ev('task-sent', T0 + 60, { ...SENT_FIELDS, args: '(1,)', retries: 0 }, { hostname: CLIENT }),
      ev('task-received', T0 + 1, { ...RECEIVED_FIELDS, retries: 0 }),
      ev('task-retried', T0 + 3, { exception: 'Retry' }),
      ev('task-received', T0 + 3.2, { ...RECEIVED_FIELDS, args: '(2,)', retries: 1 }),
    ];
    const replay = (rules: MergeRules): TaskRow => {
      let row: TaskRow | undefined;
      for (const e of events) row = mergeTaskEvent(row, e, rules);
      return row!;
    };
    const legacy = replay('timestamps');
    expect(JSON.parse(legacy.merge_meta)).not.toHaveProperty('v');
    expect(mergeRulesOf(legacy)).toBe('timestamps');
    expect(legacy.args).toBe('(1,)'); // the client's skewed task-sent wins by timestamp, as before v2
    const current = replay('attempt-aware');
    expect(mergeRulesOf(current)).toBe('attempt-aware');
    expect(current.args).toBe('(2,)');
    expect(current).toEqual(fold(events));
    expect(mergeRulesOf(emptyTaskRow(UUID))).toBe('attempt-aware');
  });

  it('keeps event_positions ascending whatever order events are merged in, and survives a damaged list', () => {
    const received = ev('task-received', T0, RECEIVED_FIELDS);
    const started = ev('task-started', T0 + 1);
    const succeeded = ev('task-succeeded', T0 + 2, { result: '1' });
    const late = mergeTaskEvents(mergeTaskEvent(undefined, succeeded), [started, received]);
    expect(late.event_positions).toBe([received, started, succeeded].map((e) => e.position).join(','));
    const damaged = mergeTaskEvent({ ...fold([received]), event_positions: `x,${received.position},,` }, started);
    expect(damaged.event_positions).toBe(`${received.position},${started.position}`);
  });

  it('emptyTaskRow is a neutral start', () => {
    const events = [ev('task-received', T0, RECEIVED_FIELDS, { position: 77 }), ev('task-started', T0 + 1, {}, { position: 78 })];
    expect(fold(events, emptyTaskRow(UUID))).toEqual(fold(events));
  });
});

// ---------------------------------------------------------------------------------------------
// Celery parity: a transcription of celery.events.state.Task.event + State._event for task events
// (facts from celery/events/state.py), fed in order.

const CELERY_EVENT_TO_STATE: Record<string, string> = {
  sent: 'PENDING',
  received: 'RECEIVED',
  started: 'STARTED',
  failed: 'FAILURE',
  retried: 'RETRY',
  succeeded: 'SUCCESS',
  revoked: 'REVOKED',
  rejected: 'REJECTED',
};
const RECEIVED_KEEP = ['name', 'args', 'kwargs', 'parent_id', 'root_id', 'retries', 'eta', 'expires'];

interface CeleryTask {
  d: Record<string, unknown>;
  /** True while `timestamp` was overwritten by an event that did not set the state (Celery quirk). */
  timestampQuirk: boolean;
}

function celeryFold(events: readonly StoredEvent[]): CeleryTask {
  const t: CeleryTask = { d: { state: 'PENDING' }, timestampQuirk: false };
  for (const e of events) {
    const subject = e.type.slice(e.type.indexOf('-') + 1);
    if (subject === 'sent') t.d['client'] = e.hostname;
    else t.d['worker'] = e.hostname;
    let state = CELERY_EVENT_TO_STATE[subject];
    if (state !== undefined) t.d[subject] = e.timestamp;
    else state = subject.toUpperCase();
    let fields: Record<string, unknown> = { ...e.payload };
    const current = t.d['state'] as string;
    if (state !== 'RETRY' && current !== 'RETRY' && precedence(state) > precedence(current)) {
      if (state === 'RECEIVED') {
        fields = Object.fromEntries(Object.entries(fields).filter(([k]) => RECEIVED_KEEP.includes(k)));
      } else {
        t.timestampQuirk = true; // the event's own `timestamp` field lands on the task
      }
    } else {
      fields['state'] = state;
      fields['timestamp'] = e.timestamp;
      t.timestampQuirk = false;
    }
    // hostname from the payload would clobber nothing we compare; worker/client set above.
    delete fields['hostname'];
    Object.assign(t.d, fields);
  }
  return t;
}

const PARITY_FIELDS = [
  'name',
  'args',
  'kwargs',
  'result',
  'exception',
  'traceback',
  'runtime',
  'retries',
  'eta',
  'expires',
  'queue',
  'exchange',
  'routing_key',
  'root_id',
  'parent_id',
  'worker',
  'client',
] as const;
const PARITY_AT: ReadonlyArray<readonly [string, keyof TaskRow]> = [
  ['sent', 'sent_at'],
  ['received', 'received_at'],
  ['started', 'started_at'],
  ['succeeded', 'succeeded_at'],
  ['failed', 'failed_at'],
  ['retried', 'retried_at'],
  ['revoked', 'revoked_at'],
  ['rejected', 'rejected_at'],
];

function expectCeleryParity(events: readonly StoredEvent[]): void {
  // Check after every prefix, as Celery's state evolves.
  for (let n = 1; n <= events.length; n++) {
    const prefix = events.slice(0, n);
    const ours = fold(prefix);
    const celery = celeryFold(prefix);
    expect(ours.state, `state after ${prefix.map((e) => e.type).join(', ')}`).toBe(celery.d['state']);
    if (!celery.timestampQuirk) expect(ours.state_at).toBe(celery.d['timestamp']);
    for (const f of PARITY_FIELDS) expect(ours[f], f).toEqual(celery.d[f] ?? null);
    for (const [attr, col] of PARITY_AT) expect(ours[col], col).toEqual(celery.d[attr] ?? null);
  }
}

/** Realistic in-order life cycles of one task: strictly increasing timestamps. */
const lifeCycleArb: fc.Arbitrary<StoredEvent[]> = fc
  .record({
    sent: fc.boolean(),
    attempts: fc.array(
      fc.record({
        worker: fc.constantFrom('celery@w1', 'celery@w2', 'celery@w3'),
        started: fc.boolean(),
        progress: fc.integer({ min: 0, max: 2 }),
        outcome: fc.constantFrom('retried', 'succeeded', 'failed', 'revoked', 'rejected-requeue', 'rejected', 'none'),
        args: fc.constantFrom('(1,)', '(2, 3)', "('x',)"),
        // How Celery 5.2.6 retries: the retry's message is published (task-sent, when sent events
        // are on) before task-retried, and a worker may receive it before task-retried too.
        resentEvent: fc.boolean(),
        receivedBeforeRetried: fc.boolean(),
      }),
      { minLength: 0, maxLength: 4 },
    ),
    revokedEarly: fc.boolean(),
    clockStep: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ sent, attempts, revokedEarly, clockStep }) => {
    const out: StoredEvent[] = [];
    let ts = T0;
    let clock = 0;
    const push = (type: string, fields: Record<string, unknown>, hostname?: string): void => {
      ts += 0.25;
      clock += clockStep;
      out.push(ev(type, ts, fields, { clock, ...(hostname ? { hostname } : {}) }));
    };
    if (sent) push('task-sent', { ...SENT_FIELDS });
    if (revokedEarly) {
      push('task-revoked', { terminated: false, signum: null, expired: true });
      return out;
    }
    let retries = 0;
    let receivedAlready = false;
    for (const [index, a] of attempts.entries()) {
      if (!receivedAlready) push('task-received', { ...RECEIVED_FIELDS, args: a.args, retries }, a.worker);
      receivedAlready = false;
      if (a.started) {
        push('task-started', {}, a.worker);
        for (let i = 0; i < a.progress; i++) push('task-progress', { current: i }, a.worker);
      }
      switch (a.outcome) {
        case 'retried': {
          const next = attempts[index + 1];
          if (a.resentEvent) push('task-sent', { ...SENT_FIELDS, args: next?.args ?? a.args, retries: retries + 1 }, 'gen77@' + a.worker.slice(7));
          if (next !== undefined && a.receivedBeforeRetried) {
            push('task-received', { ...RECEIVED_FIELDS, args: next.args, retries: retries + 1 }, next.worker);
            receivedAlready = true;
          }
          push('task-retried', { exception: `Retry(${retries})`, traceback: 'tb' }, a.worker);
          retries++;
          continue;
        }
        case 'rejected-requeue':
          push('task-rejected', { requeue: true }, a.worker);
          continue;
        case 'succeeded':
          push('task-succeeded', { result: '5', runtime: 0.1 }, a.worker);
          return out;
        case 'failed':
          push('task-failed', { exception: 'KeyError()', traceback: 'tb' }, a.worker);
          return out;
        case 'revoked':
          push('task-revoked', { terminated: true, signum: 15, expired: false }, a.worker);
          return out;
        case 'rejected':
          push('task-rejected', { requeue: false }, a.worker);
          return out;
        case 'none':
          return out;
      }
    }
    return out;
  });

describe('Celery parity for in-order sequences', () => {
  it.each<[string, string[]]>([
    ['success', ['task-sent', 'task-received', 'task-started', 'task-succeeded']],
    ['retry then success', ['task-received', 'task-started', 'task-retried', 'task-received', 'task-started', 'task-succeeded']],
    ['retry twice then failure', ['task-received', 'task-retried', 'task-received', 'task-retried', 'task-received', 'task-failed']],
    ['rejected with requeue then success', ['task-received', 'task-started', 'task-rejected', 'task-received', 'task-started', 'task-succeeded']],
    ['progress then success', ['task-received', 'task-started', 'task-progress', 'task-progress', 'task-succeeded']],
    [
      'progress, retry, progress, success',
      ['task-received', 'task-started', 'task-progress', 'task-retried', 'task-received', 'task-started', 'task-progress', 'task-succeeded'],
    ],
    ['revoked pending', ['task-sent', 'task-revoked']],
    ['revoked running', ['task-received', 'task-started', 'task-revoked']],
    ['rejected', ['task-received', 'task-rejected']],
    ['cancelled', ['task-received', 'task-started', 'task-cancelled']],
  ])('%s', (_name, types) => {
    // A retried task is received again with retries = the retries so far, as Celery sends it.
    let retries = 0;
    expectCeleryParity(
      types.map((t, i) => {
        if (t === 'task-retried') retries += 1;
        return ev(t, T0 + i, t === 'task-received' ? { ...RECEIVED_FIELDS, retries } : {});
      }),
    );
  });

  it('holds for random realistic life cycles (every prefix)', () => {
    fc.assert(
      fc.property(lifeCycleArb, (events) => {
        expectCeleryParity(events);
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Task events of three `flaky` tasks of test/celery/monitor_test_app.py retried 1 to 3 times by
 * two real Celery 5.2.6 workers (Redis), captured with `app.events.Receiver` in arrival order
 * (Celery's own `local_received` removed). Here the retry's task-sent and the next task-received
 * come before task-retried, as Celery publishes the retry's message first.
 */
const CAPTURED: Array<Record<string, unknown>> = readFileSync(join(__dirname, 'fixtures', 'celery-5.2.6-retries.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Record<string, unknown>);

function capturedTasks(): Map<string, StoredEvent[]> {
  const byTask = new Map<string, StoredEvent[]>();
  CAPTURED.forEach((payload, i) => {
    const uuid = payload['uuid'] as string;
    const e: StoredEvent = {
      position: i + 1,
      dedup_key: `captured-${i}`,
      source: 'redis',
      type: payload['type'] as string,
      hostname: payload['hostname'] as string,
      uuid,
      clock: payload['clock'] as number,
      timestamp: payload['timestamp'] as number,
      received_at: payload['timestamp'] as number,
      payload,
    };
    byTask.set(uuid, [...(byTask.get(uuid) ?? []), e]);
  });
  return byTask;
}

describe('Celery parity on events captured from real Celery 5.2.6 workers retrying', () => {
  it('matches Celery after every prefix, in arrival order, and any order gives the final row', () => {
    const tasks = capturedTasks();
    expect(tasks.size).toBe(3);
    expect(CAPTURED.filter((e) => e['type'] === 'task-retried')).toHaveLength(6);
    for (const events of tasks.values()) {
      expectCeleryParity(events);
      fc.assert(
        fc.property(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), (permuted) => {
          expect(fold(permuted)).toEqual(fold(events));
        }),
        { numRuns: 100 },
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Order-independence.

const TASK_TYPES = [
  'task-sent',
  'task-received',
  'task-started',
  'task-succeeded',
  'task-failed',
  'task-retried',
  'task-revoked',
  'task-rejected',
  'task-progress',
  'task-cancelled',
  'task-lost',
];
const PAYLOAD_KEYS = [
  'name',
  'args',
  'kwargs',
  'result',
  'exception',
  'traceback',
  'runtime',
  'retries',
  'eta',
  'expires',
  'queue',
  'exchange',
  'routing_key',
  'root_id',
  'parent_id',
  'terminated',
  'signum',
  'expired',
  'requeue',
  'broker_source',
];

/** Mostly plausible values, sometimes of the wrong type. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('(2, 3)', '{}', '5', 'x', 'celery', 'SIGTERM', '2030-01-01T00:00:00+00:00') },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 10, noNaN: true }) },
  { weight: 1, arbitrary: fc.array(fc.integer(), { maxLength: 2 }) },
);

const payloadArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
  Object.fromEntries(PAYLOAD_KEYS.map((k) => [k, valueArb])) as Record<string, fc.Arbitrary<unknown>>,
  { requiredKeys: [] },
);

const rawEventArb = (types: readonly string[], fields: fc.Arbitrary<Record<string, unknown>>) =>
  fc.record({
    type: fc.constantFrom(...types),
    dt: fc.constantFrom(0, 0.5, 1, 1.5, 2, 3, 7),
    clock: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
    dedup_key: fc.string({ minLength: 1, maxLength: 4 }),
    hostname: fc.constantFrom('celery@w1', 'celery@w2', 'gen1@client'),
    source: fc.constantFrom('rabbit', 'redis', 'collector:lost-tasks'),
    fields,
  });

/** A set of distinct events of one task (distinct dedup_keys and positions). */
const eventSetOf = (types: readonly string[], fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<StoredEvent[]> =>
  fc.uniqueArray(rawEventArb(types, fields), { selector: (r) => r.dedup_key, minLength: 1, maxLength: 12 }).chain((raws) =>
    fc.shuffledSubarray(
      raws.map((_, i) => i + 1),
      { minLength: raws.length, maxLength: raws.length },
    ).map((positions) =>
      raws.map((r, i) =>
        ev(r.type, T0 + r.dt, r.fields, {
          clock: r.clock,
          dedup_key: r.dedup_key,
          hostname: r.hostname,
          source: r.source,
          position: positions[i] as number,
        }),
      ),
    ),
  );

const eventSetArb = eventSetOf(TASK_TYPES, payloadArb);

/**
 * Sets where the retries counters matter: retries, sends and receipts of a few attempts, with
 * clocks that disagree (no terminal state to hide the rest).
 */
const retrySetArb = eventSetOf(
  ['task-sent', 'task-received', 'task-started', 'task-retried', 'task-rejected'],
  fc.record({ retries: fc.integer({ min: 0, max: 3 }), args: fc.constantFrom('(1,)', '(2,)'), eta: fc.constantFrom(null, 'e1') }, { requiredKeys: [] }),
);

const setAndPermutationArb = eventSetArb.chain((events) =>
  fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })),
);

/** The payload keys whose columns are ordered by attempt first. */
const ATTEMPT_KEYS = ['name', 'args', 'kwargs', 'eta', 'expires', 'queue', 'exchange', 'routing_key', 'root_id', 'parent_id'];

/** The rules written declaratively over the whole set (independent of the fold). */
function specRow(events: readonly StoredEvent[]): Omit<TaskRow, 'merge_meta'> {
  const latest = (pred: (e: StoredEvent) => boolean): StoredEvent | undefined => {
    let best: StoredEvent | undefined;
    for (const e of events) {
      if (pred(e) && (best === undefined || compareOrderKeys(orderKeyOf(e), orderKeyOf(best)) > 0)) best = e;
    }
    return best;
  };
  const attemptOf = (e: StoredEvent): number => {
    const r = e.payload['retries'];
    return typeof r === 'number' && Number.isSafeInteger(r) && r >= 0 ? r : -1;
  };
  const field = (key: string, types: string[] | null, coerce: (v: unknown) => string | number | null): string | number | null => {
    // The newest event that says something the column can hold (a value of its type, or null);
    // for the fields of an attempt's message, the newest of the highest attempt.
    const says = (x: StoredEvent): boolean =>
      key in x.payload && (types === null || types.includes(x.type)) && (x.payload[key] === null || coerce(x.payload[key]) !== null);
    const byAttempt = ATTEMPT_KEYS.includes(key);
    const top = Math.max(-1, ...events.filter(says).map(attemptOf));
    const e = latest((x) => says(x) && (!byAttempt || attemptOf(x) === top));
    return e === undefined ? null : coerce(e.payload[key]);
  };
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const flag = (v: unknown): number | null => (typeof v === 'boolean' ? Number(v) : null);
  const maxTs = (type: string): number | null => {
    const ts = events.filter((e) => e.type === type).map((e) => e.timestamp);
    return ts.length ? Math.max(...ts) : null;
  };
  const stateOf = (type: string): string =>
    ({
      'task-sent': 'PENDING',
      'task-received': 'RECEIVED',
      'task-started': 'STARTED',
      'task-succeeded': 'SUCCESS',
      'task-failed': 'FAILURE',
      'task-retried': 'RETRY',
      'task-revoked': 'REVOKED',
      'task-rejected': 'REJECTED',
    })[type] ?? type.slice(5).toUpperCase();
  const at = new Map<string, number>();
  for (const e of events) at.set(stateOf(e.type), Math.max(at.get(stateOf(e.type)) ?? -Infinity, e.timestamp));
  // State, spelled out from the brief.
  let state: string;
  const builtin = ['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED', 'REJECTED', 'LOST'];
  /** For sends / receipts carrying retries: the highest attempt, and the newest timestamp of that attempt. */
  const latestAttempt = (type: string): { attempt: number; at: number } | undefined => {
    const carrying = events.filter((e) => e.type === type && attemptOf(e) >= 0);
    if (carrying.length === 0) return undefined;
    const attempt = Math.max(...carrying.map(attemptOf));
    return { attempt, at: Math.max(...carrying.filter((e) => attemptOf(e) === attempt).map((e) => e.timestamp)) };
  };
  const attemptOfState: Record<string, { attempt: number; at: number } | undefined> = {
    PENDING: latestAttempt('task-sent'),
    RECEIVED: latestAttempt('task-received'),
  };
  const isAfterRetry = (s: string, retryAt: number): boolean => {
    const latest = attemptOfState[s];
    if (latest === undefined) return (at.get(s) as number) > retryAt;
    if (s === 'PENDING' && latest.attempt === 0) return false; // the first send precedes every retry
    return latest.at > retryAt; // the latest attempt's time decides
  };
  /** Below SUCCESS and FAILURE: custom states, REVOKED, then progress against the newest RETRY. */
  const stateAmong = (times: ReadonlyMap<string, number>): string => {
    const retryAt = times.get('RETRY');
    const customs = [...times.keys()].filter((s) => !builtin.includes(s) && (retryAt === undefined || (times.get(s) as number) > retryAt));
    if (customs.length) {
      customs.sort((a, b) => (times.get(a) as number) - (times.get(b) as number) || (a < b ? -1 : a > b ? 1 : 0));
      return customs[customs.length - 1] as string;
    }
    if (times.has('REVOKED')) return 'REVOKED';
    const present = ['STARTED', 'RECEIVED', 'REJECTED', 'PENDING'].filter((s) => times.has(s));
    const candidates = retryAt === undefined ? present : present.filter((s) => isAfterRetry(s, retryAt));
    return candidates[0] ?? 'RETRY';
  };
  const lostAt = at.get('LOST');
  /** The states newer than the loss that show the task lived on (a send does not). */
  const afterLoss = lostAt === undefined ? [] : [...at].filter(([s, ts]) => ts > lostAt && s !== 'PENDING' && s !== 'LOST');
  if (at.has('SUCCESS')) state = 'SUCCESS';
  else if (at.has('FAILURE')) state = 'FAILURE';
  else if (lostAt !== undefined && !at.has('REVOKED')) {
    state = afterLoss.length === 0 ? 'LOST' : stateAmong(new Map([...at].filter(([, ts]) => ts > lostAt)));
  } else state = stateAmong(at);
  const newest = latest(() => true) as StoredEvent;
  const newestBroker = newest.payload['broker_source'];
  return {
    uuid: UUID,
    name: field('name', null, text) as string | null,
    state,
    state_at: at.get(state) ?? null,
    sent_at: maxTs('task-sent'),
    received_at: maxTs('task-received'),
    started_at: maxTs('task-started'),
    succeeded_at: maxTs('task-succeeded'),
    failed_at: maxTs('task-failed'),
    retried_at: maxTs('task-retried'),
    revoked_at: maxTs('task-revoked'),
    rejected_at: maxTs('task-rejected'),
    args: field('args', null, text) as string | null,
    kwargs: field('kwargs', null, text) as string | null,
    result: field('result', null, text) as string | null,
    exception: field('exception', null, text) as string | null,
    traceback: field('traceback', null, text) as string | null,
    runtime: field('runtime', null, (v) => (typeof v === 'number' ? v : null)) as number | null,
    retries: events.reduce<number | null>((max, e) => {
      const v = e.payload['retries'];
      return Number.isSafeInteger(v) && (max === null || (v as number) > max) ? (v as number) : max;
    }, null),
    eta: field('eta', null, text) as string | null,
    expires: field('expires', null, text) as string | null,
    worker: latest((e) => e.type !== 'task-sent')?.hostname ?? null,
    client: latest((e) => e.type === 'task-sent')?.hostname ?? null,
    queue: field('queue', null, text) as string | null,
    exchange: field('exchange', null, text) as string | null,
    routing_key: field('routing_key', null, text) as string | null,
    root_id: field('root_id', null, text) as string | null,
    parent_id: field('parent_id', null, text) as string | null,
    revoked_terminated: field('terminated', ['task-revoked'], flag) as number | null,
    revoked_signum: field('signum', ['task-revoked'], (v) =>
      typeof v === 'string' ? v : Number.isInteger(v) ? String(v) : null,
    ) as string | null,
    revoked_expired: field('expired', ['task-revoked'], flag) as number | null,
    rejected_requeue: field('requeue', ['task-rejected'], flag) as number | null,
    source: newest.source.startsWith('collector:') && typeof newestBroker === 'string' ? newestBroker : newest.source,
    first_position: Math.min(...events.map((e) => e.position)),
    last_position: Math.max(...events.map((e) => e.position)),
    event_count: events.length,
    event_positions: [...new Set(events.map((e) => e.position))].sort((a, b) => a - b).join(','),
  };
}

describe('mergeTaskEvent: order-independence (property)', () => {
  it('every permutation of a set of events folds to the same row, merge_meta text included', () => {
    fc.assert(
      fc.property(setAndPermutationArb, ([events, permuted]) => {
        expect(fold(permuted)).toEqual(fold(events));
      }),
      { numRuns: 1000 },
    );
  });

  it('the fold equals the rules stated over the whole set', () => {
    fc.assert(
      fc.property(eventSetArb, (events) => {
        const { merge_meta: _meta, ...row } = fold(events);
        expect(row).toEqual(specRow(events));
      }),
      { numRuns: 1000 },
    );
  });

  it('with retries whose clocks disagree: order-independent, and the rules stated over the set', () => {
    fc.assert(
      fc.property(
        retrySetArb.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }))),
        ([events, permuted]) => {
          expect(fold(permuted)).toEqual(fold(events));
          const { merge_meta: _meta, ...row } = fold(events);
          expect(row).toEqual(specRow(events));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('merge_meta records, per field, the order key of the event the value came from', () => {
    fc.assert(
      fc.property(eventSetArb, (events) => {
        const row = fold(events);
        const m = meta(row);
        const newest = events.reduce((a, b) => (compareOrderKeys(orderKeyOf(a), orderKeyOf(b)) >= 0 ? a : b));
        expect(m.o[m.f['source'] as number]).toEqual([...orderKeyOf(newest)]);
        for (let i = 1; i < m.o.length; i++) {
          expect(compareOrderKeys(m.o[i - 1] as [number, number, string], m.o[i] as [number, number, string])).toBeLessThan(0);
        }
        // `s`: per state, the newest timestamp of its events; the row's state_at is its state's.
        const newestByState: Record<string, number> = {};
        for (const e of events) newestByState[stateForEventType(e.type)] = Math.max(newestByState[stateForEventType(e.type)] ?? -Infinity, e.timestamp);
        expect(m.s).toEqual(newestByState);
        expect(row.state_at).toBe(m.s[row.state]);
      }),
      { numRuns: 300 },
    );
  });

  it('survives a database round trip between merges (JSON-able row)', () => {
    fc.assert(
      fc.property(setAndPermutationArb, ([events, permuted]) => {
        let row: TaskRow | undefined;
        for (const e of permuted) row = JSON.parse(JSON.stringify(mergeTaskEvent(row, e))) as TaskRow;
        expect(row).toEqual(fold(events));
      }),
      { numRuns: 300 },
    );
  });

  it('re-merging an already merged event changes only event_count', () => {
    const withoutCounts = (r: TaskRow) => ({ ...r, event_count: 0 });
    fc.assert(
      fc.property(
        eventSetArb.chain((events) => fc.tuple(fc.constant(events), fc.constantFrom(...events))),
        ([events, again]) => {
          const row = fold(events);
          const next = mergeTaskEvent(row, again);
          expect(withoutCounts(next)).toEqual(withoutCounts(row));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('mergeTaskEvents: a batch fold equals merging one by one', () => {
  it('for any events and any split into batches (property)', () => {
    fc.assert(
      fc.property(eventSetArb, fc.array(fc.nat(), { maxLength: 4 }), (events, cuts) => {
        const bounds = [...new Set(cuts.map((c) => c % (events.length + 1)))].sort((a, b) => a - b);
        let row: TaskRow | undefined;
        let from = 0;
        for (const to of [...bounds, events.length]) {
          if (to > from) row = mergeTaskEvents(row, events.slice(from, to));
          from = to;
        }
        expect(row).toEqual(fold(events));
      }),
    );
  });

  it('returns the row unchanged for no events, and refuses nothing to merge', () => {
    const row = fold([ev('task-received', T0)]);
    expect(mergeTaskEvents(row, [])).toBe(row);
    expect(() => mergeTaskEvents(undefined, [])).toThrow(/no row and no events/);
  });
});
