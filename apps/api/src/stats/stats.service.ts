/** Task statistics for dashboards: validates the window and bucket, computes, maps. */
import { Injectable } from '@nestjs/common';
import { StatsQueries } from '../../../../libs/state/src';
import { toStatsQuery, type StatsArgs } from './stats-args';
import { toStatsModel } from './stats.mapper';
import type { Stats } from './stats.model';

@Injectable()
export class StatsService {
  constructor(private readonly queries: StatsQueries) {}

  async stats(args: StatsArgs): Promise<Stats> {
    return toStatsModel(await this.queries.taskStats(toStatsQuery(args)));
  }
}
