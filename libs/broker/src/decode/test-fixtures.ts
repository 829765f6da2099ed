/**
 * Realistic Celery event payloads and transport wrappers for the decode tests (modelled on events
 * captured from python3-celery 5.2.6 workers; see the wire-protocol reference, section 2).
 * Test support only: nothing in the decoder imports this file.
 */
import { DEFAULT_DECODE_OPTIONS, type DecodeOptions } from '../celery-event';
import type { AmqpEventMessage } from './amqp-message';

/** "Now" for every test: a few seconds after the captured example's timestamp. */
export const NOW = 1795486300;
export const TS = 1795486235.8666906;
export const OPTS: DecodeOptions = { ...DEFAULT_DECODE_OPTIONS, now: NOW };

export const TASK_ID = 'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9';
const ROOT_ID = '0b5e5b0a-7d0f-4a4e-9f3c-3c1c0c7b8e11';
const WORKER = { hostname: 'w1@lab', utcoffset: 0, pid: 7990 };

export type EventFixture = Record<string, unknown> & { type: string; hostname: string; timestamp: number };

/** One event of every type in the reference table, plus unknown types that must be kept. */
export const EVENTS: Record<string, EventFixture> = {
  'task-sent': {
    hostname: 'gen8123@lab', utcoffset: 0, pid: 8123, clock: 3, uuid: TASK_ID, root_id: TASK_ID, parent_id: null,
    name: 'tasks.add', args: '(2, 3)', kwargs: '{}', retries: 0, eta: null, expires: null,
    queue: 'celery', exchange: '', routing_key: 'celery', timestamp: TS - 0.01, type: 'task-sent',
  },
  'task-received': {
    ...WORKER, clock: 14, uuid: TASK_ID, name: 'tasks.add', args: '(2, 3)', kwargs: '{}', root_id: ROOT_ID,
    parent_id: null, retries: 0, eta: '2026-11-23T10:00:00.000000+00:00', expires: null, timestamp: TS - 0.005,
    type: 'task-received',
  },
  'task-started': { ...WORKER, clock: 16, uuid: TASK_ID, timestamp: TS - 0.001, type: 'task-started' },
  'task-succeeded': { ...WORKER, clock: 17, uuid: TASK_ID, result: '5', runtime: 0.00029, timestamp: TS, type: 'task-succeeded' },
  'task-failed': {
    ...WORKER, clock: 18, uuid: TASK_ID, exception: "ZeroDivisionError('division by zero')",
    traceback: 'Traceback (most recent call last):\n  File "tasks.py", line 9, in div\n    return a / b\nZeroDivisionError: division by zero\n',
    timestamp: TS + 0.1, type: 'task-failed',
  },
  'task-retried': {
    ...WORKER, clock: 19, uuid: TASK_ID, exception: "Retry('Retry in 10s')", traceback: 'Traceback …\ncelery.exceptions.Retry: Retry in 10s\n',
    timestamp: TS + 0.2, type: 'task-retried',
  },
  'task-rejected': { ...WORKER, clock: 20, uuid: TASK_ID, requeue: false, timestamp: TS + 0.3, type: 'task-rejected' },
  'task-revoked': {
    ...WORKER, clock: 21, uuid: TASK_ID, terminated: true, signum: 15, expired: false, timestamp: TS + 0.4, type: 'task-revoked',
  },
  'task-cancelled': { ...WORKER, clock: 22, uuid: TASK_ID, timestamp: TS + 0.5, type: 'task-cancelled' },
  'worker-online': {
    ...WORKER, clock: 1, freq: 2.0, active: 0, processed: 0, loadavg: [0.41, 0.33, 0.29], sw_ident: 'py-celery',
    sw_ver: '5.2.6', sw_sys: 'Linux', timestamp: TS - 60, type: 'worker-online',
  },
  'worker-heartbeat': {
    ...WORKER, clock: 30, freq: 2.0, active: 1, processed: 42, loadavg: [0.52, 0.35, 0.3], sw_ident: 'py-celery',
    sw_ver: '5.2.6', sw_sys: 'Linux', timestamp: TS + 1.5, type: 'worker-heartbeat',
  },
  'worker-offline': {
    ...WORKER, clock: 31, freq: 2.0, active: 0, processed: 42, loadavg: [0.5, 0.35, 0.3], sw_ident: 'py-celery',
    sw_ver: '5.2.6', sw_sys: 'Linux', timestamp: TS + 9, type: 'worker-offline',
  },
  // Unknown types: stored, never dropped.
  'task-progress': { ...WORKER, clock: 23, uuid: TASK_ID, current: 3, total: 10, timestamp: TS + 0.6, type: 'task-progress' },
  'worker-elect': { ...WORKER, clock: 32, id: 'a1b2', topic: 'lead', action: 'elect', timestamp: TS + 2, type: 'worker-elect' },
};

export const EVENT_TYPES = Object.keys(EVENTS);

/** Routing key Celery uses for a single event: the first `-` becomes `.`. */
export function routingKeyFor(type: string): string {
  return type.replace('-', '.');
}

/** A `task.multi` batch of `n` task events (the worker flushes at 24). */
export function taskBatch(n = 24): EventFixture[] {
  const out: EventFixture[] = [];
  for (let i = 0; i < n; i++) {
    const uuid = `c39d6788-3f60-4ccb-b9ba-${(0xe171b5f57cc9 + i).toString(16).padStart(12, '0')}`;
    const kind = i % 3;
    if (kind === 0) out.push({ ...EVENTS['task-received']!, uuid, clock: 100 + i, timestamp: TS + i / 100 });
    else if (kind === 1) out.push({ ...EVENTS['task-started']!, uuid, clock: 100 + i, timestamp: TS + i / 100 });
    else out.push({ ...EVENTS['task-succeeded']!, uuid, clock: 100 + i, timestamp: TS + i / 100 });
  }
  return out;
}

export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function amqpMessage(body: unknown, routingKey: string, extra: Partial<AmqpEventMessage> = {}): AmqpEventMessage {
  return {
    content: Buffer.isBuffer(body) ? body : jsonBytes(body),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { hostname: 'w1@lab' },
    routingKey,
    ...extra,
  };
}

export interface RedisEnvelopeOptions {
  /** 'base64' (kombu default), 'utf-8' (kombu >= 5.4 option) or undefined (key absent). */
  bodyEncoding?: 'base64' | 'utf-8' | undefined;
  routingKey?: string | null;
  contentType?: unknown;
  contentEncoding?: unknown;
  headers?: unknown;
}

/** kombu's envelope around a body given as bytes (or as a value to serialize as JSON). */
export function redisEnvelope(body: unknown, o: RedisEnvelopeOptions = {}): Record<string, unknown> {
  const bytes = Buffer.isBuffer(body) ? body : jsonBytes(body);
  const encoding = 'bodyEncoding' in o ? o.bodyEncoding : 'base64';
  const properties: Record<string, unknown> = {
    delivery_mode: 1,
    delivery_info: { exchange: 'celeryev', routing_key: o.routingKey === undefined ? 'task.multi' : o.routingKey },
    priority: 0,
    delivery_tag: '6a4d1b1e-2b1d-4b0e-a7d1-0f8d5b3c2e10',
  };
  if (encoding !== undefined) properties.body_encoding = encoding;
  return {
    body: encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8'),
    'content-encoding': 'contentEncoding' in o ? o.contentEncoding : 'utf-8',
    'content-type': 'contentType' in o ? o.contentType : 'application/json',
    headers: 'headers' in o ? o.headers : { hostname: 'w1@lab' },
    properties,
  };
}

export function redisPayload(body: unknown, o: RedisEnvelopeOptions = {}): Buffer {
  return jsonBytes(redisEnvelope(body, o));
}

export function channelFor(routingKey: string): string {
  return `/0.celeryev/${routingKey}`;
}
