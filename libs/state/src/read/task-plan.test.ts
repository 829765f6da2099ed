/** Unit tests: the SQLite access-path choice for task pages, on 1 M tasks of realistic shape. */
import { describe, expect, it } from 'vitest';
import { choosePlan, choosePlanWithoutProbe, needsProbe, type PlanInput, type PlanTerm } from './task-plan';

const N = 1_000_000;
const CAP = 8000;

/** Which filters the entries of each index can test (as in task-queries.ts). */
const COVERS: Record<string, string[]> = {
  received: ['received', 'states'],
  started: ['started', 'states'],
  runtime: ['runtime', 'states'],
  state: ['states', 'received'],
  name: ['names', 'received', 'states'],
  worker: ['workers', 'received', 'states'],
};

function input(terms: PlanTerm[], counts: Record<string, number>, orderIndex: string, joint: Record<string, number> = {}): PlanInput {
  return {
    rows: 51,
    orderIndex,
    terms,
    counts: new Map(Object.entries(counts).map(([k, v]) => [k, Math.min(v, CAP)])),
    jointCounts: new Map(Object.entries(joint).map(([k, v]) => [k, Math.min(v, CAP)])),
    total: N,
    cap: CAP,
    covers: (index, key) => COVERS[index]?.includes(key) ?? false,
  };
}

const states = (values: number, lead = false): PlanTerm => ({ key: 'states', index: 'state', thenReceived: true, ...(lead ? { leadValues: values } : {}) });
const names = (values: number, lead = false): PlanTerm => ({ key: 'names', index: 'name', thenReceived: true, ...(lead ? { leadValues: values } : {}) });
const received = (bounds = false): PlanTerm => ({ key: 'received', index: 'received', ...(bounds ? { boundsOrder: true } : { correlated: true }) });
const runtime = (bounds = false): PlanTerm => ({ key: 'runtime', index: 'runtime', ...(bounds ? { boundsOrder: true } : {}) });
const sources: PlanTerm = { key: 'sources' };

describe('needsProbe', () => {
  it('is not needed without indexed filters, or with one that bounds the walk or leads with one value', () => {
    expect(needsProbe([])).toBe(false);
    expect(needsProbe([sources])).toBe(false);
    expect(needsProbe([states(1, true)])).toBe(false);
    expect(needsProbe([received(true), sources])).toBe(false);
    expect(choosePlanWithoutProbe([states(1, true), sources])).toEqual({ kind: 'lead', key: 'states' });
    expect(choosePlanWithoutProbe([received(true)])).toEqual({ kind: 'order' });
  });

  it('is needed when the cheapest path depends on how many rows match', () => {
    expect(needsProbe([states(1)])).toBe(true); // a state filter, ordered by runtime
    expect(needsProbe([states(2, true)])).toBe(true);
    expect(needsProbe([states(1, true), received(true)])).toBe(true);
  });
});

describe('choosePlan', () => {
  it('walks the order index for a common state (the walk stops early)', () => {
    expect(choosePlan(input([states(1)], { states: 30_000 }, 'runtime'))).toEqual({ kind: 'order' });
    expect(choosePlan(input([states(1)], { states: 950_000 }, 'runtime'))).toEqual({ kind: 'order' });
  });

  it('reads and sorts the few rows of a rare state rather than walking past a million', () => {
    expect(choosePlan(input([states(1)], { states: 1000 }, 'runtime'))).toEqual({ kind: 'driver', key: 'states' });
    expect(choosePlan(input([states(1)], { states: 0 }, 'runtime'))).toEqual({ kind: 'driver', key: 'states' });
  });

  it('never sorts a filter counted at the cap: it may match the whole table', () => {
    const plan = choosePlan(input([states(1), names(1)], { states: 950_000, names: 200_000 }, 'runtime'));
    expect(plan).toEqual({ kind: 'order' });
  });

  it('merges one index range per listed state in received order', () => {
    expect(choosePlan(input([states(2, true)], { states: 950_000 }, 'received'))).toEqual({ kind: 'lead', key: 'states' });
    expect(choosePlan(input([states(2, true)], { states: 2000 }, 'received'))).toEqual({ kind: 'lead', key: 'states' });
  });

  it('reads a rare runtime range and sorts it by received', () => {
    expect(choosePlan(input([runtime()], { runtime: 45 }, 'received'))).toEqual({ kind: 'driver', key: 'runtime' });
  });

  it('uses the joint count of a state and the received range: few failures in the last hour', () => {
    // Alone each matches thousands; together ~2000, read through (state, received) and sorted.
    const plan = choosePlan(input([states(1), received()], { states: 30_000, received: 72_000 }, 'started', { states: 2000 }));
    expect(plan).toEqual({ kind: 'driver', key: 'states' });
  });

  it('bounds the walk by a range on the order itself', () => {
    expect(choosePlan(input([received(true), sources], { received: 72_000 }, 'received'))).toEqual({ kind: 'order' });
  });

  it('prefers the lead of a rare name over walking a state index', () => {
    const plan = choosePlan(input([names(1, true), states(1, true)], { names: 20_000, states: 950_000 }, 'received'));
    expect(plan).toEqual({ kind: 'lead', key: 'names' });
  });
});
