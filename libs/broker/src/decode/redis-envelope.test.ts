import { describe, expect, it } from 'vitest';
import type { DecodeResult, RejectedMessage } from '../celery-event';
import { decodeRedisMessage, routingKeyFromChannel } from './redis-envelope';
import {
  EVENTS,
  EVENT_TYPES,
  OPTS,
  channelFor,
  jsonBytes,
  redisEnvelope,
  redisPayload,
  routingKeyFor,
  taskBatch,
  type RedisEnvelopeOptions,
} from './test-fixtures';

/** Envelopes written by this machine's Debian kombu 5.2.4 / celery 5.2.6 EventDispatcher. */
const REAL_TASK_SUCCEEDED =
  '{"body": "eyJob3N0bmFtZSI6ICJ3MUBsYWIiLCAidXRjb2Zmc2V0IjogMCwgInBpZCI6IDExNzE3LCAiY2xvY2siOiAxLCAidXVpZCI6ICJjMzlkNjc4OC0zZjYwLTRjY2ItYjliYS1lMTcxYjVmNTdjYzkiLCAicmVzdWx0IjogIidjYWZcdTAwZTknIiwgInJ1bnRpbWUiOiAwLjAwMDI5LCAidGltZXN0YW1wIjogMTc5NTQ4ODE4My4zODcyNjI4LCAidHlwZSI6ICJ0YXNrLXN1Y2NlZWRlZCJ9", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"hostname": "w1@lab"}, "properties": {"delivery_mode": 1, "delivery_info": {"exchange": "celeryev", "routing_key": "task.succeeded"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "2f6f7e40-b684-463b-8a14-7565bb9579ca"}}';
const REAL_HEARTBEAT =
  '{"body": "eyJob3N0bmFtZSI6ICJ3MUBsYWIiLCAidXRjb2Zmc2V0IjogMCwgInBpZCI6IDExNzE3LCAiY2xvY2siOiAyLCAiZnJlcSI6IDIuMCwgImFjdGl2ZSI6IDAsICJwcm9jZXNzZWQiOiAzLCAibG9hZGF2ZyI6IFswLjEsIDAuMiwgMC4zXSwgInN3X2lkZW50IjogInB5LWNlbGVyeSIsICJzd192ZXIiOiAiNS4yLjYiLCAic3dfc3lzIjogIkxpbnV4IiwgInRpbWVzdGFtcCI6IDE3OTU0ODgxODMuMzg3NDY3OSwgInR5cGUiOiAid29ya2VyLWhlYXJ0YmVhdCJ9", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"hostname": "w1@lab"}, "properties": {"delivery_mode": 1, "delivery_info": {"exchange": "celeryev", "routing_key": "worker.heartbeat"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "e8623cbc-576c-46bf-be00-cdee237cb2d3"}}';

function decode(body: unknown, o: RedisEnvelopeOptions = {}, channel = '/0.celeryev/task.multi', opts = OPTS): DecodeResult {
  return decodeRedisMessage(redisPayload(body, o), channel, opts);
}

function onlyRejection(result: DecodeResult): RejectedMessage {
  expect(result.events).toEqual([]);
  expect(result.rejected).toHaveLength(1);
  return result.rejected[0]!;
}

const ENCODINGS: Array<[string, RedisEnvelopeOptions['bodyEncoding']]> = [
  ['base64', 'base64'],
  ['utf-8', 'utf-8'],
  ['absent', undefined],
];

describe('decodeRedisMessage: real kombu envelopes', () => {
  it('task-succeeded with a \\u escape in the result', () => {
    const result = decodeRedisMessage(Buffer.from(REAL_TASK_SUCCEEDED), '/0.celeryev/task.succeeded', OPTS);
    expect(result.rejected).toEqual([]);
    expect(result.events).toEqual([
      {
        type: 'task-succeeded',
        hostname: 'w1@lab',
        timestamp: 1795488183.3872628,
        clock: 1,
        uuid: 'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9',
        fields: {
          hostname: 'w1@lab',
          utcoffset: 0,
          pid: 11717,
          clock: 1,
          uuid: 'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9',
          result: "'café'",
          runtime: 0.00029,
          timestamp: 1795488183.3872628,
          type: 'task-succeeded',
        },
      },
    ]);
  });

  it('worker-heartbeat', () => {
    const [event] = decodeRedisMessage(Buffer.from(REAL_HEARTBEAT), '/0.celeryev/worker.heartbeat', OPTS).events;
    expect(event!.fields).toMatchObject({ freq: 2.0, active: 0, processed: 3, loadavg: [0.1, 0.2, 0.3], sw_ident: 'py-celery' });
  });
});

describe.each(ENCODINGS)('decodeRedisMessage: body_encoding %s', (_name, bodyEncoding) => {
  it.each(EVENT_TYPES)('%s on its own channel', (type) => {
    const rk = routingKeyFor(type);
    const result = decode(EVENTS[type], { bodyEncoding, routingKey: rk }, channelFor(rk));
    expect(result.rejected).toEqual([]);
    expect(result.events).toHaveLength(1);
    expect(result.events[0]!.type).toBe(type);
    expect(result.events[0]!.fields).toEqual(EVENTS[type]);
  });

  it.each(EVENT_TYPES)('%s inside a task.multi batch', (type) => {
    const result = decode([EVENTS['task-started'], EVENTS[type]], { bodyEncoding });
    expect(result.rejected).toEqual([]);
    expect(result.events.map((e) => e.type)).toEqual(['task-started', type]);
  });

  it('a 24-event batch, an empty batch, and a mixed batch', () => {
    const batch = taskBatch(24);
    expect(decode(batch, { bodyEncoding }).events.map((e) => e.fields)).toEqual(batch);
    expect(decode([], { bodyEncoding })).toEqual({ events: [], rejected: [] });
    const mixed = decode([EVENTS['task-started'], { ...EVENTS['task-succeeded'], runtime: 'fast' }], { bodyEncoding });
    expect(mixed.events).toHaveLength(1);
    expect(mixed.rejected.map((r) => [r.reason, r.routingKey, r.contentType])).toEqual([['wrong-field-type', 'task.multi', 'application/json']]);
    expect(mixed.rejected[0]!.raw.toString()).toBe(JSON.stringify({ ...EVENTS['task-succeeded'], runtime: 'fast' }));
  });

  it('non-ASCII text survives the encoding', () => {
    const event = { ...EVENTS['task-received']!, args: "('café', '日本', '🎉')" };
    expect(decode(event, { bodyEncoding }).events[0]!.fields.args).toBe("('café', '日本', '🎉')");
  });
});

describe('decodeRedisMessage: routing key', () => {
  it('comes from properties.delivery_info.routing_key', () => {
    const r = onlyRejection(decode('"x"', { routingKey: 'worker.heartbeat' }, '/0.celeryev/something.else'));
    expect(r.routingKey).toBe('worker.heartbeat');
  });

  it.each([null, '', undefined])('falls back to the channel when delivery_info.routing_key is %j', (rk) => {
    const env = redisEnvelope('"x"', {});
    (env.properties as { delivery_info: Record<string, unknown> }).delivery_info.routing_key = rk;
    const r = onlyRejection(decodeRedisMessage(jsonBytes(env), '/0.celeryev/task.failed', OPTS));
    expect(r.routingKey).toBe('task.failed');
  });

  it('falls back to the channel when properties are missing', () => {
    const env = redisEnvelope(EVENTS['task-started'], { bodyEncoding: undefined });
    delete env.properties;
    const result = decodeRedisMessage(jsonBytes(env), '/0.celeryev/task.started', OPTS);
    expect(result.events).toHaveLength(1);
  });

  it.each([
    ['/0.celeryev/task.multi', 'task.multi'],
    ['/3.celeryev/worker.heartbeat', 'worker.heartbeat'],
    ['myprefix:/0.celeryev/task.sent', 'task.sent'],
    ['celeryev/task.multi', 'task.multi'],
    ['/0.celeryev', null],
    ['/0.celeryev/', null],
    ['celeryev', null],
    ['', null],
  ])('routingKeyFromChannel(%j) = %j', (channel, want) => {
    expect(routingKeyFromChannel(channel)).toBe(want);
  });
});

describe('decodeRedisMessage: envelope rejections', () => {
  const channel = '/0.celeryev/task.multi';

  function badEnvelope(raw: Buffer, detail: RegExp | string, opts = OPTS): RejectedMessage {
    const r = onlyRejection(decodeRedisMessage(raw, channel, opts));
    expect(r.reason).toBe('bad-envelope');
    if (typeof detail === 'string') expect(r.detail).toBe(detail);
    else expect(r.detail).toMatch(detail);
    expect(r.routingKey).toBe('task.multi');
    expect(r.rawSize).toBe(raw.length);
    expect(r.raw.equals(raw.subarray(0, opts.maxRawBytes))).toBe(true);
    return r;
  }

  it('an envelope over twice maxBodyBytes is too-large, raw bounded', () => {
    const opts = { ...OPTS, maxBodyBytes: 500, maxRawBytes: 32 };
    const raw = redisPayload(taskBatch(24));
    expect(raw.length).toBeGreaterThan(1000);
    const r = onlyRejection(decodeRedisMessage(raw, channel, opts));
    expect(r.reason).toBe('too-large');
    expect(r.detail).toBe(`envelope is ${raw.length} bytes, over the limit of 1000 (twice the body limit)`);
    expect(r.raw.equals(raw.subarray(0, 32))).toBe(true);
    expect(r.rawSize).toBe(raw.length);
    expect(r.contentType).toBeNull();
  });

  it('a body over maxBodyBytes inside an envelope under the limit is too-large (from the body)', () => {
    const opts = { ...OPTS, maxBodyBytes: 900, maxRawBytes: 16 };
    const body = jsonBytes([{ ...EVENTS['task-failed'], traceback: 't'.repeat(800) }]);
    const raw = redisPayload(body, { bodyEncoding: 'utf-8' });
    expect(raw.length).toBeLessThan(1800);
    const r = onlyRejection(decodeRedisMessage(raw, channel, opts));
    expect(r.reason).toBe('too-large');
    expect(r.rawSize).toBe(body.length);
    expect(r.raw.equals(body.subarray(0, 16))).toBe(true);
    expect(r.contentType).toBe('application/json');
  });

  it('not UTF-8', () => {
    badEnvelope(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /^envelope is not valid UTF-8: /);
  });

  it('not JSON', () => {
    badEnvelope(Buffer.from('{"body": "abc", '), /^envelope is not valid JSON: /);
    badEnvelope(Buffer.alloc(0), /^envelope is not valid JSON: /);
  });

  it.each([
    ['[]', 'envelope is an array ([]), not a JSON object'],
    ['"body"', 'envelope is a string ("body"), not a JSON object'],
    ['null', 'envelope is null, not a JSON object'],
    ['42', 'envelope is a number (42), not a JSON object'],
  ])('%s is not an envelope', (text, detail) => {
    badEnvelope(Buffer.from(text), detail);
  });

  it('body missing or not a string', () => {
    const env = redisEnvelope(EVENTS['task-started']);
    delete env.body;
    badEnvelope(jsonBytes(env), 'envelope has no "body"');
    badEnvelope(jsonBytes({ ...env, body: null }), 'envelope "body" must be a string, got null');
    badEnvelope(jsonBytes({ ...env, body: EVENTS['task-started'] }), /^envelope "body" must be a string, got \{"hostname":"w1@lab"/);
    badEnvelope(jsonBytes({ ...env, body: [1] }), 'envelope "body" must be a string, got [1]');
  });

  it('content-type or content-encoding not a string', () => {
    badEnvelope(redisPayload(EVENTS['task-started'], { contentType: 5 }), 'envelope "content-type" must be a string, got 5');
    badEnvelope(redisPayload(EVENTS['task-started'], { contentEncoding: ['utf-8'] }), 'envelope "content-encoding" must be a string, got ["utf-8"]');
  });

  it.each([
    ['not a multiple of 4', 'eyJ0eXBlIjoieCJ9a'],
    ['a character outside the alphabet', 'eyJ0eXBlIjoi!CJ9'],
    ['the URL-safe alphabet', 'eyJ0eXBlIjoi-CJ9'],
    ['padding in the middle', 'eyJ0==BlIjoieCJ9'],
    ['three padding characters', 'eyJ0eXBlIjoieC==='.slice(1)],
    ['a line break', 'eyJ0eXBl\nIjoieCJ9'],
    ['plain JSON', '{"type":"x"}'],
  ])('invalid base64 (%s) is bad-envelope', (_name, body) => {
    const env = redisEnvelope(EVENTS['task-started']);
    const raw = jsonBytes({ ...env, body });
    const r = badEnvelope(raw, `envelope "body" is not valid base64 (${body.length} characters)`);
    expect(r.contentType).toBe('application/json');
  });

  it('plain JSON body with body_encoding utf-8 or absent is not base64-decoded', () => {
    const env = redisEnvelope(EVENTS['task-started'], { bodyEncoding: 'utf-8' });
    expect(typeof env.body).toBe('string');
    expect((env.body as string).startsWith('{')).toBe(true);
    expect(decodeRedisMessage(jsonBytes(env), channel, OPTS).events).toHaveLength(1);
  });
});

describe('decodeRedisMessage: body rejections', () => {
  it.each([
    [{ compression: 'application/x-gzip' }, 'compressed'],
    [{ compression: true }, 'compressed'],
    [{ compression: null }, null],
    [{ compression: '' }, null],
    [null, null],
    ['not-an-object', null],
  ])('headers %j', (headers, reason) => {
    const result = decode(EVENTS['task-started'], { headers });
    if (reason === null) expect(result.events).toHaveLength(1);
    else expect(onlyRejection(result).reason).toBe(reason);
  });

  it('a pickle content type is refused, never unpickled', () => {
    const pickle = Buffer.from('gASVHgAAAAAAAAB9lIwEdHlwZZSMEHdvcmtlci1oZWFydGJlYXSUcy4=', 'base64');
    const r = onlyRejection(decode(pickle, { contentType: 'application/x-python-serialize', contentEncoding: 'binary' }));
    expect(r.reason).toBe('unsupported-content-type');
    expect(r.contentType).toBe('application/x-python-serialize');
    expect(r.raw.equals(pickle)).toBe(true); // raw is the decoded body, not the envelope
    expect(r.rawSize).toBe(pickle.length);
  });

  it.each([
    ['application/x-yaml', 'utf-8', 'unsupported-content-type'],
    ['application/json', 'binary', 'unsupported-content-type'],
    [null, 'utf-8', null],
    ['application/json; charset=utf-8', 'UTF8', null],
  ])('content-type %j, content-encoding %j', (contentType, contentEncoding, reason) => {
    const result = decode(EVENTS['task-started'], { contentType, contentEncoding });
    if (reason === null) expect(result.events).toHaveLength(1);
    else expect(onlyRejection(result).reason).toBe(reason);
  });

  it('a base64 body that is not UTF-8 is not-utf8', () => {
    const bytes = Buffer.from([0x5b, 0xc3, 0x28, 0x5d]);
    const r = onlyRejection(decode(bytes));
    expect(r.reason).toBe('not-utf8');
    expect(r.raw.equals(bytes)).toBe(true);
  });

  it('a body that is not JSON is not-json, with the body as raw', () => {
    const r = onlyRejection(decode(Buffer.from('{"type": nope}'), { bodyEncoding: 'utf-8' }));
    expect(r.reason).toBe('not-json');
    expect(r.raw.toString()).toBe('{"type": nope}');
  });

  it('a body that is a JSON scalar is not-an-object', () => {
    expect(onlyRejection(decode('"hello"')).reason).toBe('not-an-object');
  });

  it('bad timestamps: negative, far future, 1e400, "NaN"', () => {
    const events = [
      { ...EVENTS['task-started'], timestamp: -1795486235.87 },
      { ...EVENTS['task-started'], timestamp: 4102444800 },
      { ...EVENTS['task-started'], timestamp: 'NaN' },
    ];
    const text = JSON.stringify(events).slice(0, -1) + `, {"type": "task-started", "hostname": "w1@lab", "uuid": "u", "timestamp": 1e400}]`;
    const result = decode(Buffer.from(text));
    expect(result.events).toEqual([]);
    expect(result.rejected.map((r) => r.reason)).toEqual(['bad-timestamp', 'bad-timestamp', 'wrong-field-type', 'bad-timestamp']);
  });
});
