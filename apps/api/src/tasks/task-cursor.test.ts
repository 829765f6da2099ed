/** Unit tests: opaque task cursors round-trip, and anything else is refused with a reason. */
import { describe, expect, it } from 'vitest';
import { decodeTaskCursor, encodeTaskCursor } from './task-cursor';

describe('task cursors', () => {
  it('round-trip the sort key of every order, full precision and any text', () => {
    const cases = [
      [{ field: 'received', direction: 'desc' }, [1795486235.123456, 'a1b2-uuid']],
      [{ field: 'runtime', direction: 'asc' }, [-1, 'x']],
      [{ field: 'name', direction: 'asc' }, ['proj.émoji 😀 "quoted"', 1795486235.25, 'u']],
      [{ field: 'state', direction: 'desc' }, ['SUCCESS', 0, '']],
    ] as const;
    for (const [order, key] of cases) {
      const cursor = encodeTaskCursor(order, key);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeTaskCursor(cursor, order)).toEqual({ ok: true, key });
    }
  });

  it('refuses garbage, other connections and damaged cursors', () => {
    const order = { field: 'received', direction: 'desc' } as const;
    const foreign = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const bad of ['', 'not a cursor!', 'AAAA', foreign({ position: 12 }), foreign(['event', 1, 12]), foreign(['task', 2, 'received', 'desc', 1, 'u'])]) {
      const result = decodeTaskCursor(bad, order);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.problem).toMatch(/not a cursor of the tasks connection/);
    }
    for (const damaged of [
      foreign(['task', 1, 'received', 'desc', 'not-a-number', 'u']),
      foreign(['task', 1, 'received', 'desc', 1]),
      foreign(['task', 1, 'colour', 'desc', 1, 'u']),
      foreign(['task', 1, 'received', 'sideways', 1, 'u']),
      foreign(['task', 1, 'name', 'asc', 1, 2, 'u']),
      foreign(['task', 1, 'received', 'desc', 1, 'u\u0000']), // no stored uuid holds NUL (and Postgres refuses it)
    ]) {
      const result = decodeTaskCursor(damaged, order);
      expect(!result.ok && result.problem).toMatch(/damaged/);
    }
    expect(decodeTaskCursor('A'.repeat(5000), order).ok).toBe(false);
  });

  it('refuses a cursor issued for another order, naming both', () => {
    const cursor = encodeTaskCursor({ field: 'name', direction: 'asc' }, ['a', 1, 'u']);
    const result = decodeTaskCursor(cursor, { field: 'received', direction: 'desc' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toBe(
      'it was issued for orderBy {field: NAME, direction: ASC}, not {field: RECEIVED, direction: DESC}: keep the orderBy of the first page, or start again without after',
    );
    expect(decodeTaskCursor(cursor, { field: 'name', direction: 'desc' }).ok).toBe(false);
  });
});
