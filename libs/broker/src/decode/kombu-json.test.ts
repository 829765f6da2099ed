import { describe, expect, it } from 'vitest';
import { canonicalUuid, reviveKombuTypes } from './kombu-json';

const as = (t: string, v: unknown) => ({ __type__: t, __value__: v });

describe('reviveKombuTypes', () => {
  it.each([
    ['datetime', '2026-11-23T10:00:00.123456+00:00'],
    ['datetime', '2026-11-23T10:00:00'],
    ['date', '2026-11-23'],
    ['time', '10:00:00.500000'],
    ['decimal', '3.14159265358979323846'],
    ['decimal', 'NaN'],
    ['bytes', 'hello \u00e9'],
    ['base64', '//79/A=='],
  ])('decodes %s to its string form', (type, value) => {
    expect(reviveKombuTypes(as(type, value))).toBe(value);
  });

  it('decodes uuid {hex, version} (kombu 5.3 encoder) to the canonical dashed form', () => {
    expect(reviveKombuTypes(as('uuid', { hex: 'c39d67883f604ccbb9bae171b5f57cc9', version: 4 }))).toBe(
      'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9',
    );
    expect(reviveKombuTypes(as('uuid', { hex: 'C39D67883F604CCBB9BAE171B5F57CC9' }))).toBe('c39d6788-3f60-4ccb-b9ba-e171b5f57cc9');
    expect(reviveKombuTypes(as('uuid', 'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9'))).toBe('c39d6788-3f60-4ccb-b9ba-e171b5f57cc9');
  });

  it('keeps a uuid object whose hex is not 32 hex digits', () => {
    for (const bad of [{ hex: 'xyz' }, { hex: 'c39d67883f604ccbb9bae171b5f57cc' }, { version: 4 }, 42, null]) {
      const tagged = as('uuid', bad);
      expect(reviveKombuTypes(tagged)).toBe(tagged);
    }
  });

  it('leaves unknown types and malformed known types as they are', () => {
    const unknown = as('myapp.Money', { amount: '1.00', currency: 'EUR' });
    expect(reviveKombuTypes(unknown)).toBe(unknown);
    const notString = as('datetime', 1795486235);
    expect(reviveKombuTypes(notString)).toBe(notString);
    const typeNotString = { __type__: 5, __value__: 'x' };
    expect(reviveKombuTypes(typeNotString)).toBe(typeNotString);
  });

  it('only decodes objects with exactly the two keys __type__ and __value__', () => {
    const extra = { __type__: 'datetime', __value__: '2026-11-23T10:00:00', other: 1 };
    expect(reviveKombuTypes(extra)).toBe(extra);
    const onlyType = { __type__: 'datetime' };
    expect(reviveKombuTypes(onlyType)).toBe(onlyType);
  });

  it('decodes nested values in objects and arrays, innermost first', () => {
    const input = {
      type: 'task-received',
      eta: as('datetime', '2026-11-23T10:00:00+00:00'),
      list: [1, as('decimal', '1.5'), { deep: [as('date', '2026-11-23')] }],
      outer: as('bytes', 'ok'),
    };
    expect(reviveKombuTypes(input)).toEqual({
      type: 'task-received',
      eta: '2026-11-23T10:00:00+00:00',
      list: [1, '1.5', { deep: ['2026-11-23'] }],
      outer: 'ok',
    });
  });

  it('decodes a typed value whose own value contains typed values (bottom-up, like object_hook)', () => {
    // Not produced by kombu's encoders, but the hook order is innermost first.
    expect(reviveKombuTypes(as('uuid', { hex: as('bytes', 'c39d67883f604ccbb9bae171b5f57cc9') }))).toBe(
      'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9',
    );
  });

  it('passes kombu 5.2 plain ISO strings and every other plain JSON value through', () => {
    for (const v of ['2026-11-23T10:00:00.123456+00:00', 1, 1.5, true, false, null, 'x', [], {}]) {
      expect(reviveKombuTypes(v)).toBe(v);
    }
  });

  it('returns the same reference when nothing is decoded (no allocation on the common path)', () => {
    const event = { type: 'worker-heartbeat', hostname: 'w1@lab', loadavg: [0.1, 0.2, 0.3], nested: { a: [{ b: 1 }] } };
    expect(reviveKombuTypes(event)).toBe(event);
  });

  it('never modifies its input (copy-on-write)', () => {
    const inner = { x: as('decimal', '2.50') };
    const input = { keep: { untouched: true }, inner, arr: [as('bytes', 'b')] };
    const snapshot = structuredClone(input);
    const out = reviveKombuTypes(input) as typeof input;
    expect(input).toEqual(snapshot);
    expect(out).not.toBe(input);
    expect(out.keep).toBe(input.keep); // unchanged branches are shared, not copied
    expect(out.inner).toEqual({ x: '2.50' });
    expect(out.arr).toEqual(['b']);
  });

  it('keeps a "__proto__" key as an own property when copying (no prototype change)', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "eta": {"__type__": "datetime", "__value__": "2026-01-01"}}') as Record<
      string,
      unknown
    >;
    const out = reviveKombuTypes(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    expect(out.eta).toBe('2026-01-01');
  });

  it('survives hostile nesting depth without throwing', () => {
    let deep: unknown = as('decimal', '1');
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => reviveKombuTypes(deep)).not.toThrow();
  });

  it('leaves non-plain objects (Buffer, Date, class instances) alone', () => {
    const buf = Buffer.from('abc');
    const date = new Date(0);
    expect(reviveKombuTypes(buf)).toBe(buf);
    expect(reviveKombuTypes(date)).toBe(date);
  });
});

describe('canonicalUuid', () => {
  it('normalizes hex, dashed, braced and upper-case forms', () => {
    const want = 'c39d6788-3f60-4ccb-b9ba-e171b5f57cc9';
    expect(canonicalUuid('c39d67883f604ccbb9bae171b5f57cc9')).toBe(want);
    expect(canonicalUuid('{C39D6788-3F60-4CCB-B9BA-E171B5F57CC9}')).toBe(want);
  });
  it('rejects anything else', () => {
    expect(canonicalUuid('')).toBeNull();
    expect(canonicalUuid('g39d67883f604ccbb9bae171b5f57cc9')).toBeNull();
    expect(canonicalUuid('c39d67883f604ccbb9bae171b5f57cc9aa')).toBeNull();
  });
});
