/** Realistic Celery events as the state layer receives them, for tests and benchmarks. */
import { newEvent, type NewEvent } from '../../libs/state/src';

export const T0 = 1_795_486_235.25;

export interface EventSpec {
  type: string;
  hostname?: string;
  timestamp: number;
  clock?: number;
  uuid?: string;
  [field: string]: unknown;
}

export function event(spec: EventSpec, source = 'rabbitmq', receivedAt = spec.timestamp + 0.01): NewEvent {
  const fields: Record<string, unknown> = { hostname: 'celery@w1', utcoffset: 0, pid: 4242, clock: 1, ...spec };
  return newEvent(source, receivedAt, {
    type: spec.type,
    hostname: fields.hostname as string,
    timestamp: spec.timestamp,
    clock: typeof fields.clock === 'number' ? fields.clock : null,
    uuid: spec.uuid ?? null,
    fields,
  });
}

/** The events of one task that succeeds on `worker`, starting at `t`. */
export function successfulTask(uuid: string, t: number, worker = 'celery@w1', name = 'app.add'): NewEvent[] {
  return [
    event({ type: 'task-sent', hostname: 'gen1@client', uuid, name, args: '(2, 3)', kwargs: '{}', retries: 0, eta: null, expires: null, queue: 'celery', exchange: '', routing_key: 'celery', root_id: uuid, parent_id: null, timestamp: t, clock: 1 }),
    event({ type: 'task-received', hostname: worker, uuid, name, args: '(2, 3)', kwargs: '{}', root_id: uuid, parent_id: null, retries: 0, eta: null, expires: null, timestamp: t + 0.01, clock: 2 }),
    event({ type: 'task-started', hostname: worker, uuid, timestamp: t + 0.02, clock: 3 }),
    event({ type: 'task-succeeded', hostname: worker, uuid, result: '5', runtime: 0.0123, timestamp: t + 0.04, clock: 4 }),
  ];
}

export function heartbeat(hostname: string, t: number, clock: number, extra: Record<string, unknown> = {}): NewEvent {
  return event({
    type: 'worker-heartbeat', hostname, timestamp: t, clock, freq: 2.0, active: 0, processed: clock,
    loadavg: [0.1, 0.2, 0.3], sw_ident: 'py-celery', sw_ver: '5.2.6', sw_sys: 'Linux', ...extra,
  });
}
