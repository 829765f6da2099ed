import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectKth } from './select-kth';

describe('selectKth', () => {
  it('returns what a sort puts at k, with nothing larger before it and nothing smaller after it', () => {
    fc.assert(
      fc.property(
        // Few distinct values as well as many: duplicates are where partitions go wrong.
        fc.oneof(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 200 }), fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 200 })),
        fc.nat(),
        (values, seed) => {
          const a = Float64Array.from(values);
          const sorted = Float64Array.from(values).sort();
          const k = seed % a.length;
          expect(selectKth(a, k)).toBe(sorted[k]);
          for (let i = 0; i < k; i++) expect(a[i]! <= a[k]!).toBe(true);
          for (let i = k + 1; i < a.length; i++) expect(a[i]! >= a[k]!).toBe(true);
          expect(Float64Array.from(a).sort()).toEqual(sorted); // a permutation of the input
        },
      ),
      { numRuns: 500 },
    );
  });

  it('selects within a sub-range, leaving the rest alone', () => {
    const a = Float64Array.from([9, 5, 4, 3, 2, 1, 0]);
    expect(selectKth(a, 2, 1, 5)).toBe(2); // a[1..5] sorted is 1 2 3 4 5, so a[2] is 2
    expect(a[0]).toBe(9);
    expect(a[6]).toBe(0);
  });

  it('handles sorted, reversed and constant inputs', () => {
    const n = 10_001;
    expect(selectKth(Float64Array.from({ length: n }, (_, i) => i), 9_900)).toBe(9_900);
    expect(selectKth(Float64Array.from({ length: n }, (_, i) => n - i), 5_000)).toBe(5_001);
    expect(selectKth(new Float64Array(n).fill(2.5), 7)).toBe(2.5);
  });

  it('refuses a k outside the range', () => {
    expect(() => selectKth(Float64Array.from([1, 2]), 2)).toThrow(/outside \[0, 1\]/);
    expect(() => selectKth(new Float64Array(0), 0)).toThrow(RangeError);
  });
});
