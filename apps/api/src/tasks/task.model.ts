/** GraphQL types of tasks: the row, its filters, its ordering and its connection. */
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

@ObjectType('Task', { description: 'A Celery task as its events describe it (merged by Celery\'s state precedence).' })
export class TaskModel {
  @Field(() => ID) uuid!: string;
  @Field(() => String, { nullable: true }) name!: string | null;
  @Field(() => String, { description: 'PENDING, RECEIVED, STARTED, SUCCESS, FAILURE, RETRY, REVOKED, REJECTED, LOST (declared by the collector: its worker restarted or went offline while it ran), or a custom state' }) state!: string;
  @Field(() => Date, { nullable: true, description: 'When the current state began' }) stateAt!: Date | null;
  @Field(() => Date, { nullable: true }) sentAt!: Date | null;
  @Field(() => Date, { nullable: true }) receivedAt!: Date | null;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) succeededAt!: Date | null;
  @Field(() => Date, { nullable: true }) failedAt!: Date | null;
  @Field(() => Date, { nullable: true }) retriedAt!: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
  @Field(() => Date, { nullable: true }) rejectedAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the task reached SUCCESS, FAILURE or REVOKED' }) finishedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'repr of the positional arguments, as Celery sends it' }) args!: string | null;
  @Field(() => String, { nullable: true, description: 'repr of the keyword arguments' }) kwargs!: string | null;
  @Field(() => String, { nullable: true, description: 'repr of the return value' }) result!: string | null;
  @Field(() => String, { nullable: true }) exception!: string | null;
  @Field(() => String, { nullable: true }) traceback!: string | null;
  @Field(() => Float, { nullable: true, description: 'Execution time, seconds' }) runtime!: number | null;
  @Field(() => Float, { nullable: true, description: 'Seconds from received to started; null until the current run has started (a retry received again after its last start)' }) queueWait!: number | null;
  @Field(() => Int, { nullable: true }) retries!: number | null;
  @Field(() => String, { nullable: true, description: 'ISO-8601 ETA as sent' }) eta!: string | null;
  @Field(() => String, { nullable: true, description: 'ISO-8601 expiry as sent' }) expires!: string | null;
  @Field(() => String, { nullable: true, description: 'Hostname of the worker that handled it last' }) worker!: string | null;
  @Field(() => String, { nullable: true, description: 'Hostname of the client that sent it (task-sent)' }) client!: string | null;
  @Field(() => String, { nullable: true }) queue!: string | null;
  @Field(() => String, { nullable: true }) exchange!: string | null;
  @Field(() => String, { nullable: true }) routingKey!: string | null;
  @Field(() => ID, { nullable: true }) rootId!: string | null;
  @Field(() => ID, { nullable: true }) parentId!: string | null;
  @Field(() => Boolean, { nullable: true }) revokedTerminated!: boolean | null;
  @Field(() => String, { nullable: true }) revokedSignum!: string | null;
  @Field(() => Boolean, { nullable: true }) revokedExpired!: boolean | null;
  @Field(() => Boolean, { nullable: true }) rejectedRequeue!: boolean | null;
  @Field(() => String, { nullable: true, description: 'Broker source of its newest event' }) source!: string | null;
  @Field(() => Int) eventCount!: number;
  @Field(() => Float, { description: 'Log position of the newest event merged into this task' }) lastPosition!: number;
}

@InputType({ description: 'A time interval: from (inclusive) to (exclusive); either end may be open.' })
export class TimeRange {
  @Field(() => Date, { nullable: true }) from?: Date;
  @Field(() => Date, { nullable: true }) to?: Date;
}

@InputType({ description: 'A numeric interval: min and max inclusive; either end may be open.' })
export class FloatRange {
  @Field(() => Float, { nullable: true }) min?: number;
  @Field(() => Float, { nullable: true }) max?: number;
}

@InputType({
  description:
    'Tasks to select; every given criterion must hold. A list matches any of its values (an empty list is no criterion; empty strings are refused). A range never matches a task without that value.',
})
export class TaskFilter {
  @Field(() => [String], { nullable: true, description: 'States, e.g. ["FAILURE", "RETRY"]' }) states?: string[];
  @Field(() => [String], { nullable: true, description: 'Task names (exact)' }) names?: string[];
  @Field(() => [String], { nullable: true, description: 'Worker hostnames (exact)' }) workers?: string[];
  @Field(() => [String], { nullable: true, description: 'Broker source names' }) sources?: string[];
  @Field(() => [String], { nullable: true }) queues?: string[];
  @Field(() => TimeRange, { nullable: true, description: 'When a worker received the task' }) received?: TimeRange;
  @Field(() => TimeRange, { nullable: true, description: 'When the task started' }) started?: TimeRange;
  @Field(() => TimeRange, { nullable: true, description: 'When the task reached SUCCESS, FAILURE or REVOKED' }) finished?: TimeRange;
  @Field(() => FloatRange, { nullable: true, description: 'Runtime in seconds' }) runtime?: FloatRange;
  @Field(() => ID, { nullable: true, description: 'Tasks of this workflow (root task id; the root itself included)' }) rootId?: string;
  @Field(() => ID, { nullable: true, description: 'Tasks this task started (never itself: a retry names its own task as parent)' }) parentId?: string;
  @Field(() => String, {
    nullable: true,
    description: 'Text to find in args, kwargs, result or exception: a substring, case-insensitive for ASCII letters (other characters match exactly)',
  })
  search?: string;
}

export enum TaskOrderField {
  RECEIVED = 'received',
  STARTED = 'started',
  FINISHED = 'finished',
  RUNTIME = 'runtime',
  NAME = 'name',
  STATE = 'state',
}
registerEnumType(TaskOrderField, { name: 'TaskOrderField' });

export enum OrderDirection {
  ASC = 'asc',
  DESC = 'desc',
}
registerEnumType(OrderDirection, { name: 'OrderDirection' });

@InputType({
  description:
    'Sort order. A task without the value sorts before every task with one (first ascending, last descending); name and state orders continue by received; ties are broken by uuid so cursors are stable. Text compares byte-wise.',
})
export class TaskOrder {
  @Field(() => TaskOrderField, { defaultValue: TaskOrderField.RECEIVED }) field!: TaskOrderField;
  @Field(() => OrderDirection, { defaultValue: OrderDirection.DESC }) direction!: OrderDirection;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page' }) endCursor!: string | null;
}

@ObjectType()
export class TaskEdge {
  @Field(() => String) cursor!: string;
  @Field(() => TaskModel) node!: TaskModel;
}

@ObjectType({ description: 'A page of tasks (Relay connection).' })
export class TaskConnection {
  @Field(() => [TaskEdge]) edges!: TaskEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType({ description: 'A task name and how many stored tasks carry it.' })
export class TaskNameCount {
  @Field(() => String) name!: string;
  @Field(() => Int) count!: number;
}
