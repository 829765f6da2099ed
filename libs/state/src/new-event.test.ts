import { describe, expect, it } from 'vitest';
import { eventDedupKey, newEvent } from './new-event';

describe('eventDedupKey', () => {
  it('is the SHA-1 of the stored JSON, base64url: keys already in a database never change', () => {
    expect(eventDedupKey('{"type":"task-received","hostname":"celery@w1","clock":7}')).toBe('0fIGaSFaNXuDj91cHPU7WC8H2z8');
    expect(eventDedupKey('')).toBe('2jmj7l5rSw0yVb_vlWAYkK_YBwk');
  });

  it('is the same for the same fields, whatever the source, and differs when a field does', () => {
    const fields = { type: 'task-started', hostname: 'celery@w1', timestamp: 1.5, clock: 3, uuid: 'u' };
    const base = { type: 'task-started', hostname: 'celery@w1', timestamp: 1.5, clock: 3, uuid: 'u' };
    const a = newEvent('rabbitmq', 10, { ...base, fields });
    const b = newEvent('redis', 11, { ...base, fields: { ...fields } });
    const c = newEvent('rabbitmq', 10, { ...base, fields: { ...fields, clock: 4 } });
    expect(a.dedup_key).toBe(b.dedup_key);
    expect(a.dedup_key).toBe(eventDedupKey(a.payload_json));
    expect(c.dedup_key).not.toBe(a.dedup_key);
  });
});
