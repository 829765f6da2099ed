import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeResult } from '../celery-event';
import { decodeAmqpMessage } from './amqp-message';
import { decodeEventBody, type EventBodyMeta } from './event-body';
import { decodeRedisMessage } from './redis-envelope';
import { NOW, OPTS, jsonBytes, redisPayload } from './test-fixtures';

const META: EventBodyMeta = { contentType: 'application/json', contentEncoding: 'utf-8', routingKey: 'task.multi', compressed: false };
const SMALL = { ...OPTS, maxRawBytes: 256 };

const hostname = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/), fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/)).map(([n, h]) => `${n}@${h}`);
const timestamp = fc.double({ min: OPTS.minTimestamp, max: NOW + OPTS.maxFutureSkewSeconds, noNaN: true });
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const taskEvent = fc.record(
  {
    type: fc.constantFrom('task-sent', 'task-received', 'task-started', 'task-succeeded', 'task-failed', 'task-retried', 'task-rejected', 'task-revoked', 'task-cancelled', 'task-progress'),
    hostname,
    timestamp,
    uuid: fc.uuid(),
    clock: optional(fc.nat()),
    pid: optional(fc.integer({ min: 1, max: 4_194_304 })),
    utcoffset: optional(fc.integer({ min: -14, max: 12 })),
    name: optional(text),
    args: optional(text),
    kwargs: optional(text),
    result: optional(text),
    runtime: optional(fc.double({ min: 0, max: 1e6, noNaN: true })),
    retries: optional(fc.nat(100)),
    eta: optional(fc.option(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), { nil: null })),
    requeue: optional(fc.boolean()),
    signum: optional(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant('SIGTERM'), fc.constant(null))),
    custom: optional(fc.jsonValue({ maxDepth: 2 })),
  },
  { requiredKeys: ['type', 'hostname', 'timestamp', 'uuid'] },
);

const workerEvent = fc.record(
  {
    type: fc.constantFrom('worker-online', 'worker-heartbeat', 'worker-offline', 'worker-elect'),
    hostname,
    timestamp,
    clock: optional(fc.nat()),
    freq: optional(fc.double({ min: 0.1, max: 60, noNaN: true })),
    active: optional(fc.nat(1000)),
    processed: optional(fc.nat()),
    loadavg: optional(fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { maxLength: 3 })),
    sw_ident: optional(fc.constant('py-celery')),
    sw_ver: optional(fc.constantFrom('5.2.6', '5.3.6', '5.5.3')),
  },
  { requiredKeys: ['type', 'hostname', 'timestamp'] },
);

/** JSON cannot hold undefined or -0; drop them as JSON.stringify would, so we compare like with like. */
const validEvent = fc.oneof(taskEvent, workerEvent).map((e) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>);

/** The invariants every decode result keeps, whatever the input. */
function checkShape(result: DecodeResult, maxRawBytes: number): void {
  for (const r of result.rejected) {
    expect(typeof r.detail).toBe('string');
    expect(r.detail.length).toBeGreaterThan(0);
    expect(Buffer.isBuffer(r.raw)).toBe(true);
    expect(r.raw.length).toBeLessThanOrEqual(maxRawBytes);
    expect(r.rawSize).toBeGreaterThanOrEqual(r.raw.length);
  }
  // Checked directly, not through validateEvent (the code under test): the required fields.
  for (const e of result.events) {
    expect(typeof e.type === 'string' && e.type.length > 0 && e.fields['type'] === e.type).toBe(true);
    expect(typeof e.hostname === 'string' && e.hostname.length > 0 && e.fields['hostname'] === e.hostname).toBe(true);
    expect(Number.isFinite(e.timestamp) && e.fields['timestamp'] === e.timestamp).toBe(true);
    expect(e.clock === null || (Number.isSafeInteger(e.clock) && e.clock >= 0)).toBe(true);
    if (e.type.startsWith('task-')) expect(typeof e.uuid === 'string' && e.uuid.length > 0).toBe(true);
  }
}

describe('decode properties', () => {
  it('any array of valid events decodes to all of them, in order, with no rejection', () => {
    fc.assert(
      fc.property(fc.array(validEvent, { maxLength: 30 }), fc.constantFrom<'body' | 'amqp' | 'redis-base64' | 'redis-utf8'>('body', 'amqp', 'redis-base64', 'redis-utf8'), (events, via) => {
        const body = jsonBytes(events);
        let result: DecodeResult;
        if (via === 'body') result = decodeEventBody(body, META, OPTS);
        else if (via === 'amqp') result = decodeAmqpMessage({ content: body, contentType: 'application/json', contentEncoding: 'utf-8', routingKey: 'task.multi' }, OPTS);
        else result = decodeRedisMessage(redisPayload(body, { bodyEncoding: via === 'redis-base64' ? 'base64' : 'utf-8' }), '/0.celeryev/task.multi', OPTS);
        expect(result.rejected).toEqual([]);
        expect(result.events.map((e) => e.fields)).toEqual(events);
        expect(result.events.map((e) => e.type)).toEqual(events.map((e) => e.type));
        expect(result.events.map((e) => e.timestamp)).toEqual(events.map((e) => e.timestamp));
      }),
      { numRuns: 300 },
    );
  });

  it('a single valid event object decodes to itself', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        const result = decodeEventBody(jsonBytes(event), META, OPTS);
        expect(result.rejected).toEqual([]);
        expect(result.events).toHaveLength(1);
        expect(result.events[0]!.fields).toEqual(event);
      }),
    );
  });

  it('random bytes never throw: every result is rejections, or valid events from a parsable body', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.constantFrom(null, 'application/json', 'application/x-python-serialize'), (bytes, contentType) => {
        const body = Buffer.from(bytes);
        const result = decodeEventBody(body, { ...META, contentType }, SMALL);
        checkShape(result, SMALL.maxRawBytes);
        if (result.rejected.length === 0) {
          // Only an empty JSON array can give nothing at all.
          if (result.events.length === 0) expect(JSON.parse(body.toString('utf8'))).toEqual([]);
        }
        const redis = decodeRedisMessage(body, '/0.celeryev/task.multi', SMALL);
        checkShape(redis, SMALL.maxRawBytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('random JSON values never throw, as a body or as a batch, and every element is accounted for', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.array(fc.oneof(validEvent, fc.jsonValue({ maxDepth: 3 })), { maxLength: 10 }), (value, items) => {
        checkShape(decodeEventBody(jsonBytes(value), META, SMALL), SMALL.maxRawBytes);
        const batch = decodeEventBody(jsonBytes(items), META, SMALL);
        checkShape(batch, SMALL.maxRawBytes);
        expect(batch.events.length + batch.rejected.length).toBe(items.length);
      }),
      { numRuns: 500 },
    );
  });

  it('random envelopes never throw', () => {
    const envelope = fc.record(
      {
        body: fc.oneof(fc.string(), fc.base64String(), fc.jsonValue({ maxDepth: 2 })),
        'content-type': fc.oneof(fc.constant('application/json'), fc.string(), fc.jsonValue({ maxDepth: 1 })),
        'content-encoding': fc.oneof(fc.constant('utf-8'), fc.string(), fc.jsonValue({ maxDepth: 1 })),
        headers: fc.jsonValue({ maxDepth: 2 }),
        properties: fc.oneof(
          fc.record({ body_encoding: fc.constantFrom('base64', 'utf-8', 'x'), delivery_info: fc.jsonValue({ maxDepth: 2 }) }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(envelope, fc.string(), (env, channel) => {
        checkShape(decodeRedisMessage(jsonBytes(env), channel, SMALL), SMALL.maxRawBytes);
      }),
      { numRuns: 500 },
    );
  });

  it('corrupting one byte of a valid batch never throws and never loses track of elements', () => {
    fc.assert(
      fc.property(fc.array(validEvent, { minLength: 1, maxLength: 5 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (events, at, byte) => {
        const body = jsonBytes(events);
        body[at % body.length] = byte;
        const result = decodeEventBody(body, META, SMALL);
        checkShape(result, SMALL.maxRawBytes);
        if (result.rejected.length === 0) expect(result.events.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});
