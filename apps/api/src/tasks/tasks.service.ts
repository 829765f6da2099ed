/** Task lookups for the API: validates arguments, reads pages through TaskQueries, maps rows. */
import { Inject, Injectable } from '@nestjs/common';
import { TaskQueries, type TaskNameCount } from '../../../../libs/state/src';
import type { ApiConfig } from '../config';
import { API_CONFIG } from '../tokens';
import { encodeTaskCursor } from './task-cursor';
import { toTaskListQuery, validateFirst, type TasksArgs } from './task-filter';
import type { TaskConnection } from './task.model';
import { toTaskModel } from './task.mapper';

@Injectable()
export class TasksService {
  constructor(
    private readonly queries: TaskQueries,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** One page of the `tasks` connection; BAD_USER_INPUT for invalid arguments. */
  async page(args: TasksArgs): Promise<TaskConnection> {
    const query = toTaskListQuery(args, this.config);
    const page = await this.queries.list(query);
    const edges = page.rows.map(({ task, key }) => ({ cursor: encodeTaskCursor(query.order, key), node: toTaskModel(task) }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  names(): Promise<TaskNameCount[]> {
    return this.queries.nameCounts();
  }

  /** `first` of Worker.recentTasks: 1 to the maximum page size. */
  recentTasksFirst(first: number): number {
    return validateFirst(first, this.config, 'first');
  }
}
