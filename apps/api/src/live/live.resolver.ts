/**
 * The live subscriptions (graphql-ws on /graphql): events, taskUpdated, workerUpdated. Arguments
 * are validated before anything is registered (BAD_USER_INPUT); the rest is LiveHub's.
 */
import { Args, Float, Resolver, Subscription } from '@nestjs/graphql';
import { LiveQueries } from '../../../../libs/state/src';
import { EventFilter, EventModel } from '../events/event.model';
import { TaskFilter } from '../tasks/task.model';
import { WorkerFilter } from '../workers/worker.model';
import { eventsFeed, taskUpdatesFeed, workerUpdatesFeed, type TaskUpdateValue, type WorkerUpdateValue } from './live-feeds';
import { validateAfterPosition } from './live-filters';
import { LiveHub } from './live-hub';
import { TaskUpdateModel, WorkerUpdateModel } from './live.model';

const RESUME =
  'With afterPosition (the last position you received), the log after it comes first, then live ones, with no gap and no duplicate; ' +
  'without it, live from now. A client that falls more than CM_API_SUBSCRIBER_BUFFER items behind is ended with SUBSCRIBER_TOO_SLOW ' +
  '(extensions.lastPosition): subscribe again with afterPosition to continue.';

const identity = <T>(value: T): T => value;

@Resolver()
export class LiveResolver {
  constructor(
    private readonly hub: LiveHub,
    private readonly queries: LiveQueries,
  ) {}

  @Subscription(() => EventModel, {
    name: 'events',
    description: `New events of the log matching the filter, in position order, each once. ${RESUME}`,
    resolve: identity,
  })
  events(
    @Args('filter', { type: () => EventFilter, nullable: true }) filter?: EventFilter | null,
    @Args('afterPosition', { type: () => Float, nullable: true }) afterPosition?: number | null,
  ): AsyncIterableIterator<EventModel> {
    const after = validateAfterPosition(afterPosition);
    return this.hub.subscribe(eventsFeed(this.queries, filter), after);
  }

  @Subscription(() => TaskUpdateModel, {
    name: 'taskUpdated',
    description:
      'Tasks as they change: the task row after the newest event that changed it, at most one update per task per poll of the log ' +
      '(CM_API_TAIL_INTERVAL_MS). The filter applies to that row: states, names, workers, sources, queues, rootId, parentId ' +
      '(time ranges, runtime and search are refused with BAD_USER_INPUT: use the tasks query). While catching up from afterPosition, ' +
      'each task changed after it comes once per page of the log with its row as it is now (it may already show later events, whose updates follow). ' +
      RESUME,
    resolve: identity,
  })
  taskUpdated(
    @Args('filter', { type: () => TaskFilter, nullable: true }) filter?: TaskFilter | null,
    @Args('afterPosition', { type: () => Float, nullable: true }) afterPosition?: number | null,
  ): AsyncIterableIterator<TaskUpdateValue> {
    const after = validateAfterPosition(afterPosition);
    return this.hub.subscribe(taskUpdatesFeed(this.queries, filter), after);
  }

  @Subscription(() => WorkerUpdateModel, {
    name: 'workerUpdated',
    description:
      'Workers as they change (heartbeats, online/offline, task events they run): the worker row after the newest event that changed it, ' +
      'at most one update per worker per poll of the log; the filter (status, source, hostname glob) applies to that row. ' +
      'While catching up from afterPosition, rows are as they are now. ' +
      RESUME,
    resolve: identity,
  })
  workerUpdated(
    @Args('filter', { type: () => WorkerFilter, nullable: true }) filter?: WorkerFilter | null,
    @Args('afterPosition', { type: () => Float, nullable: true }) afterPosition?: number | null,
  ): AsyncIterableIterator<WorkerUpdateValue> {
    const after = validateAfterPosition(afterPosition);
    return this.hub.subscribe(workerUpdatesFeed(this.queries, filter), after);
  }
}
