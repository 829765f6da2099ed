/**
 * How a page of tasks is read on SQLite: a small cost-based choice between three access paths.
 * SQLite's own planner (with or without ANALYZE statistics) reads every row an equality filter
 * matches and sorts them when the order is on another column — every SUCCESS task, 95 % of the
 * table, for `states: [SUCCESS], orderBy: RUNTIME` — and walks a whole order index for a rare range.
 *
 * - `order`: walk the index of the sort order from the cursor, test the filters on each entry, stop
 *   after `rows` matches. A range on the order's own expression bounds the walk.
 * - `lead`: for a list filter whose index continues with the sort order (state, name, worker, parent
 *   or root, then received; names for the name order, states for the state order), one ordered
 *   index range per listed value, merged; a received range narrows each range too.
 * - `driver`: read every row one indexed filter matches (with a received range when its index
 *   continues with received) and sort them. Only when that count is known to be below the cap.
 *
 * Costs are in row reads. An index entry whose columns already reject it costs WALK_ENTRY (SQLite
 * defers reading the row until a column the index lacks is needed); a row read costs 1; a row read
 * and sorted costs DRIVER_WEIGHT. Match counts come from one probe statement that counts up to `cap`
 * index entries per filter (covering index scans, well under a millisecond each) and the table size
 * from max(rowid). Filters are assumed independent, except a list filter and the received range
 * whose joint count is probed; filters without an index (sources, queues, search) are assumed to
 * match everything. As independence fails in practice (REVOKED tasks have no runtime, so walking the
 * runtime order for them passes every task that has one), a walk that tests filters must be
 * estimated WALK_RISK times cheaper than an exactly counted driver to be chosen, and a time range
 * that a walk in another time order meets as one stretch counts as the whole walk.
 */

/** One filter of a query, as far as planning is concerned. */
export interface PlanTerm {
  key: string;
  /** The index able to find its rows; absent for filters no index serves. */
  index?: string;
  /** Values, when it is a list usable as `lead` for this order (one index range per value). */
  leadValues?: number;
  /** Whether it is a range on the sort order's own expression (bounds the `order` walk). */
  boundsOrder?: boolean;
  /** Whether its index continues with received (so a received range narrows its index range). */
  thenReceived?: boolean;
  /**
   * Whether an ordered walk meets its matches as one contiguous stretch rather than spread out: a
   * range on one time (received, started, finished) while the order is by another time, which
   * tracks it closely. The walk may pass the whole index before that stretch.
   */
  correlated?: boolean;
}

export type PlanChoice = { kind: 'order' } | { kind: 'lead'; key: string } | { kind: 'driver'; key: string };

export interface PlanInput {
  /** Rows read for a page: first + 1. */
  rows: number;
  /** The index walked by the `order` path. */
  orderIndex: string;
  terms: readonly PlanTerm[];
  /** Probe counts of the indexed terms (each at most `cap`). */
  counts: ReadonlyMap<string, number>;
  /** Probe counts of a `thenReceived` term together with the received range, when there is one. */
  jointCounts: ReadonlyMap<string, number>;
  /** Estimated number of tasks. */
  total: number;
  /** The probe's bound: a count equal to it means "at least that many". */
  cap: number;
  /** Whether an entry of `index` holds what it takes to test `key` without reading the row. */
  covers(index: string, key: string): boolean;
}

export const WALK_ENTRY = 0.03;
/** Walk costs are estimates under independence; counts are exact: a walk must win by this factor. */
export const WALK_RISK = 3;
export const DRIVER_WEIGHT = 2;
export const RECEIVED_KEY = 'received';

/** Whether the choice depends on match counts at all (else no probe is needed). */
export function needsProbe(terms: readonly PlanTerm[]): boolean {
  const indexed = terms.filter((t) => t.index !== undefined);
  if (indexed.length === 0) return false;
  if (indexed.length > 1) return true;
  const only = indexed[0]!;
  // One indexed filter that bounds the order walk, or leads with one value, reads only matching
  // rows, in order: nothing is cheaper.
  return !(only.boundsOrder || only.leadValues === 1);
}

/** The plan when `needsProbe` is false. */
export function choosePlanWithoutProbe(terms: readonly PlanTerm[]): PlanChoice {
  const lead = terms.find((t) => t.index !== undefined && t.leadValues === 1);
  return lead ? { kind: 'lead', key: lead.key } : { kind: 'order' };
}

export function choosePlan(input: PlanInput): PlanChoice {
  const total = Math.max(1, input.total);
  const indexed = input.terms.filter((t) => t.index !== undefined);
  const received = indexed.find((t) => t.key === RECEIVED_KEY) ?? null;
  const count = (t: PlanTerm) => Math.max(0, input.counts.get(t.key) ?? total);
  const sel = (t: PlanTerm) => Math.min(1, count(t) / total);

  /** Estimated fraction of rows passing every term of `set` (received and one list term jointly). */
  const selectivity = (set: readonly PlanTerm[]): number => {
    let joint: PlanTerm | null = null;
    if (received && set.includes(received)) {
      for (const t of set) {
        const j = input.jointCounts.get(t.key);
        if (j !== undefined && (joint === null || j < input.jointCounts.get(joint.key)!)) joint = t;
      }
    }
    let s = joint ? Math.min(1, input.jointCounts.get(joint.key)! / total) : 1;
    for (const t of set) if (t !== joint && !(joint && t === received)) s *= sel(t);
    return s;
  };

  /** Entries walked in `index` (in order, constrained by `constraints` of `rangeSize` entries) for `rows` matches, and the cost. */
  const walkCost = (index: string, constraints: readonly PlanTerm[], rangeSize: number, branches = 1): number => {
    const rest = indexed.filter((t) => !constraints.includes(t));
    const s = selectivity(rest);
    const correlated = rest.some((t) => t.correlated);
    const entries = s === 0 || correlated ? rangeSize : Math.min(rangeSize, (branches * input.rows) / s);
    const cheap = rest.filter((t) => input.covers(index, t.key));
    const cost = entries * WALK_ENTRY + entries * selectivity(cheap);
    return s < 1 ? cost * WALK_RISK : cost;
  };

  const bound = indexed.find((t) => t.boundsOrder) ?? null;
  let best: PlanChoice = { kind: 'order' };
  let bestCost = walkCost(input.orderIndex, bound ? [bound] : [], bound ? count(bound) : total);

  const rangeOf = (t: PlanTerm): { constraints: PlanTerm[]; size: number } => {
    const joint = received && t.thenReceived ? input.jointCounts.get(t.key) : undefined;
    return joint !== undefined ? { constraints: [t, received!], size: joint } : { constraints: [t], size: count(t) };
  };

  for (const t of indexed) {
    if (!t.leadValues) continue;
    const { constraints, size } = rangeOf(t);
    const cost = walkCost(t.index!, constraints, size, t.leadValues);
    if (cost < bestCost || (cost === bestCost && best.kind === 'order')) {
      best = { kind: 'lead', key: t.key };
      bestCost = cost;
    }
  }
  for (const t of indexed) {
    const { constraints, size } = rangeOf(t);
    if (size >= input.cap) continue; // "at least cap": possibly the whole table
    const rest = indexed.filter((u) => !constraints.includes(u));
    const read = size * selectivity(rest.filter((u) => input.covers(t.index!, u.key)));
    const cost = size * WALK_ENTRY + read * DRIVER_WEIGHT;
    if (cost < bestCost) {
      best = { kind: 'driver', key: t.key };
      bestCost = cost;
    }
  }
  return best;
}
