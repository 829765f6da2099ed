/**
 * Aggregate statistics over the tasks projection for dashboards: counts by state, throughput per
 * time bucket, and per task name counts, failure rates, runtime and queue-wait percentiles.
 *
 * One scan, one code path for both databases: a single portable SELECT streams the window's tasks
 * (a few values each: name, state, bucket indexes of arrival and finish, runtime, queue wait) and
 * everything is aggregated here as the rows stream by, whatever the number of names (no query per
 * name). Streaming bounds memory to the values percentiles need: SQLite through better-sqlite3's
 * row iterator (yielding to the event loop every STREAM_YIELD_ROWS rows), Postgres through a
 * cursor fetched STREAM_FETCH_ROWS rows at a time in one transaction (one snapshot).
 *
 * Why not SQL window functions (row_number() over (partition by name order by runtime) and its
 * global twin, for runtime and wait, plus the GROUP BYs): that one portable statement costs 4-7
 * sorts of the whole window. Measured on a day of 1 000 000 tasks on a 2-CPU machine it took
 * 14-20 s on SQLite (no hash aggregation; the sorts spill) and 13-16 s on Postgres (external
 * merges at the default work_mem), against about 2 s and 3 s for this scan. Neither database's
 * percentile functions are used, so both give identical numbers.
 *
 * Percentiles are nearest-rank: for the n values sorted ascending v1 ≤ … ≤ vn, the p-th percentile
 * is v_k with k = ⌈p·n/100⌉ (computed exactly in integers), so it is always one of the observed
 * values (p50 of [1, 2, 3, 4] is 2; p95 and p99 of fewer than 20 values are the largest one).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { selectKth } from './select-kth';
import type { Database } from '../database';
import type { DB } from '../schema';

/** Most time buckets one stats query may ask for. */
export const MAX_STATS_BUCKETS = 10_000;

export interface StatsQuery {
  /** Epoch seconds, inclusive. */
  from: number;
  /** Epoch seconds, exclusive. */
  to: number;
  /** Width of a throughput bucket, seconds (> 0). */
  bucketSeconds: number;
}

export interface PercentileSummary {
  /** How many values the percentiles are over. */
  count: number;
  /** Nearest-rank percentiles (null when count is 0). */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface StateCount {
  state: string;
  count: number;
}

export interface ThroughputBucket {
  /** Epoch seconds: from + index × bucketSeconds; the bucket is [start, start + bucketSeconds) ∩ [from, to). */
  start: number;
  /** Tasks that reached SUCCESS, FAILURE or REVOKED in the bucket (by state time). */
  finished: number;
  succeeded: number;
  failed: number;
  revoked: number;
  /** Tasks that arrived in the bucket (received, or sent when never received). */
  received: number;
}

export interface TaskNameStats {
  /** Task name; null for tasks whose name no event told. */
  name: string | null;
  count: number;
  states: StateCount[];
  succeeded: number;
  failures: number;
  /** failures / (succeeded + failures); null when none of them finished that way. */
  failureRate: number | null;
  /** Runtime (seconds) of SUCCESS and FAILURE tasks that report one. */
  runtime: PercentileSummary;
  /** started − received (seconds) of tasks whose current run has started (started ≥ received: not a retry received again). */
  queueWait: PercentileSummary;
}

export interface TaskStats {
  from: number;
  to: number;
  bucketSeconds: number;
  /** Tasks that arrived in [from, to). */
  total: number;
  /** By state, most frequent first (ties by state). */
  states: StateCount[];
  /** Every bucket of [from, to), in time order, empty ones included. */
  throughput: ThroughputBucket[];
  runtime: PercentileSummary;
  queueWait: PercentileSummary;
  /** By name, most tasks first (ties by name, unnamed last). */
  names: TaskNameStats[];
}

/**
 * Number of buckets covering [from, to): ⌈(to − from) / bucket⌉, ignoring a last sliver narrower
 * than a millionth of a bucket that only the rounding of millisecond dates to binary creates.
 */
export function statsBucketCount(from: number, to: number, bucketSeconds: number): number {
  return Math.max(1, Math.ceil((to - from) / bucketSeconds - 1e-6));
}

/** Rows per cursor FETCH on Postgres. */
export const STREAM_FETCH_ROWS = 20_000;
/**
 * Rows between two yields to the event loop while SQLite streams (better-sqlite3 is synchronous):
 * about 2 µs a row, so the API's other work (live delivery, other requests) waits at most a few ms.
 */
export const STREAM_YIELD_ROWS = 2_000;

/** One task of the window, as the scan returns it (column order of scanQuery). */
type ScanRow = [name: string | null, state: string, finishedBucket: number | null, arrivedBucket: number, runtime: number | null, wait: number | null];

interface ScanObject {
  name: string | null;
  state: string;
  finished_bucket: number | null;
  arrived_bucket: number;
  runtime: number | null;
  wait: number | null;
}

export interface StatsStreamOptions {
  /** Rows per cursor FETCH on Postgres (default STREAM_FETCH_ROWS). */
  fetchRows?: number;
  /** Rows between yields to the event loop on SQLite (default STREAM_YIELD_ROWS). */
  yieldRows?: number;
}

export class StatsQueries {
  private readonly fetchRows: number;
  private readonly yieldRows: number;

  constructor(
    private readonly database: Pick<Database, 'db' | 'dialect' | 'sqlite' | 'openSqliteReader'>,
    options: StatsStreamOptions = {},
  ) {
    this.fetchRows = options.fetchRows ?? STREAM_FETCH_ROWS;
    this.yieldRows = options.yieldRows ?? STREAM_YIELD_ROWS;
  }

  async taskStats(query: StatsQuery): Promise<TaskStats> {
    const { from, to, bucketSeconds } = query;
    if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) throw new RangeError(`stats need from < to, got ${from} and ${to}`);
    if (!Number.isFinite(bucketSeconds) || bucketSeconds <= 0) throw new RangeError(`stats need a positive bucket, got ${bucketSeconds}`);
    const bucketCount = statsBucketCount(from, to, bucketSeconds);
    if (bucketCount > MAX_STATS_BUCKETS) throw new RangeError(`stats over ${bucketCount} buckets: at most ${MAX_STATS_BUCKETS}`);
    const acc = new StatsAccumulator(query, bucketCount);
    await this.scan(query, acc);
    return acc.result();
  }

  /**
   * Tasks that arrived in [from, to): received then, or sent then when never received. Written
   * as two disjoint conditions on `coalesce(received_at, -1)`, the expression of the
   * tasks_received_order index (migration 0002), so that a window much shorter than the history
   * reads only its own index range (never-received tasks are that index's -1 entry). Postgres
   * chooses between the index and a sequential scan from its statistics; SQLite cannot estimate a
   * range, so `indexed: false` writes the expression as `+coalesce(…)`, which no index matches.
   */
  private scanQuery(db: Kysely<DB>, { from, to, bucketSeconds }: StatsQuery, indexed = true) {
    const received = indexed ? sql<number>`coalesce(received_at, -1)` : sql<number>`+coalesce(received_at, -1)`;
    // Bucket indexes, not times: small integers are far cheaper to transfer and parse than
    // 17-digit doubles (IEEE floor((t − from) / bucket) is the same in both databases and JS).
    const bucketOf = (t: RawBuilder<unknown>) => sql<number>`floor((${t} - ${from}) / ${bucketSeconds})`;
    const finished = sql`state in ('SUCCESS', 'FAILURE', 'REVOKED') and state_at >= ${from} and state_at < ${to}`;
    return db
      .selectFrom('tasks')
      .select([
        'name',
        'state',
        sql<number | null>`case when ${finished} then ${bucketOf(sql.ref('state_at'))} end`.as('finished_bucket'),
        bucketOf(sql`coalesce(received_at, sent_at)`).as('arrived_bucket'),
        sql<number | null>`case when state in ('SUCCESS', 'FAILURE') then runtime end`.as('runtime'),
        // A task received again after its last start (a retry's new run) has not started that run yet.
        sql<number | null>`case when started_at >= received_at then started_at - received_at end`.as('wait'),
      ])
      .where((eb) =>
        eb.or([
          eb.and([eb(received, '>=', from), eb(received, '<', to), eb('received_at', 'is not', null)]),
          eb.and([eb(received, '=', sql<number>`-1`), eb('received_at', 'is', null), eb('sent_at', '>=', from), eb('sent_at', '<', to)]),
        ]),
      );
  }

  private async scan(query: StatsQuery, acc: StatsAccumulator): Promise<void> {
    const { db, sqlite } = this.database;
    if (this.database.dialect === 'sqlite' && sqlite) {
      const scanOn = async (handle: typeof sqlite) => {
        const compiled = this.scanQuery(db, query, !sqliteWindowIsLarge(handle, query)).compile();
        const rows = handle.prepare(compiled.sql).raw(true).iterate(...(compiled.parameters as unknown[]));
        let n = 0;
        for (const row of rows) {
          acc.add(row as ScanRow);
          if (++n % this.yieldRows === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        }
      };
      // A connection of its own (one read snapshot for the whole scan): while the scan yields,
      // the shared connection serves everything else — the live log tail, task pages — instead of
      // waiting for a scan of a million rows.
      const reader = this.database.openSqliteReader();
      if (reader) {
        try {
          await scanOn(reader);
        } finally {
          reader.close();
        }
        return;
      }
      // `:memory:` has no second connection: hold the shared one, so that no other statement
      // runs on the handle while the iterator is open (they wait for it).
      await db.connection().execute(() => scanOn(sqlite));
      return;
    }
    await db.transaction().execute(async (trx) => {
      await sql`declare stats_scan no scroll cursor for ${this.scanQuery(trx, query)}`.execute(trx);
      for (;;) {
        const { rows } = await sql<ScanObject>`fetch forward ${sql.lit(this.fetchRows)} from stats_scan`.execute(trx);
        for (const r of rows) acc.add([r.name, r.state, r.finished_bucket, r.arrived_bucket, r.runtime, r.wait]);
        if (rows.length < this.fetchRows) break;
      }
      await sql`close stats_scan`.execute(trx);
    });
  }
}

/** Above this share of the received-time history, SQLite reads the whole table rather than the index. */
const SQLITE_SCAN_SHARE = 1 / 3;

/**
 * Whether the window covers a large share of the tasks' received-time span (read from both ends
 * of tasks_received_order: two index seeks). Reading rows through the index costs SQLite about
 * 2.5× a sequential scan per row (measured on a million tasks: 3.0 s vs 1.2 s for all of them,
 * 0.1 s vs 0.2 s for a thirtieth), so past about a third of the history the scan wins.
 */
function sqliteWindowIsLarge(sqlite: NonNullable<Database['sqlite']>, { from, to }: StatsQuery): boolean {
  const span = sqlite
    .prepare(
      `select (select coalesce(received_at, -1) from tasks where coalesce(received_at, -1) >= 0 order by coalesce(received_at, -1) limit 1) as lo,
              (select coalesce(received_at, -1) from tasks order by coalesce(received_at, -1) desc limit 1) as hi`,
    )
    .get() as { lo: number | null; hi: number | null };
  if (span.lo === null || span.hi === null) return false;
  const overlap = Math.min(to, span.hi) - Math.max(from, span.lo);
  return overlap > 0 && overlap >= (span.hi - span.lo) * SQLITE_SCAN_SHARE;
}

/** The rank (1-based) of the p-th percentile among n sorted values: ⌈p·n/100⌉, exactly. */
export function nearestRank(p: number, n: number): number {
  const a = p * n + 99;
  return (a - (a % 100)) / 100;
}

/**
 * Nearest-rank percentiles of the values (reordered in place, not sorted): p99 is selected in the
 * whole array, p95 among the values at or below it, p50 among those at or below p95, and the max
 * among the values at or above p99.
 */
export function percentiles(values: Float64Array): PercentileSummary {
  const n = values.length;
  if (n === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const k99 = Math.max(1, nearestRank(99, n)) - 1;
  const k95 = Math.max(1, nearestRank(95, n)) - 1;
  const k50 = Math.max(1, nearestRank(50, n)) - 1;
  const p99 = selectKth(values, k99, 0, n - 1);
  const p95 = selectKth(values, k95, 0, k99);
  const p50 = selectKth(values, k50, 0, k95);
  let max = p99;
  for (let i = k99 + 1; i < n; i++) if (values[i]! > max) max = values[i]!;
  return { count: n, p50, p95, p99, max };
}

interface NameAcc {
  name: string | null;
  count: number;
  states: Map<string, number>;
  runtimes: number[];
  waits: number[];
}

class StatsAccumulator {
  private readonly names = new Map<string | null, NameAcc>();
  private readonly buckets: ThroughputBucket[];
  private total = 0;

  constructor(
    private readonly query: StatsQuery,
    private readonly bucketCount: number,
  ) {
    this.buckets = Array.from({ length: bucketCount }, (_, i) => ({
      start: query.from + i * query.bucketSeconds,
      finished: 0,
      succeeded: 0,
      failed: 0,
      revoked: 0,
      received: 0,
    }));
  }

  /** A bucket by index (of a time in [from, to)); the sliver statsBucketCount ignores goes to the last one. */
  private bucket(index: number): ThroughputBucket {
    return this.buckets[Math.min(Number(index), this.bucketCount - 1)]!;
  }

  add([name, state, finishedBucket, arrivedBucket, runtime, wait]: ScanRow): void {
    let s = this.names.get(name);
    if (!s) {
      s = { name, count: 0, states: new Map(), runtimes: [], waits: [] };
      this.names.set(name, s);
    }
    s.count++;
    s.states.set(state, (s.states.get(state) ?? 0) + 1);
    this.total++;
    if (runtime !== null) s.runtimes.push(runtime);
    if (wait !== null) s.waits.push(wait);
    this.bucket(arrivedBucket).received++;
    if (finishedBucket !== null) {
      const b = this.bucket(finishedBucket);
      b.finished++;
      if (state === 'SUCCESS') b.succeeded++;
      else if (state === 'FAILURE') b.failed++;
      else b.revoked++;
    }
  }

  result(): TaskStats {
    const byState = byCountThenKey<StateCount>((s) => s.state);
    const states = new Map<string, number>();
    let runtimeCount = 0;
    let waitCount = 0;
    for (const s of this.names.values()) {
      runtimeCount += s.runtimes.length;
      waitCount += s.waits.length;
      for (const [state, count] of s.states) states.set(state, (states.get(state) ?? 0) + count);
    }
    const allRuntimes = new Float64Array(runtimeCount);
    const allWaits = new Float64Array(waitCount);
    let r = 0;
    let w = 0;
    const names: TaskNameStats[] = [];
    for (const s of this.names.values()) {
      allRuntimes.set(s.runtimes, r);
      r += s.runtimes.length;
      allWaits.set(s.waits, w);
      w += s.waits.length;
      const succeeded = s.states.get('SUCCESS') ?? 0;
      const failures = s.states.get('FAILURE') ?? 0;
      names.push({
        name: s.name,
        count: s.count,
        states: [...s.states].map(([state, count]) => ({ state, count })).sort(byState),
        succeeded,
        failures,
        failureRate: succeeded + failures === 0 ? null : failures / (succeeded + failures),
        runtime: percentiles(Float64Array.from(s.runtimes)),
        queueWait: percentiles(Float64Array.from(s.waits)),
      });
    }
    return {
      from: this.query.from,
      to: this.query.to,
      bucketSeconds: this.query.bucketSeconds,
      total: this.total,
      states: [...states].map(([state, count]) => ({ state, count })).sort(byState),
      throughput: this.buckets,
      runtime: percentiles(allRuntimes),
      queueWait: percentiles(allWaits),
      names: names.sort(byCountThenKey<TaskNameStats>((s) => s.name)),
    };
  }
}

/** Most first; ties by key (UTF-16 code-unit order, as JS compares strings), null last. */
function byCountThenKey<T extends { count: number }>(key: (t: T) => string | null) {
  return (a: T, b: T) => {
    if (a.count !== b.count) return b.count - a.count;
    const ka = key(a);
    const kb = key(b);
    if (ka === kb) return 0;
    if (ka === null) return 1;
    if (kb === null) return -1;
    return ka < kb ? -1 : 1;
  };
}
