/**
 * Benchmark workload: realistic Celery event traffic of a small cluster, as the wire carries it.
 *
 * - `workers` workers (celery@<prefix>N, concurrency 4 each) run tasks back to back; every task run
 *   emits task-received, task-started and a terminal event (≈ 95 % task-succeeded, ≈ 3 %
 *   task-failed with a Python traceback, ≈ 2 % task-retried followed by a new run of the same
 *   uuid with retries + 1).
 * - Task events are flushed like Celery's EventDispatcher does under load: one `task.multi`
 *   message holding a JSON array of up to 24 events (most flushes are full; a heartbeat, i.e. a
 *   loop tick, flushes the buffer early).
 * - Every worker sends a single `worker.heartbeat` message every 2 s of simulated time.
 * - ≈ 10 % of tasks are published by a client with task_send_sent_event: a single `task.sent`
 *   message from gen<pid>@<client host>.
 * - Fields, field order and JSON spacing follow Celery 5 / kombu (Python json.dumps separators).
 * - Lamport clocks increase by one per event per process; everything is deterministic (seeded).
 */
import { Rng } from '../support/rng';

export interface WorkloadOptions {
  /** Exact number of events in the workload. */
  totalEvents: number;
  /** Number of workers (default 8). */
  workers?: number;
  /** Worker hostnames are `${hostPrefix}${n}` (default "celery@bench-w"). */
  hostPrefix?: string;
  /** task-sent events come from this client nodename (default "gen4242@bench-client"). */
  clientHostname?: string;
  /** Epoch seconds of the first simulated event (default: now − 120 s). */
  startTimestamp?: number;
  /**
   * Moves the simulated timeline so that no event is stamped after this epoch second (a backlog
   * that ends in the past, say, so that no worker clock looks ahead of the collector's). Default:
   * the timeline starts at startTimestamp.
   */
  endTimestamp?: number;
  /**
   * Stretches or squeezes the task timeline to this many seconds (heartbeats stay 2 s apart), so
   * that timestamps follow a publisher's pace. Default: as simulated.
   */
  spanSeconds?: number;
  seed?: number;
  /**
   * Every task event in a message of its own (routing key `task.received`, …), as a worker sends
   * them without the event loop's buffering (solo, threads or eventlet pools): the costliest
   * shape per event. Default false (task.multi flushes).
   */
  singleTaskEvents?: boolean;
}

export interface WorkloadMessage {
  routingKey: string;
  /** The sending node: goes into the message headers, like Celery. */
  hostname: string;
  /** The JSON body, as Celery's json serializer writes it (UTF-8). */
  body: Buffer;
  /** Events in this message (array length for task.multi, else 1). */
  events: number;
}

export interface Workload {
  messages: WorkloadMessage[];
  events: number;
  bodyBytes: number;
  byType: Record<string, number>;
  /** Every hostname that appears in an event (workers and the client). */
  hostnames: string[];
  /** Simulated span of the traffic, seconds. */
  simulatedSeconds: number;
}

type Fields = Record<string, unknown>;

interface PendingEvent {
  timestamp: number;
  /** Tie-breaker keeping a task's own events in order when timestamps coincide. */
  seq: number;
  type: string;
  fields: Fields;
}

const TASKS: ReadonlyArray<{ name: string; args: (r: Rng) => string; kwargs: (r: Rng) => string; result: (r: Rng) => string; runtime: number }> = [
  { name: 'proj.tasks.add', args: (r) => `(${r.int(0, 999)}, ${r.int(0, 999)})`, kwargs: () => '{}', result: (r) => String(r.int(0, 1998)), runtime: 0.004 },
  {
    name: 'proj.tasks.send_email',
    args: (r) => `('user${r.int(1, 99999)}@example.com',)`,
    kwargs: (r) => `{'template': 'welcome', 'locale': '${r.pick(['en', 'fr', 'de'])}'}`,
    result: () => 'None',
    runtime: 0.09,
  },
  {
    name: 'proj.images.resize',
    args: (r) => `('s3://bench-media/uploads/${r.hex(16)}.jpg',)`,
    kwargs: (r) => `{'width': ${r.pick([320, 640, 1280])}, 'height': ${r.pick([240, 480, 960])}}`,
    result: (r) => `'s3://bench-media/thumbs/${r.hex(16)}.jpg'`,
    runtime: 0.25,
  },
  {
    name: 'proj.reports.aggregate_orders',
    args: (r) => `(${r.int(1, 5000)}, '2026-0${r.int(1, 9)}-1${r.int(0, 9)}')`,
    kwargs: () => "{'currency': 'EUR'}",
    result: (r) => `{'orders': ${r.int(0, 900)}, 'total': ${r.int(0, 99999)}.${r.int(10, 99)}}`,
    runtime: 0.04,
  },
  { name: 'proj.tasks.noop', args: () => '()', kwargs: () => '{}', result: () => 'None', runtime: 0.0008 },
];

const FAILURE = {
  exception: "ConnectionError('HTTPSConnectionPool(host=\\'api.example.com\\', port=443): Read timed out. (read timeout=5)')",
  traceback:
    'Traceback (most recent call last):\n' +
    '  File "/usr/lib/python3/dist-packages/celery/app/trace.py", line 451, in trace_task\n' +
    '    R = retval = fun(*args, **kwargs)\n' +
    '  File "/usr/lib/python3/dist-packages/celery/app/trace.py", line 734, in __protected_call__\n' +
    '    return self.run(*args, **kwargs)\n' +
    '  File "/srv/proj/proj/tasks.py", line 88, in send_email\n' +
    '    response = session.post(MAIL_API, json=payload, timeout=5)\n' +
    '  File "/usr/lib/python3/dist-packages/requests/sessions.py", line 637, in post\n' +
    '    return self.request("POST", url, data=data, json=json, **kwargs)\n' +
    '  File "/usr/lib/python3/dist-packages/requests/adapters.py", line 532, in send\n' +
    '    raise ReadTimeout(e, request=request)\n' +
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=5)\n",
};

const RETRY = {
  exception: "Retry('Retry in 10s: ConnectionError()')",
  traceback:
    'Traceback (most recent call last):\n' +
    '  File "/usr/lib/python3/dist-packages/celery/app/trace.py", line 451, in trace_task\n' +
    '    R = retval = fun(*args, **kwargs)\n' +
    '  File "/srv/proj/proj/images.py", line 41, in resize\n' +
    '    raise self.retry(exc=exc, countdown=10)\n' +
    '  File "/usr/lib/python3/dist-packages/celery/app/task.py", line 717, in retry\n' +
    '    raise ret\n' +
    'celery.exceptions.Retry: Retry in 10s: ConnectionError()\n',
};

/** JSON text the way Python's json.dumps writes it (", " and ": " separators). */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Fields)) parts.push(`${JSON.stringify(k)}: ${pythonJson(v)}`);
    return `{${parts.join(', ')}}`;
  }
  return JSON.stringify(value);
}

interface Lane {
  freeAt: number;
}

interface WorkerSim {
  hostname: string;
  pid: number;
  lanes: Lane[];
  events: PendingEvent[];
  processed: number;
}

export function generateWorkload(options: WorkloadOptions): Workload {
  const rng = new Rng(options.seed ?? 20260101);
  const workerCount = options.workers ?? 8;
  const hostPrefix = options.hostPrefix ?? 'celery@bench-w';
  const clientHostname = options.clientHostname ?? 'gen4242@bench-client';
  let t0 = options.startTimestamp ?? Date.now() / 1000 - 120;
  const target = options.totalEvents;
  // Generate a little more than needed, then cut the message stream at exactly `target` events.
  const generateAtLeast = Math.ceil(target * 1.05) + 200;

  const workers: WorkerSim[] = [];
  for (let n = 1; n <= workerCount; n++) {
    workers.push({ hostname: `${hostPrefix}${n}`, pid: 7000 + n * 13, lanes: Array.from({ length: 4 }, () => ({ freeAt: t0 + rng.next() * 0.05 })), events: [], processed: 0 });
  }
  const clientEvents: PendingEvent[] = [];
  let seq = 0;
  let generated = 0;
  let tEnd = t0;

  const runTask = (uuid: string, spec: (typeof TASKS)[number], args: string, kwargs: string, retries: number, notBefore: number, rootId: string): void => {
    // Earliest free lane of a random-ish worker (the broker round-robins, prefetch evens it out).
    const worker = workers[rng.int(0, workerCount - 1)]!;
    let lane = worker.lanes[0]!;
    for (const l of worker.lanes) if (l.freeAt < lane.freeAt) lane = l;
    const received = Math.max(lane.freeAt, notBefore) + rng.exp(0.002);
    const started = received + 0.0005 + rng.exp(0.001);
    const runtime = rng.exp(spec.runtime) + 0.0002;
    const done = started + runtime;
    lane.freeAt = done + 0.0003;
    tEnd = Math.max(tEnd, done);
    worker.events.push({
      timestamp: received,
      seq: seq++,
      type: 'task-received',
      fields: { uuid, name: spec.name, args, kwargs, root_id: rootId, parent_id: null, retries, eta: null, expires: null },
    });
    worker.events.push({ timestamp: started, seq: seq++, type: 'task-started', fields: { uuid } });
    const roll = rng.next();
    if (roll < 0.02 && retries < 3) {
      worker.events.push({ timestamp: done, seq: seq++, type: 'task-retried', fields: { uuid, ...RETRY } });
      generated += 3;
      runTask(uuid, spec, args, kwargs, retries + 1, done + 1 + rng.next() * 2, rootId);
      return;
    }
    if (roll < 0.05) worker.events.push({ timestamp: done, seq: seq++, type: 'task-failed', fields: { uuid, ...FAILURE } });
    else worker.events.push({ timestamp: done, seq: seq++, type: 'task-succeeded', fields: { uuid, result: spec.result(rng), runtime: round(runtime, 6) } });
    worker.processed += 1;
    generated += 3;
  };

  while (generated < generateAtLeast) {
    const uuid = rng.uuid();
    const spec = rng.pick(TASKS);
    const args = spec.args(rng);
    const kwargs = spec.kwargs(rng);
    // The client publishes shortly before a lane frees up somewhere.
    let earliest = Infinity;
    for (const w of workers) for (const l of w.lanes) earliest = Math.min(earliest, l.freeAt);
    if (rng.next() < 0.1) {
      clientEvents.push({
        timestamp: earliest - 0.003,
        seq: seq++,
        type: 'task-sent',
        fields: { uuid, root_id: uuid, parent_id: null, name: spec.name, args, kwargs, retries: 0, eta: null, expires: null, queue: 'celery', exchange: '', routing_key: 'celery' },
      });
      generated += 1;
    }
    runTask(uuid, spec, args, kwargs, 0, earliest - 0.002, uuid);
  }

  // Onto the requested timeline (before the heartbeats, which stay 2 s apart on it).
  if (options.endTimestamp !== undefined || options.spanSeconds !== undefined) {
    const simulated = tEnd - t0;
    const scale = options.spanSeconds !== undefined && simulated > 0 ? options.spanSeconds / simulated : 1;
    const start = (options.endTimestamp ?? t0 + simulated * scale) - simulated * scale;
    const retime = (t: number) => start + (t - t0) * scale;
    for (const w of workers) for (const e of w.events) e.timestamp = retime(e.timestamp);
    for (const e of clientEvents) e.timestamp = retime(e.timestamp);
    tEnd = retime(tEnd);
    t0 = start;
  }

  // Heartbeats every 2 s per worker (phase-shifted), over the simulated span.
  for (const w of workers) {
    for (let t = t0 + rng.next() * 2; t <= tEnd; t += 2 + (rng.next() - 0.5) * 0.01) {
      w.events.push({
        timestamp: t,
        seq: seq++,
        type: 'worker-heartbeat',
        fields: { freq: 2.0, active: 0, processed: 0, loadavg: [round(0.8 + rng.next(), 2), round(0.7 + rng.next() * 0.5, 2), 0.61], sw_ident: 'py-celery', sw_ver: '5.2.6', sw_sys: 'Linux' },
      });
    }
  }

  // Per process: time order, Lamport clock, envelope of fields as Celery's dispatcher builds it.
  interface Timed {
    at: number;
    message: WorkloadMessage;
  }
  const timed: Timed[] = [];
  const byOrder = (a: PendingEvent, b: PendingEvent) => a.timestamp - b.timestamp || a.seq - b.seq;

  for (const w of workers) {
    w.events.sort(byOrder);
    let clock = 1000 + rng.int(0, 500);
    let buffer: Fields[] = [];
    let bufferLimit = flushSize(rng);
    let processed = 0;
    let active = 0;
    const flush = (at: number) => {
      if (buffer.length === 0) return;
      const body = Buffer.from(pythonJson(buffer), 'utf8');
      timed.push({ at, message: { routingKey: 'task.multi', hostname: w.hostname, body, events: buffer.length } });
      buffer = [];
      bufferLimit = flushSize(rng);
    };
    for (const e of w.events) {
      clock += 1;
      if (e.type === 'worker-heartbeat') {
        // A loop tick: the buffered task events go out first, then the heartbeat on its own.
        flush(e.timestamp);
        const fields = { ...e.fields, active, processed };
        const body = Buffer.from(pythonJson(celeryEvent(w.hostname, w.pid, clock, e, fields)), 'utf8');
        timed.push({ at: e.timestamp, message: { routingKey: 'worker.heartbeat', hostname: w.hostname, body, events: 1 } });
        continue;
      }
      if (e.type === 'task-started') active += 1;
      if (e.type === 'task-succeeded' || e.type === 'task-failed' || e.type === 'task-retried') {
        active = Math.max(0, active - 1);
        processed += 1;
      }
      if (options.singleTaskEvents) {
        const body = Buffer.from(pythonJson(celeryEvent(w.hostname, w.pid, clock, e, e.fields)), 'utf8');
        timed.push({ at: e.timestamp, message: { routingKey: e.type.replace('-', '.'), hostname: w.hostname, body, events: 1 } });
        continue;
      }
      buffer.push(celeryEvent(w.hostname, w.pid, clock, e, e.fields));
      if (buffer.length >= bufferLimit) flush(e.timestamp);
    }
    flush(tEnd);
  }
  clientEvents.sort(byOrder);
  let clientClock = 5000;
  for (const e of clientEvents) {
    clientClock += 1;
    const body = Buffer.from(pythonJson(celeryEvent(clientHostname, 4242, clientClock, e, e.fields)), 'utf8');
    timed.push({ at: e.timestamp, message: { routingKey: 'task.sent', hostname: clientHostname, body, events: 1 } });
  }
  timed.sort((a, b) => a.at - b.at);

  // Cut at exactly `target` events (the last task.multi may be shortened).
  const messages: WorkloadMessage[] = [];
  const byType: Record<string, number> = {};
  const hostnames = new Set<string>();
  let events = 0;
  let bodyBytes = 0;
  let lastAt = t0;
  for (const { at, message } of timed) {
    if (events >= target) break;
    let m = message;
    if (events + m.events > target) {
      const keep = target - events;
      const items = (JSON.parse(m.body.toString('utf8')) as Fields[]).slice(0, keep);
      m = { ...m, body: Buffer.from(pythonJson(items), 'utf8'), events: keep };
    }
    const parsed = JSON.parse(m.body.toString('utf8')) as Fields | Fields[];
    for (const e of Array.isArray(parsed) ? parsed : [parsed]) {
      byType[e.type as string] = (byType[e.type as string] ?? 0) + 1;
      hostnames.add(e.hostname as string);
    }
    messages.push(m);
    events += m.events;
    bodyBytes += m.body.length;
    lastAt = at;
  }
  if (events !== target) throw new Error(`workload generator produced ${events} events, wanted ${target}`);
  return { messages, events, bodyBytes, byType, hostnames: [...hostnames].sort(), simulatedSeconds: lastAt - t0 };
}

/** The event dict as celery.events.dispatcher sends it: hostname, utcoffset, pid, clock, fields, timestamp, type. */
function celeryEvent(hostname: string, pid: number, clock: number, e: PendingEvent, fields: Fields): Fields {
  return { hostname, utcoffset: 0, pid, clock, ...fields, timestamp: e.timestamp, type: e.type };
}

/** Under load the dispatcher's buffer fills to 24; a loop tick flushes it earlier now and then. */
function flushSize(rng: Rng): number {
  return rng.next() < 0.75 ? 24 : rng.int(1, 23);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
