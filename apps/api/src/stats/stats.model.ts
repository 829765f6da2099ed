/** GraphQL types of task statistics (dashboards). */
import { Field, Float, Int, ObjectType } from '@nestjs/graphql';

const PERCENTILE_METHOD =
  'Nearest-rank percentiles: of the n values sorted ascending, the p-th percentile is the k-th with k = ⌈p·n/100⌉ ' +
  '(exact integer arithmetic), so it is always an observed value; null when there are no values. ' +
  'Identical on SQLite and Postgres (computed by the API from the exact values, no database percentile function).';

@ObjectType({ description: `Distribution of a duration in seconds. ${PERCENTILE_METHOD}` })
export class Percentiles {
  @Field(() => Int, { description: 'How many values the percentiles are over' }) count!: number;
  @Field(() => Float, { nullable: true, description: 'Median (nearest rank ⌈0.5·n⌉)' }) p50!: number | null;
  @Field(() => Float, { nullable: true, description: 'Nearest rank ⌈0.95·n⌉' }) p95!: number | null;
  @Field(() => Float, { nullable: true, description: 'Nearest rank ⌈0.99·n⌉' }) p99!: number | null;
  @Field(() => Float, { nullable: true, description: 'Largest value' }) max!: number | null;
}

@ObjectType({ description: 'How many of the selected tasks are in a state now.' })
export class TaskStateCount {
  @Field(() => String, { description: 'PENDING, RECEIVED, STARTED, SUCCESS, FAILURE, RETRY, REVOKED, REJECTED, LOST (declared by the collector: its worker restarted or went offline while it ran), or a custom state' }) state!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'One time bucket of the stats window: [start, start + bucket seconds), cut at `to`.' })
export class ThroughputBucket {
  @Field(() => Date, { description: 'from + index × bucket seconds' }) start!: Date;
  @Field(() => Int, { description: 'Selected tasks that reached SUCCESS, FAILURE or REVOKED in this bucket (by the time of that state)' })
  finished!: number;
  @Field(() => Int, { description: 'Of finished: SUCCESS' }) succeeded!: number;
  @Field(() => Int, { description: 'Of finished: FAILURE' }) failed!: number;
  @Field(() => Int, { description: 'Of finished: REVOKED' }) revoked!: number;
  @Field(() => Int, { description: 'Selected tasks that arrived in this bucket (received, or sent when never received)' }) received!: number;
}

@ObjectType({ description: 'Statistics of the selected tasks of one name.' })
export class TaskNameStats {
  @Field(() => String, { nullable: true, description: 'Task name; null for tasks whose name no event told' }) name!: string | null;
  @Field(() => Int, { description: 'Selected tasks of this name' }) count!: number;
  @Field(() => [TaskStateCount], { description: 'By current state, most frequent first' }) states!: TaskStateCount[];
  @Field(() => Int, { description: 'In state SUCCESS' }) succeeded!: number;
  @Field(() => Int, { description: 'In state FAILURE' }) failures!: number;
  @Field(() => Float, { nullable: true, description: 'failures / (succeeded + failures): the share of finished executions that failed; null when there are none' })
  failureRate!: number | null;
  @Field(() => Percentiles, { description: 'Runtime (seconds, as the worker reported it) of the SUCCESS and FAILURE tasks that report one' })
  runtime!: Percentiles;
  @Field(() => Percentiles, { description: 'Queue wait: started − received (seconds, worker clock), of the tasks whose current run has started (not a retry received again after its last start)' })
  queueWait!: Percentiles;
}

@ObjectType({
  description:
    'Statistics over the tasks that arrived in [from, to): received in it, or sent in it when never received ' +
    '(tasks with neither time are not counted). States are current states. ' + PERCENTILE_METHOD,
})
export class Stats {
  @Field(() => Date) from!: Date;
  @Field(() => Date) to!: Date;
  @Field(() => Int, { description: 'Width of a throughput bucket, seconds' }) bucketSeconds!: number;
  @Field(() => Int, { description: 'Selected tasks' }) total!: number;
  @Field(() => [TaskStateCount], { description: 'Selected tasks by current state, most frequent first (ties by state)' }) states!: TaskStateCount[];
  @Field(() => [ThroughputBucket], {
    description:
      'Every bucket from `from` to `to`, in time order, empty ones included (the last one is shorter when the bucket does not divide the window). ' +
      'Finished counts only selected tasks finishing inside the window: a task that arrived in it but finished at or after `to` is in no bucket.',
  })
  throughput!: ThroughputBucket[];
  @Field(() => Percentiles, { description: 'Runtime of every selected SUCCESS and FAILURE task that reports one' }) runtime!: Percentiles;
  @Field(() => Percentiles, { description: 'Queue wait (started − received) of every selected task whose current run has started' }) queueWait!: Percentiles;
  @Field(() => [TaskNameStats], { description: 'Per task name, most tasks first (ties by name, unnamed last)' }) names!: TaskNameStats[];
}
