/** Aggregate task statistics. */
import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { MAX_STATS_BUCKETS } from '../../../../libs/state/src';
import { DEFAULT_STATS_BUCKET_SECONDS } from './stats-args';
import { Stats } from './stats.model';
import { StatsService } from './stats.service';

@Resolver(() => Stats)
export class StatsResolver {
  constructor(private readonly service: StatsService) {}

  @Query(() => Stats, {
    description:
      'Task statistics over a time window: counts by state, throughput per bucket, and per task name counts, failure rate, ' +
      'runtime and queue-wait percentiles (nearest rank). Tasks are selected by arrival: received in [from, to), or sent in it when never received.',
  })
  stats(
    @Args('from', { type: () => Date, description: 'Start of the window (inclusive)' }) from: Date,
    @Args('to', { type: () => Date, description: 'End of the window (exclusive); after from' }) to: Date,
    @Args('bucket', {
      type: () => Int,
      nullable: true,
      description: `Throughput bucket width in seconds (default ${DEFAULT_STATS_BUCKET_SECONDS}); buckets start at \`from\`; at most ${MAX_STATS_BUCKETS} buckets`,
    })
    bucket?: number | null,
  ): Promise<Stats> {
    return this.service.stats({ from, to, bucket });
  }
}
