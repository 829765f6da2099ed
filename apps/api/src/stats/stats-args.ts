/**
 * Validates the arguments of `stats`: each problem becomes a BAD_USER_INPUT error naming the
 * argument, what was given and what is accepted.
 */
import { MAX_STATS_BUCKETS, statsBucketCount, type StatsQuery } from '../../../../libs/state/src';
import { badUserInput } from '../graphql/errors';

/** Bucket width (seconds) when `bucket` is omitted. */
export const DEFAULT_STATS_BUCKET_SECONDS = 300;

export interface StatsArgs {
  from: Date | null | undefined;
  to: Date | null | undefined;
  bucket?: number | null;
}

export function toStatsQuery(args: StatsArgs): StatsQuery {
  const from = instant(args.from, 'from');
  const to = instant(args.to, 'to');
  if (from >= to) {
    throw badUserInput(`from (${iso(from)}) must be before to (${iso(to)}): the window is [from, to)`, from === to ? 'to' : 'from');
  }
  const bucket = args.bucket ?? DEFAULT_STATS_BUCKET_SECONDS;
  if (!Number.isInteger(bucket) || bucket < 1) throw badUserInput(`bucket must be a whole number of seconds >= 1, got ${bucket}`, 'bucket');
  const query = { from: from / 1000, to: to / 1000, bucketSeconds: bucket };
  const count = statsBucketCount(query.from, query.to, bucket);
  if (count > MAX_STATS_BUCKETS) {
    const smallest = Math.ceil((to - from) / 1000 / MAX_STATS_BUCKETS);
    throw badUserInput(
      `bucket ${bucket} s over ${(to - from) / 1000} s gives ${count} buckets; at most ${MAX_STATS_BUCKETS} are allowed: use bucket >= ${smallest} or a shorter window`,
      'bucket',
    );
  }
  return query;
}

/** Milliseconds since the epoch of a DateTime argument. */
function instant(value: Date | null | undefined, argument: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw badUserInput(`${argument} is not a valid date-time: give an ISO-8601 instant such as 2026-01-31T12:00:00Z`, argument);
  return ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
