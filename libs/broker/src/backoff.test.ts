import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  const opts = { initialMs: 100, maxMs: 5_000 };

  it('doubles per attempt between half and the whole of the capped delay', () => {
    expect(backoffDelay(1, opts, () => 0)).toBe(50);
    expect(backoffDelay(1, opts, () => 1)).toBe(100);
    expect(backoffDelay(2, opts, () => 0)).toBe(100);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
  });

  it('never exceeds the cap, however many attempts', () => {
    for (const attempt of [7, 8, 50, 10_000]) {
      expect(backoffDelay(attempt, opts, () => 1)).toBe(5_000);
      expect(backoffDelay(attempt, opts, () => 0)).toBe(2_500);
    }
  });

  it('spreads delays with jitter', () => {
    const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(5, opts)));
    expect(seen.size).toBeGreaterThan(10);
  });
});
