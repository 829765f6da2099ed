/**
 * The API benchmark's subscriber processes each report raw numbers (SubscriberProcessReport);
 * `mergeSubscriberReports` turns the reports of all processes into one SubscriberResult.
 * Percentiles are nearest rank over every delivery of every subscriber.
 */

/** What one subscriber process (api-subscribers.ts) sends back when asked to finish. */
export interface SubscriberProcessReport {
  type: 'result';
  /** Per subscriber of this process, in order. */
  delivered: number[];
  duplicates: number[];
  outOfOrder: number[];
  /** Per subscriber: its p99 latency, ms. */
  p99s: number[];
  errors: string[];
  /** Every measured delivery latency of this process's subscribers, ms, sorted ascending. */
  latencies: Float64Array;
  /** Every delivery latency of the warm-up events (before the measured ones), ms, sorted ascending. */
  warmupLatencies: Float64Array;
  /** Only from the process holding subscriber 0: publish → collector receipt, collector receipt → delivery, ms, unsorted. */
  toCollector: number[];
  fromCollector: number[];
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  cpuMicros: number;
  peakRssBytes: number;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface SubscriberResult {
  subscribers: number;
  processes: number;
  delivered: number[];
  duplicates: number[];
  outOfOrder: number[];
  errors: string[];
  /** All deliveries of measured events: latency percentiles, ms. */
  latency: { count: number; p50: number; p95: number; p99: number; max: number; mean: number };
  /** Deliveries of the warm-up events, not measured: reported so that the start-up transient stays visible. */
  warmup: { count: number } & Percentiles;
  /** The same events split at the collector's receipt (its receivedAt, ms precision), subscriber 0 only. */
  toCollector: Percentiles;
  fromCollector: Percentiles;
  /** Per subscriber p99, ms (min / median / max over the subscribers). */
  perSubscriberP99: { min: number; median: number; max: number };
  /** The worst subscriber process's event-loop delay during the run, ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** CPU of all subscriber processes together. */
  cpuMicros: number;
  /** The largest peak RSS of one subscriber process. */
  peakRssBytes: number;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return { p50: nearestRank(sorted, 50), p99: nearestRank(sorted, 99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
}

function concatSorted(arrays: Float64Array[]): Float64Array {
  const all = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    all.set(a, offset);
    offset += a.length;
  }
  return all.sort();
}

export function mergeSubscriberReports(reports: SubscriberProcessReport[]): SubscriberResult {
  const all = concatSorted(reports.map((r) => r.latencies));
  const total = all.length;
  let sum = 0;
  for (let i = 0; i < total; i++) sum += all[i]!;
  const warmup = concatSorted(reports.map((r) => r.warmupLatencies));
  const p99s = reports.flatMap((r) => r.p99s).sort((a, b) => a - b);
  const delivered = reports.flatMap((r) => r.delivered);
  return {
    subscribers: delivered.length,
    processes: reports.length,
    delivered,
    duplicates: reports.flatMap((r) => r.duplicates),
    outOfOrder: reports.flatMap((r) => r.outOfOrder),
    errors: reports.flatMap((r) => r.errors).slice(0, 20),
    latency: {
      count: total,
      p50: nearestRank(all, 50),
      p95: nearestRank(all, 95),
      p99: nearestRank(all, 99),
      max: total ? all[total - 1]! : NaN,
      mean: total ? sum / total : NaN,
    },
    warmup: { count: warmup.length, ...percentiles(warmup) },
    toCollector: percentiles(reports.flatMap((r) => r.toCollector)),
    fromCollector: percentiles(reports.flatMap((r) => r.fromCollector)),
    perSubscriberP99: { min: p99s[0] ?? NaN, median: p99s[Math.floor(p99s.length / 2)] ?? NaN, max: p99s[p99s.length - 1] ?? NaN },
    loopDelayP99Ms: Math.max(...reports.map((r) => r.loopDelayP99Ms)),
    loopDelayMaxMs: Math.max(...reports.map((r) => r.loopDelayMaxMs)),
    cpuMicros: reports.reduce((n, r) => n + r.cpuMicros, 0),
    peakRssBytes: Math.max(...reports.map((r) => r.peakRssBytes)),
  };
}
