/**
 * Medium tests: task statistics on SQLite and Postgres, same suite, against a hand-computed dataset
 * (test/support/stats-dataset.ts). Both dialects must give exactly the same numbers.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../event-store';
import { event } from '../../../../test/support/event-factory';
import { MAX_STATS_BUCKETS, nearestRank, percentiles, StatsQueries, statsBucketCount } from './stats-queries';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../../test/support/test-databases';
import { EXPECTED_STATS, F, STATS_BUCKET, STATS_FROM, STATS_TO, statsDatasetEvents } from '../../../../test/support/read-datasets';

describe.each(DIALECTS)('StatsQueries on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let stats: StatsQueries;
  const statements: string[] = [];

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url, { onQuery: (_ms, sql) => statements.push(sql) });
    // Two batches, the second out of order, to make storage order differ from time order.
    const events = statsDatasetEvents();
    await store.append({ events: events.slice(60).reverse(), rejected: [] });
    await store.append({ events: events.slice(0, 60), rejected: [] });
    stats = new StatsQueries(store.database);
  });

  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('gives the hand-computed counts, throughput and nearest-rank percentiles, from one scan', async () => {
    statements.length = 0;
    const result = await stats.taskStats({ from: STATS_FROM, to: STATS_TO, bucketSeconds: STATS_BUCKET });
    // SQLite: one statement on the raw handle (not logged by Kysely); Postgres: a cursor over the
    // same SELECT, fetched once (fewer rows than a fetch), in one transaction. Nothing per name.
    expect(statements.map((s) => s.trim().split(/\s+/)[0]!.toLowerCase())).toEqual(dialect === 'postgres' ? ['begin', 'declare', 'fetch', 'close', 'commit'] : []);
    expect(result).toEqual({
      from: STATS_FROM,
      to: STATS_TO,
      bucketSeconds: STATS_BUCKET,
      total: EXPECTED_STATS.total,
      states: EXPECTED_STATS.states,
      throughput: EXPECTED_STATS.throughput.map(({ offset, ...counts }) => ({ start: F + offset, ...counts })),
      runtime: EXPECTED_STATS.runtime,
      queueWait: EXPECTED_STATS.queueWait,
      names: EXPECTED_STATS.names,
    });
  });

  it('gives the same stats when the rows stream in many small chunks (cursor fetches, event-loop yields)', async () => {
    const chunked = new StatsQueries(store.database, { fetchRows: 7, yieldRows: 5 });
    const query = { from: STATS_FROM, to: STATS_TO, bucketSeconds: STATS_BUCKET };
    statements.length = 0;
    const result = await chunked.taskStats(query);
    // 50 tasks in the window: 7 full fetches and a last one of 1 row.
    if (dialect === 'postgres') expect(statements.filter((s) => s.startsWith('fetch'))).toHaveLength(8);
    expect(result).toEqual(await stats.taskStats(query));
    // Statements issued while the scan yields do not wait for it: on SQLite the scan reads on a
    // connection of its own (the shared one would hold them until the last row).
    const finished: string[] = [];
    const [again, count] = await Promise.all([
      new StatsQueries(store.database, { fetchRows: 7, yieldRows: 1 }).taskStats(query).finally(() => finished.push('stats')),
      store.database.db.selectFrom('tasks').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow().finally(() => finished.push('count')),
    ]);
    expect(again).toEqual(result);
    expect(Number(count.n)).toBe(54);
    if (dialect === 'sqlite') expect(finished).toEqual(['count', 'stats']);
  });

  it('aligns buckets on `from`; the last one may be partial', async () => {
    const result = await stats.taskStats({ from: F, to: F + 180, bucketSeconds: 100 });
    expect(result.throughput).toEqual([
      // finished in [F, F+100): a1 F+5, a2 F+70, b2 F+61, b5 F+7; arrived: a1 a2 a3 a4 b1 b2 b5.
      { start: F, finished: 4, succeeded: 2, failed: 1, revoked: 1, received: 7 },
      // finished in [F+100, F+180): a3 F+130, m* F+121.5…F+141; arrived: a5 b3 u1 m*.
      { start: F + 100, finished: 41, succeeded: 40, failed: 1, revoked: 0, received: 43 },
    ]);
    const one = await stats.taskStats({ from: F, to: F + 180, bucketSeconds: 3600 });
    expect(one.throughput).toEqual([{ start: F, finished: 45, succeeded: 42, failed: 2, revoked: 1, received: 50 }]);
  });

  it('selects tasks by received time, or sent time when never received, [from, to)', async () => {
    // [F+5, F+60): a2 a3 a4 (received), b1 (sent F+50), b5 (received F+5, sent F−10 ignored).
    const mid = await stats.taskStats({ from: F + 5, to: F + 60, bucketSeconds: 60 });
    expect(mid.total).toBe(5);
    expect(mid.names.map((n) => [n.name, n.count])).toEqual([['app.a', 3], ['app.b', 2]]);
    // a2 runtime 1, a3 4, a4 2, b5 1.5 → sorted 1 1.5 2 4: ranks 2, 4, 4.
    expect(mid.runtime).toEqual({ count: 4, p50: 1.5, p95: 4, p99: 4, max: 4 });
    // Finished inside [F+5, F+60): b5 (F+7) only; a2 F+70, a3 F+130, a4 F+200 are after `to`.
    expect(mid.throughput).toEqual([{ start: F + 5, finished: 1, succeeded: 0, failed: 1, revoked: 0, received: 5 }]);
    // x1 arrives exactly at F+180: the next window has it.
    const after = await stats.taskStats({ from: F + 180, to: F + 240, bucketSeconds: 60 });
    expect(after.names.map((n) => [n.name, n.count])).toEqual([['app.b', 2]]); // x1, x3 (received F+200)
  });

  it('gives zeros and null percentiles for an empty window', async () => {
    const empty = await stats.taskStats({ from: F + 10_000, to: F + 10_600, bucketSeconds: 300 });
    expect(empty).toEqual({
      from: F + 10_000, to: F + 10_600, bucketSeconds: 300, total: 0, states: [], names: [],
      throughput: [0, 300].map((o) => ({ start: F + 10_000 + o, finished: 0, succeeded: 0, failed: 0, revoked: 0, received: 0 })),
      runtime: { count: 0, p50: null, p95: null, p99: null, max: null },
      queueWait: { count: 0, p50: null, p95: null, p99: null, max: null },
    });
  });

  it('counts a queue wait only for a run that has started: a retry received again after the last start has none yet', async () => {
    const X = F + 50_000;
    const w = { hostname: 'celery@w9', name: 'app.wait' };
    await store.append({
      events: [
        event({ type: 'task-received', uuid: 'waited', timestamp: X, clock: 1, ...w }),
        event({ type: 'task-started', uuid: 'waited', timestamp: X + 0.5, clock: 2, ...w }),
        event({ type: 'task-received', uuid: 'retrying', timestamp: X + 10, clock: 3, ...w }),
        event({ type: 'task-started', uuid: 'retrying', timestamp: X + 11, clock: 4, ...w }),
        event({ type: 'task-retried', uuid: 'retrying', timestamp: X + 12, clock: 5, exception: 'Retry', ...w }),
        event({ type: 'task-received', uuid: 'retrying', timestamp: X + 12.5, clock: 6, eta: '2026-01-01T00:00:00+00:00', retries: 1, ...w }),
      ],
      rejected: [],
    });
    const result = await stats.taskStats({ from: X, to: X + 60, bucketSeconds: 60 });
    expect(result.total).toBe(2);
    expect(result.queueWait).toEqual({ count: 1, p50: 0.5, p95: 0.5, p99: 0.5, max: 0.5 });
    expect(result.names.map((n) => [n.name, n.count, n.queueWait.count])).toEqual([['app.wait', 2, 1]]);
  });

  it('refuses bad windows and too many buckets', async () => {
    await expect(stats.taskStats({ from: F, to: F, bucketSeconds: 60 })).rejects.toThrow(RangeError);
    await expect(stats.taskStats({ from: F, to: F + 60, bucketSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(stats.taskStats({ from: F, to: F + MAX_STATS_BUCKETS + 1, bucketSeconds: 1 })).rejects.toThrow(/buckets/);
    expect((await stats.taskStats({ from: F, to: F + MAX_STATS_BUCKETS, bucketSeconds: 1 })).throughput).toHaveLength(MAX_STATS_BUCKETS);
  });
});

describe('nearest-rank percentiles', () => {
  it('take the ⌈p·n/100⌉-th smallest value, computed exactly', () => {
    expect([1, 2, 3, 4, 19, 20, 21, 40, 100, 101, 1_000_000].map((n) => [n, nearestRank(50, n), nearestRank(95, n), nearestRank(99, n)])).toEqual([
      [1, 1, 1, 1],
      [2, 1, 2, 2],
      [3, 2, 3, 3],
      [4, 2, 4, 4],
      [19, 10, 19, 19],
      [20, 10, 19, 20], // 0.95 × 20 = 19 exactly (a float ceil would give 20)
      [21, 11, 20, 21],
      [40, 20, 38, 40],
      [100, 50, 95, 99],
      [101, 51, 96, 100],
      [1_000_000, 500_000, 950_000, 990_000],
    ]);
  });

  it('are observed values; none for no values', () => {
    expect(percentiles(Float64Array.from([4, 1, 3, 2]))).toEqual({ count: 4, p50: 2, p95: 4, p99: 4, max: 4 });
    expect(percentiles(Float64Array.from([7.5]))).toEqual({ count: 1, p50: 7.5, p95: 7.5, p99: 7.5, max: 7.5 });
    const hundred = Float64Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(percentiles(hundred)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(percentiles(new Float64Array(0))).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null });
  });

  it('are the values a sort would give at those ranks, for any input', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1e6, noNaN: true })), { minLength: 1, maxLength: 400 }), (values) => {
        const sorted = Float64Array.from(values).sort();
        const at = (p: number) => sorted[Math.max(1, nearestRank(p, sorted.length)) - 1];
        expect(percentiles(Float64Array.from(values))).toEqual({ count: values.length, p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1] });
      }),
      { numRuns: 500 },
    );
  });
});

describe('statsBucketCount', () => {
  it('is the ceiling of span / bucket, ignoring millisecond rounding slivers', () => {
    expect(statsBucketCount(0, 180, 60)).toBe(3);
    expect(statsBucketCount(0, 181, 60)).toBe(4);
    expect(statsBucketCount(0, 1, 300)).toBe(1);
    // 1.123 and 86401.123 are not exact in binary: the span is 86400 plus a rounding error.
    expect(statsBucketCount(1_795_486_235.123, 1_795_486_235.123 + 86_400, 300)).toBe(288);
    expect(statsBucketCount(1795486235123 / 1000, 1795572635123 / 1000, 300)).toBe(288);
  });
});
