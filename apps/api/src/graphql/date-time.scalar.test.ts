import { describe, expect, it } from 'vitest';
import { Kind } from 'graphql';
import { DateTimeScalar, parseRfc3339 } from './date-time.scalar';

const ms = (text: string) => {
  const r = parseRfc3339(text);
  return r.ok ? r.date.getTime() : r.problem;
};

describe('DateTime scalar', () => {
  it('reads RFC 3339 date-times with Z or an offset, fractions to the millisecond', () => {
    expect(ms('2026-11-24T09:54:33Z')).toBe(Date.UTC(2026, 10, 24, 9, 54, 33));
    expect(ms('2026-11-24t09:54:33z')).toBe(Date.UTC(2026, 10, 24, 9, 54, 33));
    expect(ms('2026-11-24 09:54:33Z')).toBe(Date.UTC(2026, 10, 24, 9, 54, 33));
    expect(ms('2026-11-24T10:54:33.250+01:00')).toBe(Date.UTC(2026, 10, 24, 9, 54, 33, 250));
    expect(ms('2026-11-24T04:24:33.1234567-05:30')).toBe(Date.UTC(2026, 10, 24, 9, 54, 33, 123));
    expect(ms('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(ms('0050-01-01T00:00:00Z')).toBe(new Date('0050-01-01T00:00:00Z').getTime());
  });

  it('refuses a missing zone, impossible dates and times, and other shapes, saying what it expects', () => {
    for (const bad of ['2026-11-24T09:54:33', '2026-11-24', '1795486239', 'yesterday', '2026-11-24T09:54Z', '2026-11-24T09:54:33+0100', '']) {
      expect(ms(bad), bad).toMatch(/^expected an RFC 3339 date-time with a zone/);
    }
    expect(ms('2026-02-29T00:00:00Z')).toMatch(/not a calendar date \(month 02 has no day 29\)/);
    expect(ms('2026-04-31T00:00:00Z')).toMatch(/not a calendar date/);
    expect(ms('2026-13-01T00:00:00Z')).toMatch(/not a calendar date/);
    expect(ms('2026-11-24T24:00:00Z')).toMatch(/not a time of day/);
    expect(ms('2026-11-24T23:59:60Z')).toMatch(/not a time of day/);
    expect(ms('2026-11-24T00:00:00+24:00')).toMatch(/impossible offset/);
  });

  it('refuses numbers (variables and literals) instead of reading them as milliseconds or dropping them', () => {
    expect(() => DateTimeScalar.parseValue(1795486239)).toThrow(/must be a string.*not a number of seconds or milliseconds/);
    expect(() => DateTimeScalar.parseLiteral({ kind: Kind.INT, value: '1795486239' })).toThrow(/must be a string/);
    expect(DateTimeScalar.parseLiteral({ kind: Kind.STRING, value: '2026-11-24T09:54:33Z' })).toEqual(new Date(Date.UTC(2026, 10, 24, 9, 54, 33)));
  });

  it('writes instants at UTC with milliseconds', () => {
    expect(DateTimeScalar.serialize(new Date(Date.UTC(2026, 10, 24, 9, 54, 33, 250)))).toBe('2026-11-24T09:54:33.250Z');
    expect(() => DateTimeScalar.serialize(new Date(NaN))).toThrow();
  });
});
