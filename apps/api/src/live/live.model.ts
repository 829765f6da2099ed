/** GraphQL types of the live subscriptions' payloads. */
import { Field, Float, ObjectType } from '@nestjs/graphql';
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
