/** GraphQL types of workers. */
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum WorkerStatus {
  ONLINE = 'online',
  OFFLINE = 'offline',
}
registerEnumType(WorkerStatus, { name: 'WorkerStatus', description: 'online, or offline (said goodbye, or heartbeats stopped)' });

@ObjectType({ description: 'How many tasks whose current worker is this one are in a state.' })
export class StateCount {
  @Field(() => String) state!: string;
  @Field(() => Int) count!: number;
}

@ObjectType('Worker', { description: 'A Celery worker, as its events describe it.' })
export class WorkerModel {
  @Field(() => ID, { description: 'Node name, e.g. celery@host' }) hostname!: string;
  @Field(() => String, { nullable: true, description: 'Broker source the worker reports through' }) source!: string | null;
  @Field(() => WorkerStatus) status!: WorkerStatus;
  @Field(() => String, { nullable: true, description: '`worker-offline` (it said goodbye) or `heartbeat-timeout` (derived); null when online' })
  offlineReason!: string | null;
  @Field(() => Date, { nullable: true, description: 'When the current status began' }) statusSince!: Date | null;
  @Field(() => Date, { nullable: true }) onlineSince!: Date | null;
  @Field(() => Date, { nullable: true }) offlineSince!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the worker process last started (worker clock): its newest worker-online counting no running task' }) lastStartedAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'Newest worker-heartbeat / worker-online (worker clock)' }) lastHeartbeatAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'Newest sign of life, task events included (worker clock)' }) lastSeenAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the worker will be declared offline without a new sign of life (collector clock)' })
  heartbeatExpiresAt!: Date | null;
  @Field(() => String, { nullable: true }) swIdent!: string | null;
  @Field(() => String, { nullable: true }) swVer!: string | null;
  @Field(() => String, { nullable: true }) swSys!: string | null;
  @Field(() => Int, { nullable: true }) pid!: number | null;
  @Field(() => Float, { nullable: true, description: 'Heartbeat interval, seconds' }) freq!: number | null;
  @Field(() => Int, { nullable: true, description: 'Tasks executing now (from the last heartbeat)' }) active!: number | null;
  @Field(() => Int, { nullable: true, description: 'Tasks processed since the worker started (from the last heartbeat)' }) processed!: number | null;
  @Field(() => [Float], { nullable: true, description: 'Load average over 1, 5 and 15 minutes' }) loadavg!: number[] | null;
  @Field(() => [StateCount], { description: 'Tasks by state whose current worker is this one' }) taskCounts!: StateCount[];
  @Field(() => Float, { description: 'Log position of the newest event merged into this worker' }) lastPosition!: number;
}

@InputType({ description: 'Workers to select; every given criterion must hold.' })
export class WorkerFilter {
  @Field(() => [WorkerStatus], { nullable: true }) status?: WorkerStatus[];
  @Field(() => [String], { nullable: true, description: 'Broker source names' }) source?: string[];
  @Field(() => String, { nullable: true, description: 'Glob on the hostname, e.g. "celery@web-*": * matches any run of characters, ? one character; everything else (brackets included) matches itself' }) hostname?: string;
}
