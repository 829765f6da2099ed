/**
 * The live subscriptions (graphql-ws on /graphql): events, taskUpdated, workerUpdated. Arguments
 * are validated before anything is registered (BAD_USER_INPUT); the rest is LiveHub's.
 */
import { Args, Float, Int, Resolver, Subscription } from '@nestjs/graphql';
import { LiveQueries } from '../../../../libs/state/src';
import { EventFilter, EventModel } from '../events/event.model';
import { TaskFilter } from '../tasks/task.model';
import { WorkerFilter } from '../workers/worker.model';
import { eventsFeed, taskUpdatesFeed, workerUpdatesFeed, type TaskUpdateValue, type WorkerUpdateValue } from './live-feeds';
import { validateAfterPosition } from './live-filters';
import { LiveHub } from './live-hub';
import { batchesOf, DEFAULT_MAX_BATCH_SIZE, MAX_BATCH_SIZE_LIMIT, validateMaxBatchSize } from './live-batches';
import { EventBatchModel, TaskUpdateBatchModel, TaskUpdateModel, WorkerUpdateBatchModel, WorkerUpdateModel } from './live.model';

const RESUME =
  'With afterPosition (the last position you received), the log after it comes first, then live ones, with no gap and no duplicate; ' +
  'without it, live from now (an afterPosition beyond the newest stored position is refused with BAD_USER_INPUT). ' +
  'A client that falls more than CM_API_SUBSCRIBER_BUFFER items behind is ended with SUBSCRIBER_TOO_SLOW ' +
  '(extensions.lastPosition): subscribe again with afterPosition to continue.';

const BATCHES =
  'Each message carries every item waiting for this client (a poll of the log, or a page of it while catching up), up to maxBatchSize, ' +
  'in position order: one message and one execution of your selection per batch, so a client can follow thousands of events per second. ';

const MAX_BATCH_SIZE_ARG = {
  type: () => Int,
  nullable: true,
  description: `Most items per message: 1 to ${MAX_BATCH_SIZE_LIMIT} (default ${DEFAULT_MAX_BATCH_SIZE})`,
};

const identity = <T>(value: T): T => value;
const byPosition = (item: { position: number }) => item.position;

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
      'Tasks as they change: per poll of the log (CM_API_TAIL_INTERVAL_MS), the task row after the newest event that changed it, ' +
      'preceded by the row after each earlier event of that poll that changed its state, so every state a task went through is seen ' +
      '(PENDING, RECEIVED, STARTED, SUCCESS even when one commit holds them all); position is the event after which the row stood so. ' +
      'The filter applies to each row: states, names, workers, sources, queues, rootId, parentId ' +
      '(time ranges, runtime and search are refused with BAD_USER_INPUT: use the tasks query). Catching up from afterPosition sends the same updates, ' +
      'each with the row as it stood after its event. ' +
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
      'Workers as they change (heartbeats, online/offline, task events they run, a task of theirs declared lost): the worker row after the newest event that changed it, ' +
      'at most one update per worker per poll of the log; the filter (status, source, hostname glob) applies to that row. ' +
      'While catching up from afterPosition, and when one commit holds more than a page of the log, a row may already show later events. ' +
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

  @Subscription(() => EventBatchModel, {
    name: 'eventBatches',
    description: `The events subscription, batched. ${BATCHES}${RESUME}`,
    resolve: identity,
  })
  eventBatches(
    @Args('filter', { type: () => EventFilter, nullable: true }) filter?: EventFilter | null,
    @Args('afterPosition', { type: () => Float, nullable: true }) afterPosition?: number | null,
    @Args('maxBatchSize', MAX_BATCH_SIZE_ARG) maxBatchSize?: number | null,
  ): AsyncIterableIterator<EventBatchModel> {
    const after = validateAfterPosition(afterPosition);
    const max = validateMaxBatchSize(maxBatchSize);
    const subscription = this.hub.subscribe(eventsFeed(this.queries, filter, 'eventBatches'), after);
    return batchesOf(subscription, max, byPosition, (events, lastPosition) => ({ events, lastPosition }));
  }

  @Subscription(() => TaskUpdateBatchModel, {
    name: 'taskUpdateBatches',
    description: `The taskUpdated subscription, batched (same filter rules). ${BATCHES}${RESUME}`,
    resolve: identity,
  })
  taskUpdateBatches(
    @Args('filter', { type: () => TaskFilter, nullable: true }) filter?: TaskFilter | null,
    @Args('afterPosition', { type: () => Float, nullable: true }) afterPosition?: number | null,
    @Args('maxBatchSize', MAX_BATCH_SIZE_ARG) maxBatchSize?: number | null,
  ): AsyncIterableIterator<TaskUpdateBatchModel> {
    const after = validateAfterPosition(afterPosition);
    const max = validateMaxBatchSize(maxBatchSize);
    const subscription = this.hub.subscribe(taskUpdatesFeed(this.queries, filter, 'taskUpdateBatches'), after);
    return batchesOf(subscription, max, byPosition, (updates, lastPosition) => ({ updates, lastPosition }));
  }

  @Subscription(() => WorkerUpdateBatchModel, {
    name: 'workerUpdateBatches',
    description: `The workerUpdated subscription, batched (same filter rules). ${BATCHES}${RESUME}`,
    resolve: identity,
  })
  workerUpdateBatches(
    @Args('filter', { type: () => WorkerFilter, nullable: true }) filter?: WorkerFilter | null,
    @Args('afterPosition', { type: () => Float, nullable: true }) afterPosition?: number | null,
    @Args('maxBatchSize', MAX_BATCH_SIZE_ARG) maxBatchSize?: number | null,
  ): AsyncIterableIterator<WorkerUpdateBatchModel> {
    const after = validateAfterPosition(afterPosition);
    const max = validateMaxBatchSize(maxBatchSize);
    const subscription = this.hub.subscribe(workerUpdatesFeed(this.queries, filter, 'workerUpdateBatches'), after);
    return batchesOf(subscription, max, byPosition, (updates, lastPosition) => ({ updates, lastPosition }));
  }
}
