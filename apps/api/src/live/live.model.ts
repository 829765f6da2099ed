/** GraphQL types of the live subscriptions' payloads. */
import { Field, Float, ObjectType } from '@nestjs/graphql';
import { EventModel } from '../events/event.model';
import { TaskModel } from '../tasks/task.model';
import { WorkerModel } from '../workers/worker.model';

@ObjectType('TaskUpdate', { description: 'A task changed: the row after the event at `position`.' })
export class TaskUpdateModel {
  @Field(() => Float, { description: 'Log position of the newest event that changed the task: pass it as afterPosition to resume' })
  position!: number;
  @Field(() => TaskModel) task!: TaskModel;
}

@ObjectType('WorkerUpdate', { description: 'A worker changed: the row after the event at `position`.' })
export class WorkerUpdateModel {
  @Field(() => Float, { description: 'Log position of the newest event that changed the worker: pass it as afterPosition to resume' })
  position!: number;
  @Field(() => WorkerModel) worker!: WorkerModel;
}

const LAST_POSITION =
  'Log position of the last item of this batch (the newest event it reflects): pass it as afterPosition to resume after it';

@ObjectType('EventBatch', { description: 'New events of the log, in position order: what was waiting for this client, up to maxBatchSize.' })
export class EventBatchModel {
  @Field(() => [EventModel]) events!: EventModel[];
  @Field(() => Float, { description: LAST_POSITION }) lastPosition!: number;
}

@ObjectType('TaskUpdateBatch', { description: 'Task updates in position order: what was waiting for this client, up to maxBatchSize.' })
export class TaskUpdateBatchModel {
  @Field(() => [TaskUpdateModel]) updates!: TaskUpdateModel[];
  @Field(() => Float, { description: LAST_POSITION }) lastPosition!: number;
}

@ObjectType('WorkerUpdateBatch', { description: 'Worker updates in position order: what was waiting for this client, up to maxBatchSize.' })
export class WorkerUpdateBatchModel {
  @Field(() => [WorkerUpdateModel]) updates!: WorkerUpdateModel[];
  @Field(() => Float, { description: LAST_POSITION }) lastPosition!: number;
}
