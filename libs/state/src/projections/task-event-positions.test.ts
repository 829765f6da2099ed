import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEventPositions } from './task-event-positions';

describe('parseEventPositions', () => {
  it('reads the empty list and ascending lists', () => {
    expect(parseEventPositions('')).toEqual([]);
    expect(parseEventPositions('7')).toEqual([7]);
    expect(parseEventPositions('1,6,50,55')).toEqual([1, 6, 50, 55]);
    expect(parseEventPositions('9007199254740991')).toEqual([Number.MAX_SAFE_INTEGER]);
  });

  it('leaves out what is not a position and restores the order of a damaged list', () => {
    expect(parseEventPositions('3,x,,-1,0,2.5,1e400,9007199254740993,5')).toEqual([3, 5]);
    expect(parseEventPositions('5,3,5,1')).toEqual([1, 3, 5]);
  });

  it('round-trips any ascending list of distinct positions (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { maxLength: 50 }), (values) => {
        const ascending = [...values].sort((a, b) => a - b);
        expect(parseEventPositions(ascending.join(','))).toEqual(ascending);
      }),
    );
  });
});
