/** Computed statistics to GraphQL statistics (times: epoch seconds to dates, to the millisecond). */
import type { TaskStats } from '../../../../libs/state/src';
import type { Stats } from './stats.model';

/** Rounds to the millisecond: `from + i × bucket` in seconds is not exact in binary. */
const date = (epochSeconds: number) => new Date(Math.round(epochSeconds * 1000));

export function toStatsModel(s: TaskStats): Stats {
  return {
    from: date(s.from),
    to: date(s.to),
    bucketSeconds: s.bucketSeconds,
    total: s.total,
    states: s.states,
    throughput: s.throughput.map((b) => ({ ...b, start: date(b.start) })),
    runtime: s.runtime,
    queueWait: s.queueWait,
    names: s.names,
  };
}
