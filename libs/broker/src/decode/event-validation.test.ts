import { describe, expect, it } from 'vitest';
import type { RejectionReason } from '../celery-event';
import { MAX_DESCRIBED_CHARS } from './describe-value';
import { validateEvent, type EventValidation } from './event-validation';
import { EVENTS, EVENT_TYPES, NOW, OPTS, TASK_ID, TS } from './test-fixtures';

function rejected(v: EventValidation): { reason: RejectionReason; detail: string } {
  if (v.ok) throw new Error(`expected a rejection, got event ${JSON.stringify(v.event)}`);
  return { reason: v.reason, detail: v.detail };
}

function accepted(v: EventValidation) {
  if (!v.ok) throw new Error(`expected an event, got ${v.reason}: ${v.detail}`);
  return v.event;
}

const succeeded = EVENTS['task-succeeded']!;
const heartbeat = EVENTS['worker-heartbeat']!;

describe('validateEvent: every event type', () => {
  it.each(EVENT_TYPES)('%s becomes an event with all its fields', (type) => {
    const input = structuredClone(EVENTS[type]!);
    const event = accepted(validateEvent(input, OPTS));
    expect(event.type).toBe(type);
    expect(event.hostname).toBe(input.hostname);
    expect(event.timestamp).toBe(input.timestamp);
    expect(event.clock).toBe(input.clock);
    expect(event.uuid).toBe(type.startsWith('task-') ? TASK_ID : null);
    expect(event.fields).toEqual(input);
    expect(event.fields).toBe(input); // no copy when there was nothing to decode
  });

  it('keeps the captured example exactly', () => {
    const captured = JSON.parse(
      '{"hostname": "w1@lab", "utcoffset": 0, "pid": 7990, "clock": 17, "uuid": "c39d6788-3f60-4ccb-b9ba-e171b5f57cc9", "result": "5", "runtime": 0.00029, "timestamp": 1795486235.8666906, "type": "task-succeeded"}',
    ) as unknown;
    expect(accepted(validateEvent(captured, OPTS))).toEqual({
      type: 'task-succeeded',
      hostname: 'w1@lab',
      timestamp: 1795486235.8666906,
      clock: 17,
      uuid: 'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9',
      fields: captured,
    });
  });

  it('accepts the control-command heartbeat (freq 5, no active/processed/loadavg)', () => {
    const event = accepted(validateEvent({ hostname: 'w1@lab', utcoffset: 0, pid: 7990, clock: 40, freq: 5, timestamp: TS, type: 'worker-heartbeat' }, OPTS));
    expect(event.fields.freq).toBe(5);
  });

  it('keeps unknown fields and gives null clock/uuid when absent', () => {
    const event = accepted(validateEvent({ type: 'worker-elect-ack', hostname: 'w2@lab', timestamp: TS, custom: { a: [1] } }, OPTS));
    expect(event.clock).toBeNull();
    expect(event.uuid).toBeNull();
    expect(event.fields.custom).toEqual({ a: [1] });
  });

  it('gives the uuid of a non-task event that carries one', () => {
    expect(accepted(validateEvent({ ...heartbeat, uuid: 'x' }, OPTS)).uuid).toBe('x');
  });

  it('accepts null for every optional field', () => {
    const nulls = { ...succeeded, clock: null, pid: null, runtime: null, result: null, loadavg: null, signum: null, requeue: null };
    const event = accepted(validateEvent(nulls, OPTS));
    expect(event.clock).toBeNull();
  });

  it('decodes kombu __type__ values before checking types', () => {
    const input = {
      ...EVENTS['task-received']!,
      uuid: { __type__: 'uuid', __value__: { hex: 'c39d67883f604ccbb9bae171b5f57cc9', version: 4 } },
      eta: { __type__: 'datetime', __value__: '2026-11-23T10:00:00+00:00' },
    };
    const event = accepted(validateEvent(input, OPTS));
    expect(event.uuid).toBe(TASK_ID);
    expect(event.fields.uuid).toBe(TASK_ID);
    expect(event.fields.eta).toBe('2026-11-23T10:00:00+00:00');
    expect(input.eta).toEqual({ __type__: 'datetime', __value__: '2026-11-23T10:00:00+00:00' }); // input untouched
  });

  it('accepts a null-prototype object', () => {
    const obj = Object.assign(Object.create(null) as Record<string, unknown>, succeeded);
    expect(accepted(validateEvent(obj, OPTS)).type).toBe('task-succeeded');
  });
});

describe('validateEvent: not an object', () => {
  it.each([
    ['an array', [succeeded], /got an array/],
    ['a string', 'task-succeeded', /got a string \("task-succeeded"\)/],
    ['a number', 5, /got a number \(5\)/],
    ['a boolean', true, /got a boolean/],
    ['null', null, /got null/],
    ['undefined', undefined, /got undefined/],
    ['a Date', new Date(0), /non-plain object \(\[object Date\]\)/],
    ['a Buffer', Buffer.from('{}'), /non-plain object/],
  ])('%s is not-an-object', (_name, value, detail) => {
    const r = rejected(validateEvent(value, OPTS));
    expect(r.reason).toBe('not-an-object');
    expect(r.detail).toMatch(detail);
  });
});

describe('validateEvent: required fields', () => {
  it.each(['type', 'hostname', 'timestamp'])('missing %s is missing-field', (field) => {
    const input: Record<string, unknown> = { ...succeeded };
    delete input[field];
    expect(rejected(validateEvent(input, OPTS))).toEqual({ reason: 'missing-field', detail: `missing field "${field}"` });
    expect(rejected(validateEvent({ ...succeeded, [field]: null }, OPTS))).toEqual({
      reason: 'missing-field',
      detail: `missing field "${field}"`,
    });
  });

  it.each(['type', 'hostname'])('empty %s is missing-field', (field) => {
    expect(rejected(validateEvent({ ...succeeded, [field]: '' }, OPTS))).toEqual({ reason: 'missing-field', detail: `field "${field}" is empty` });
  });

  it.each([
    ['type', 5, 'field "type" must be a non-empty string, got 5'],
    ['type', ['task-succeeded'], 'field "type" must be a non-empty string, got ["task-succeeded"]'],
    ['hostname', { name: 'w1' }, 'field "hostname" must be a non-empty string, got {"name":"w1"}'],
    ['hostname', false, 'field "hostname" must be a non-empty string, got false'],
  ])('%s = %j is wrong-field-type', (field, value, detail) => {
    expect(rejected(validateEvent({ ...succeeded, [field]: value }, OPTS))).toEqual({ reason: 'wrong-field-type', detail });
  });

  it.each(['task-sent', 'task-received', 'task-started', 'task-succeeded', 'task-failed', 'task-retried', 'task-rejected', 'task-revoked', 'task-cancelled', 'task-progress'])(
    '%s without uuid is missing-field',
    (type) => {
      const input: Record<string, unknown> = { ...EVENTS[type]! };
      delete input.uuid;
      expect(rejected(validateEvent(input, OPTS))).toEqual({ reason: 'missing-field', detail: `missing field "uuid" (required for ${type})` });
      expect(rejected(validateEvent({ ...input, uuid: null }, OPTS)).reason).toBe('missing-field');
      expect(rejected(validateEvent({ ...input, uuid: '' }, OPTS))).toEqual({
        reason: 'missing-field',
        detail: `field "uuid" is empty (required for ${type})`,
      });
      expect(rejected(validateEvent({ ...input, uuid: 12345 }, OPTS))).toEqual({
        reason: 'wrong-field-type',
        detail: `field "uuid" must be a non-empty string, got 12345 (required for ${type})`,
      });
    },
  );

  it('rejects NUL (U+0000) in type, hostname and uuid; keeps it in other text fields (the payload holds it, escaped)', () => {
    const failed = { ...EVENTS['task-failed']!, traceback: 'Traceback…\nValueError: a\u0000b\n', exception: "ValueError('a\\x00b')" };
    expect(accepted(validateEvent(failed, OPTS)).fields.traceback).toBe('Traceback…\nValueError: a\u0000b\n');
    for (const field of ['type', 'hostname', 'uuid'] as const) {
      const value = `${String(succeeded[field])}\u0000x`;
      expect(rejected(validateEvent({ ...succeeded, [field]: value }, OPTS)), field).toEqual({
        reason: 'wrong-field-type',
        detail: `field "${field}" must be a string without NUL characters (U+0000), got ${JSON.stringify(value)}`,
      });
    }
    expect(rejected(validateEvent({ ...heartbeat, uuid: 'a\u0000' }, OPTS)).detail).toMatch(/"uuid" must be a string without NUL/);
  });

  it('worker events do not need a uuid', () => {
    for (const type of ['worker-online', 'worker-heartbeat', 'worker-offline', 'worker-elect']) {
      expect(accepted(validateEvent(EVENTS[type], OPTS)).uuid).toBeNull();
    }
  });

  it('checks type, then hostname, then timestamp, then uuid', () => {
    expect(rejected(validateEvent({ timestamp: 'x' }, OPTS)).detail).toBe('missing field "type"');
    expect(rejected(validateEvent({ type: 'task-started', timestamp: 'x' }, OPTS)).detail).toBe('missing field "hostname"');
    expect(rejected(validateEvent({ type: 'task-started', hostname: 'w1@lab', timestamp: 'x' }, OPTS)).reason).toBe('wrong-field-type');
    expect(rejected(validateEvent({ type: 'task-started', hostname: 'w1@lab', timestamp: TS, clock: -1 }, OPTS)).detail).toMatch(/"uuid"/);
  });
});

describe('validateEvent: timestamp', () => {
  const latest = NOW + OPTS.maxFutureSkewSeconds;

  it('accepts both ends of the allowed range', () => {
    expect(accepted(validateEvent({ ...heartbeat, timestamp: OPTS.minTimestamp }, OPTS)).timestamp).toBe(OPTS.minTimestamp);
    expect(accepted(validateEvent({ ...heartbeat, timestamp: latest }, OPTS)).timestamp).toBe(latest);
  });

  it.each([
    ['negative', -1],
    ['zero', 0],
    ['just before 2000-01-01', OPTS.minTimestamp - 0.001],
    ['milliseconds instead of seconds', TS * 1000],
    ['just over a day ahead', latest + 0.001],
    ['far future', 32503680000],
  ])('%s is bad-timestamp with the value and the range in the detail', (_name, ts) => {
    const r = rejected(validateEvent({ ...heartbeat, timestamp: ts }, OPTS));
    expect(r.reason).toBe('bad-timestamp');
    expect(r.detail).toBe(`field "timestamp" is out of range: got ${ts}, allowed ${OPTS.minTimestamp} to ${latest} (epoch seconds)`);
  });

  it.each([
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['NaN', NaN],
  ])('%s is bad-timestamp', (name, ts) => {
    const r = rejected(validateEvent({ ...heartbeat, timestamp: ts }, OPTS));
    expect(r.reason).toBe('bad-timestamp');
    expect(r.detail).toBe(`field "timestamp" must be a finite number: got ${name}, allowed ${OPTS.minTimestamp} to ${latest} (epoch seconds)`);
  });

  it.each([
    ['a numeric string', '1795486235.87', 'got "1795486235.87"'],
    ['the string NaN', 'NaN', 'got "NaN"'],
    ['a boolean', true, 'got true'],
    ['an array', [TS], `got [${TS}]`],
  ])('%s is wrong-field-type', (_name, ts, got) => {
    expect(rejected(validateEvent({ ...heartbeat, timestamp: ts }, OPTS))).toEqual({
      reason: 'wrong-field-type',
      detail: `field "timestamp" must be a number, ${got}`,
    });
  });

  it('uses the options it is given', () => {
    const strict = { now: TS, maxFutureSkewSeconds: 0, minTimestamp: TS };
    expect(accepted(validateEvent(succeeded, strict)).timestamp).toBe(TS);
    expect(rejected(validateEvent({ ...succeeded, timestamp: TS + 1 }, strict)).reason).toBe('bad-timestamp');
  });
});

describe('validateEvent: optional field types', () => {
  const cases: Array<[string, unknown, string]> = [
    ['clock', -1, 'a non-negative integer up to 9007199254740991'],
    ['clock', 1.5, 'a non-negative integer up to 9007199254740991'],
    ['clock', '17', 'a non-negative integer up to 9007199254740991'],
    ['clock', 1e19, 'a non-negative integer up to 9007199254740991'],
    ['clock', 2 ** 53, 'a non-negative integer up to 9007199254740991'],
    ['pid', -1e21, 'an integer within ±9007199254740991'],
    ['processed', 1e19, 'an integer within ±9007199254740991'],
    ['pid', 79.9, 'an integer within ±9007199254740991'],
    ['pid', '7990', 'an integer within ±9007199254740991'],
    ['active', true, 'an integer within ±9007199254740991'],
    ['processed', [], 'an integer within ±9007199254740991'],
    ['retries', '0', 'an integer within ±9007199254740991'],
    ['freq', '2.0', 'a finite number'],
    ['freq', Infinity, 'a finite number'],
    ['runtime', NaN, 'a finite number'],
    ['utcoffset', '0', 'a finite number'],
    ['loadavg', '0.1 0.2 0.3', 'an array of finite numbers'],
    ['loadavg', [0.1, '0.2', 0.3], 'an array of finite numbers'],
    ['loadavg', [0.1, null], 'an array of finite numbers'],
    ['loadavg', { 0: 0.1 }, 'an array of finite numbers'],
    ['terminated', 1, 'a boolean'],
    ['expired', 'false', 'a boolean'],
    ['requeue', 0, 'a boolean'],
    ['signum', 9.5, 'an integer, a string or null'],
    ['signum', true, 'an integer, a string or null'],
  ];
  for (const field of ['uuid', 'name', 'args', 'kwargs', 'result', 'exception', 'traceback', 'eta', 'expires', 'root_id', 'parent_id', 'queue', 'exchange', 'routing_key', 'sw_ident', 'sw_ver', 'sw_sys']) {
    cases.push([field, 5, 'a string']);
  }

  it.each(cases)('%s = %j is wrong-field-type', (field, value, expected) => {
    const base = field === 'uuid' ? heartbeat : succeeded; // task events check uuid before the table
    const r = rejected(validateEvent({ ...base, [field]: value }, OPTS));
    expect(r.reason).toBe('wrong-field-type');
    expect(r.detail).toMatch(new RegExp(`^field "${field}" must be ${expected}, got `));
  });

  it('names the value it got in the detail', () => {
    expect(rejected(validateEvent({ ...succeeded, clock: 'x' }, OPTS)).detail).toBe('field "clock" must be a non-negative integer up to 9007199254740991, got "x"');
    expect(rejected(validateEvent({ ...succeeded, runtime: Infinity }, OPTS)).detail).toBe('field "runtime" must be a finite number, got Infinity');
    expect(rejected(validateEvent({ ...heartbeat, loadavg: [1, 'x'] }, OPTS)).detail).toBe(
      'field "loadavg" must be an array of finite numbers, got [1,"x"]',
    );
  });

  it('truncates a long value in the detail', () => {
    const long = 'x'.repeat(10_000);
    const r = rejected(validateEvent({ ...succeeded, pid: long }, OPTS));
    expect(r.detail.length).toBeLessThan(200);
    expect(r.detail).toMatch(/^field "pid" must be an integer within ±9007199254740991, got "x+…$/);
    const obj = rejected(validateEvent({ ...succeeded, pid: { a: long } }, OPTS));
    expect(obj.detail.length).toBeLessThanOrEqual('field "pid" must be an integer within ±9007199254740991, got '.length + MAX_DESCRIBED_CHARS + 1);
  });

  it.each([
    ['clock', 0],
    ['clock', 2 ** 40],
    ['pid', -1],
    ['utcoffset', -5.5],
    ['loadavg', []],
    ['signum', 9],
    ['signum', 'SIGTERM'],
    ['signum', null],
    ['retries', 3],
  ])('%s = %j is accepted', (field, value) => {
    expect(accepted(validateEvent({ ...succeeded, [field]: value }, OPTS)).fields[field]).toEqual(value);
  });

  it('does not check fields it does not know', () => {
    expect(accepted(validateEvent({ ...succeeded, local_received: 'whatever', hostname2: 5 }, OPTS)).fields.hostname2).toBe(5);
  });
});
