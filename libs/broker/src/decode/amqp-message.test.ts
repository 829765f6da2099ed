import { describe, expect, it } from 'vitest';
import { decodeAmqpMessage } from './amqp-message';
import { EVENTS, EVENT_TYPES, OPTS, amqpMessage, jsonBytes, routingKeyFor, taskBatch } from './test-fixtures';

describe('decodeAmqpMessage', () => {
  it.each(EVENT_TYPES)('%s published on its own routing key', (type) => {
    const result = decodeAmqpMessage(amqpMessage(EVENTS[type], routingKeyFor(type)), OPTS);
    expect(result.rejected).toEqual([]);
    expect(result.events).toHaveLength(1);
    expect(result.events[0]!.type).toBe(type);
    expect(result.events[0]!.fields).toEqual(EVENTS[type]);
  });

  it.each(EVENT_TYPES)('%s inside a task.multi batch', (type) => {
    const batch = [EVENTS['task-received']!, EVENTS[type]!];
    const result = decodeAmqpMessage(amqpMessage(batch, 'task.multi'), OPTS);
    expect(result.rejected).toEqual([]);
    expect(result.events.map((e) => e.type)).toEqual(['task-received', type]);
  });

  it('decodes a 24-event batch and an empty batch', () => {
    const batch = taskBatch(24);
    expect(decodeAmqpMessage(amqpMessage(batch, 'task.multi'), OPTS).events.map((e) => e.fields)).toEqual(batch);
    expect(decodeAmqpMessage(amqpMessage([], 'task.multi'), OPTS)).toEqual({ events: [], rejected: [] });
  });

  it('accepts missing content type, encoding and headers (undefined or null)', () => {
    const content = jsonBytes(EVENTS['worker-heartbeat']);
    expect(decodeAmqpMessage({ content, routingKey: 'worker.heartbeat' }, OPTS).events).toHaveLength(1);
    expect(
      decodeAmqpMessage({ content, routingKey: 'worker.heartbeat', contentType: null, contentEncoding: null, headers: null }, OPTS).events,
    ).toHaveLength(1);
  });

  it.each([
    [{ compression: 'application/x-gzip' }, true],
    [{ compression: 'zlib', hostname: 'w1@lab' }, true],
    [{ compression: null }, false],
    [{ compression: '' }, false],
    [{ hostname: 'w1@lab' }, false],
  ])('headers %j: compressed = %s', (headers, compressed) => {
    const result = decodeAmqpMessage(amqpMessage(EVENTS['task-started'], 'task.started', { headers }), OPTS);
    if (compressed) {
      expect(result.events).toEqual([]);
      expect(result.rejected.map((r) => r.reason)).toEqual(['compressed']);
    } else {
      expect(result.events).toHaveLength(1);
    }
  });

  it('a rejection carries the routing key, content type and bounded raw', () => {
    const content = Buffer.from('x'.repeat(100));
    const result = decodeAmqpMessage(
      { content, routingKey: 'task.multi', contentType: 'application/x-python-serialize', contentEncoding: 'binary' },
      { ...OPTS, maxRawBytes: 10 },
    );
    expect(result.rejected).toEqual([
      {
        reason: 'unsupported-content-type',
        detail: 'unsupported content type "application/x-python-serialize" (pickle is never deserialized); only application/json is accepted',
        routingKey: 'task.multi',
        contentType: 'application/x-python-serialize',
        raw: Buffer.from('x'.repeat(10)),
        rawSize: 100,
      },
    ]);
  });

  it('mixed good and bad elements: good ones kept', () => {
    const result = decodeAmqpMessage(amqpMessage([EVENTS['task-started'], { type: 'task-started' }, EVENTS['task-succeeded']], 'task.multi'), OPTS);
    expect(result.events.map((e) => e.type)).toEqual(['task-started', 'task-succeeded']);
    expect(result.rejected.map((r) => [r.reason, r.detail])).toEqual([['missing-field', 'element 1 of 3: missing field "hostname"']]);
  });
});
