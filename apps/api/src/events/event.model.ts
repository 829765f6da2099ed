/** GraphQL types of stored events (the log). */
import { Field, Float, ID, InputType, ObjectType } from '@nestjs/graphql';
import { JSONScalar } from '../graphql/json.scalar';
import { SCAN_WINDOW } from '../../../../libs/state/src';

@ObjectType('Event', { description: 'One event of the log, as stored: Celery events and the collector\'s derived events.' })
export class EventModel {
  @Field(() => Float, { description: 'Global log position: the cursor for audits and subscriptions' }) position!: number;
  @Field(() => String, { description: 'task-succeeded, worker-heartbeat, worker-offline, collector-gap, …' }) type!: string;
  @Field(() => String, { description: 'Broker source name, or collector:liveness / collector:gap for derived events' }) source!: string;
  @Field(() => String) hostname!: string;
  @Field(() => ID, { nullable: true, description: 'Task id for task events' }) uuid!: string | null;
  @Field(() => Float, { nullable: true, description: 'Lamport clock of the sender' }) clock!: number | null;
  @Field(() => Float, { description: 'Epoch seconds as sent (full precision)' }) timestamp!: number;
  @Field(() => Date, { description: 'timestamp as a date (millisecond precision)' }) time!: Date;
  @Field(() => Date, { description: 'When the collector received it' }) receivedAt!: Date;
  @Field(() => JSONScalar, { description: 'The full event as sent' }) payload!: Record<string, unknown>;
}

@InputType({ description: 'Events to select; every given criterion must hold. A list matches any of its values; an empty list is no criterion.' })
export class EventFilter {
  @Field(() => [String], { nullable: true, description: 'Event types, e.g. ["task-failed", "worker-offline"]' }) types?: string[];
  @Field(() => String, { nullable: true, description: 'Exact hostname (node name) of the sender, e.g. "celery@web-1"' }) hostname?: string;
  @Field(() => ID, { nullable: true, description: 'Task id: the events of one task' }) uuid?: string;
  @Field(() => [String], { nullable: true, description: 'Source names, e.g. ["rabbitmq", "collector:liveness"]' }) source?: string[];
}

@ObjectType({ description: 'A page of the event log, in position order.' })
export class EventPage {
  @Field(() => [EventModel]) events!: EventModel[];
  @Field(() => Float, {
    description:
      'Where the read stopped: the last event returned when the page is full, else the last position examined (or the `after` given). Pass it as the next `after`',
  })
  endPosition!: number;
  @Field(() => Boolean, {
    description:
      `Whether the log after endPosition may hold more matches (as of the read). A page examines at most ${SCAN_WINDOW.toLocaleString('en-US')} positions when neither uuid nor hostname is given, so a rare match can come after short or empty pages with hasMore true. ` +
      'When false, asking again later with `after: endPosition` returns what was appended since.',
  })
  hasMore!: boolean;
}
