/** Queries over tasks, and the fields that link a task to its events, relatives and worker. */
import { Args, Context, ID, Info, Int, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { EventModel } from '../events/event.model';
import { Loaders, recentTasksKey } from '../graphql/loaders';
import { taskNotFound } from '../graphql/not-found';
import { WorkerModel } from '../workers/worker.model';
import { TaskConnection, TaskFilter, TaskModel, TaskNameCount, TaskOrder } from './task.model';
import { TasksService } from './tasks.service';

@Resolver(() => TaskModel)
export class TasksResolver {
  constructor(
    private readonly service: TasksService,
    private readonly loaders: Loaders,
  ) {}

  @Query(() => TaskConnection, {
    description:
      'Tasks matching a filter, in an order (newest received first by default), a page at a time: pass pageInfo.endCursor as `after` for the next page. Pages stay consistent while tasks arrive.',
  })
  tasks(
    @Args('filter', { type: () => TaskFilter, nullable: true }) filter?: TaskFilter,
    @Args('orderBy', { type: () => TaskOrder, nullable: true }) orderBy?: TaskOrder,
    @Args('first', { type: () => Int, nullable: true, description: 'Page size (default: the configured default page size; at most the maximum page size)' })
    first?: number,
    @Args('after', { type: () => String, nullable: true, description: 'An edge cursor or endCursor of the previous page, issued for the same orderBy' })
    after?: string,
  ): Promise<TaskConnection> {
    return this.service.page({ filter, orderBy, first, after });
  }

  @Query(() => TaskModel, {
    nullable: true,
    description: 'One task by id. When no event of it was stored, null with a NOT_FOUND error (extensions.code) saying so.',
  })
  async task(@Args('uuid', { type: () => ID }) uuid: string, @Context() ctx: unknown, @Info() info: GraphQLResolveInfo): Promise<TaskModel | null> {
    const task = await this.loaders.of(ctx, info).task.load(uuid);
    if (task === null) throw taskNotFound(uuid);
    return task;
  }

  @Query(() => [TaskNameCount], { description: 'Every task name seen, with how many tasks carry it, by name (byte order).' })
  taskNames(): Promise<TaskNameCount[]> {
    return this.service.names();
  }

  @ResolveField('timeline', () => [EventModel], { description: 'Every stored event of this task, in log order.' })
  timeline(@Parent() task: TaskModel, @Context() ctx: unknown, @Info() info: GraphQLResolveInfo): Promise<EventModel[]> {
    return this.loaders.of(ctx, info).timeline.load(task.uuid);
  }

  @ResolveField('parent', () => TaskModel, { nullable: true, description: 'The task that started this one (null when none, unknown, or itself).' })
  parent(@Parent() task: TaskModel, @Context() ctx: unknown, @Info() info: GraphQLResolveInfo): Promise<TaskModel | null> | null {
    if (!task.parentId || task.parentId === task.uuid) return null;
    return this.loaders.of(ctx, info).task.load(task.parentId);
  }

  @ResolveField('children', () => [TaskModel], { description: 'Tasks this task started, oldest received first (never itself: retries of Celery 5.2 name themselves as parent).' })
  children(@Parent() task: TaskModel, @Context() ctx: unknown, @Info() info: GraphQLResolveInfo): Promise<TaskModel[]> {
    return this.loaders.of(ctx, info).children.load(task.uuid);
  }

  @ResolveField('root', () => TaskModel, { nullable: true, description: 'The first task of the workflow (null when this task is the root, or the root is unknown).' })
  root(@Parent() task: TaskModel, @Context() ctx: unknown, @Info() info: GraphQLResolveInfo): Promise<TaskModel | null> | null {
    if (!task.rootId || task.rootId === task.uuid) return null;
    return this.loaders.of(ctx, info).task.load(task.rootId);
  }

  @ResolveField('workerInfo', () => WorkerModel, { nullable: true, description: 'The worker that handled the task last (null when none or never seen).' })
  workerInfo(@Parent() task: TaskModel, @Context() ctx: unknown, @Info() info: GraphQLResolveInfo): Promise<WorkerModel | null> | null {
    if (!task.worker) return null;
    return this.loaders.of(ctx, info).worker.load(task.worker);
  }
}

@Resolver(() => WorkerModel)
export class WorkerTasksResolver {
  constructor(
    private readonly service: TasksService,
    private readonly loaders: Loaders,
  ) {}

  @ResolveField('recentTasks', () => [TaskModel], { description: 'The newest tasks of this worker, by received (newest first).' })
  recentTasks(
    @Parent() worker: WorkerModel,
    @Args('first', { type: () => Int, defaultValue: 20, description: 'How many (at most the maximum page size)' }) first: number,
    @Context() ctx: unknown,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TaskModel[]> {
    const n = this.service.recentTasksFirst(first);
    return this.loaders.of(ctx, info).recentTasks.load(recentTasksKey(worker.hostname, n));
  }
}
