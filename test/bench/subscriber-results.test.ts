import { describe, expect, it } from 'vitest';
import { mergeSubscriberReports, nearestRank, type SubscriberProcessReport } from './subscriber-results';

function report(latencies: number[], over: Partial<SubscriberProcessReport> = {}): SubscriberProcessReport {
  return {
    type: 'result',
    delivered: [latencies.length],
    duplicates: [0],
    outOfOrder: [0],
    p99s: [nearestRank(Float64Array.from(latencies).sort(), 99)],
    errors: [],
    latencies: Float64Array.from(latencies).sort(),
    warmupLatencies: new Float64Array(0),
    toCollector: [],
    fromCollector: [],
    loopDelayP99Ms: 1,
    loopDelayMaxMs: 2,
    cpuMicros: 1000,
    peakRssBytes: 10,
    ...over,
  };
}

describe('nearestRank', () => {
  it('takes the value at ceil(p × n) − 1 and NaN when empty', () => {
    const xs = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(nearestRank(xs, 50)).toBe(5);
    expect(nearestRank(xs, 99)).toBe(10);
    expect(nearestRank(xs, 0)).toBe(1);
    expect(nearestRank(new Float64Array(0), 50)).toBeNaN();
  });
});

describe('mergeSubscriberReports', () => {
  it('computes percentiles over the deliveries of every process, not the mean of their percentiles', () => {
    // 99 fast deliveries in one process, one slow one in the other: the merged p99 is fast, the max is slow.
    const fast = report(Array.from({ length: 99 }, (_, i) => 10 + i / 100));
    const slow = report([500], { loopDelayP99Ms: 7, loopDelayMaxMs: 9, peakRssBytes: 30, errors: ['subscriber 1: boom'] });
    const merged = mergeSubscriberReports([fast, slow]);
    expect(merged.processes).toBe(2);
    expect(merged.subscribers).toBe(2);
    expect(merged.delivered).toEqual([99, 1]);
    expect(merged.latency.count).toBe(100);
    expect(merged.latency.p50).toBeCloseTo(10.49);
    expect(merged.latency.p99).toBeCloseTo(10.98);
    expect(merged.latency.max).toBe(500);
    expect(merged.latency.mean).toBeCloseTo((fast.latencies.reduce((a, b) => a + b, 0) + 500) / 100);
    expect(merged.perSubscriberP99).toEqual({ min: fast.p99s[0], median: 500, max: 500 });
    expect(merged.loopDelayP99Ms).toBe(7);
    expect(merged.loopDelayMaxMs).toBe(9);
    expect(merged.cpuMicros).toBe(2000);
    expect(merged.peakRssBytes).toBe(30);
    expect(merged.errors).toEqual(['subscriber 1: boom']);
  });

  it('keeps warm-up deliveries out of the measured latencies and reports them on their own', () => {
    const merged = mergeSubscriberReports([
      report([10, 11], { warmupLatencies: Float64Array.from([300, 400]) }),
      report([12], { warmupLatencies: Float64Array.from([5]) }),
    ]);
    expect(merged.latency.count).toBe(3);
    expect(merged.latency.max).toBe(12);
    expect(merged.warmup).toEqual({ count: 3, p50: 300, p99: 400, max: 400 });
  });

  it('takes the collector split from whichever process recorded it', () => {
    const merged = mergeSubscriberReports([report([1]), report([2], { toCollector: [3, 1, 2], fromCollector: [20] })]);
    expect(merged.toCollector).toEqual({ p50: 2, p99: 3, max: 3 });
    expect(merged.warmup).toEqual({ count: 0, p50: NaN, p99: NaN, max: NaN });
    expect(merged.fromCollector).toEqual({ p50: 20, p99: 20, max: 20 });
  });
});
