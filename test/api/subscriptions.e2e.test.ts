/**
 * Live subscriptions end to end: the built API (dist/apps/api/main.js) on SQLite and Postgres,
 * graphql-ws clients over real sockets, and events appended to the same database by the test
 * through EventStore.append — as the collector does.
 */
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventStore, type NewEvent } from '../../libs/state/src';
import { metricValue, startApi, type ApiProcess, type GraphQLErrorBody } from '../support/api-process';
import { event, heartbeat, T0 } from '../support/event-factory';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/test-databases';

const BUFFER = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Collected<T> {
  items: T[];
  errors: GraphQLErrorBody[];
  completed: boolean;
  stop(): void;
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  ended: Promise<void>;
}

/** Subscribes and collects the field's values; operation errors land in `errors`. */
function collect<T>(client: Client, field: string, query: string, variables?: Record<string, unknown>): Collected<T> {
  let finish!: () => void;
  const ended = new Promise<void>((r) => (finish = r));
  const c: Collected<T> = {
    items: [],
    errors: [],
    completed: false,
    ended,
    stop: () => undefined,
    waitFor: (n, timeoutMs) => waitUntil(`${n} ${field} messages (have ${c.items.length}, errors ${JSON.stringify(c.errors)})`, () => c.items.length >= n || c.errors.length > 0, timeoutMs),
  };
  c.stop = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) c.errors.push(...(result.errors as GraphQLErrorBody[]));
        if (result.data?.[field]) c.items.push(result.data[field]);
      },
      error: (error) => {
        c.errors.push(...(Array.isArray(error) ? (error as GraphQLErrorBody[]) : [{ message: String((error as Error)?.message ?? error) }]));
        c.completed = true;
        finish();
      },
      complete: () => {
        c.completed = true;
        finish();
      },
    },
  );
  return c;
}

describe.each(DIALECTS)('live subscriptions on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let api: ApiProcess;
  /** A second replica on the same database, with its own tail (and a roomy buffer). */
  let replica: ApiProcess;
  /** A third one, also roomy: the resume test hops from `replica` to it. */
  let replica2: ApiProcess;
  const clients: Client[] = [];
  let clock = 1000;
  let t = T0;

  const client = (on: ApiProcess = api) => {
    const c = createClient({ url: on.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    clients.push(c);
    return c;
  };
  const append = async (events: NewEvent[]) => (await store.append({ events, rejected: [] })).stored.map((e) => e.position);
  const next = () => ((t += 0.001), (clock += 1), { timestamp: t, clock });
  const open = async (field: string, on: ApiProcess = api) => metricValue(await on.metrics(), 'celery_monitor_api_open_subscriptions', { field });
  /** Waits until `field` has `n` open subscriptions on the server (registered with the tail). */
  const opened = (field: string, n: number, on: ApiProcess = api) => waitUntil(`${n} open ${field} subscriptions`, async () => (await open(field, on)) === n);
  const progress = (source: string, extra: Record<string, unknown> = {}) => event({ type: 'task-progress', hostname: 'celery@w1', uuid: 'p-1', ...next(), ...extra }, source);

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url);
    const env = { CM_API_TAIL_INTERVAL_MS: '20', CM_API_SUBSCRIBER_BUFFER: String(BUFFER), CM_API_MAX_DEPTH: '3' };
    // Only `api` has the tiny buffer the slow-client test needs; on a loaded machine a normal client
    // can briefly trail a live burst by more than that, so the resume test runs on roomy replicas.
    // They keep the default depth limit: the batched subscriptions' row selections are one level deeper.
    const roomy = { CM_API_TAIL_INTERVAL_MS: env.CM_API_TAIL_INTERVAL_MS, CM_API_SUBSCRIBER_BUFFER: '100000' };
    [api, replica, replica2] = await Promise.all([
      startApi({ databaseUrl: db.url, env }),
      startApi({ databaseUrl: db.url, env: roomy }),
      startApi({ databaseUrl: db.url, env: roomy }),
    ]);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await Promise.all([api?.stop(), replica?.stop(), replica2?.stop()]);
    await store?.close();
    await db?.drop();
  });

  it('a subscription sees a task go RECEIVED → STARTED → SUCCESS live, and a filter on the row', async () => {
    const c = client();
    const query = 'subscription($f: TaskFilter) { taskUpdated(filter: $f) { position task { uuid name state worker lastPosition } } }';
    const all = collect<{ position: number; task: { uuid: string; name: string; state: string; worker: string; lastPosition: number } }>(c, 'taskUpdated', query, { f: { names: ['app.live'] } });
    const done = collect<{ position: number; task: { state: string } }>(c, 'taskUpdated', query, { f: { states: ['SUCCESS'], names: ['app.live'] } });
    const other = collect(c, 'taskUpdated', query, { f: { names: ['app.other'] } });
    await opened('taskUpdated', 3);

    const uuid = `live-${dialect}`;
    const [received] = await append([event({ type: 'task-received', hostname: 'celery@w1', uuid, name: 'app.live', args: '()', kwargs: '{}', ...next() })]);
    await all.waitFor(1);
    const [started] = await append([event({ type: 'task-started', hostname: 'celery@w1', uuid, ...next() })]);
    await all.waitFor(2);
    const [succeeded] = await append([event({ type: 'task-succeeded', hostname: 'celery@w1', uuid, result: '5', runtime: 0.01, ...next() })]);
    await all.waitFor(3);
    await done.waitFor(1);

    expect(all.errors).toEqual([]);
    expect(all.items.map((u) => u.task.state)).toEqual(['RECEIVED', 'STARTED', 'SUCCESS']);
    expect(all.items.map((u) => u.position)).toEqual([received, started, succeeded]);
    expect(all.items.map((u) => u.task.lastPosition)).toEqual([received, started, succeeded]);
    expect(all.items.every((u) => u.task.uuid === uuid && u.task.name === 'app.live' && u.task.worker === 'celery@w1')).toBe(true);
    expect(done.items.map((u) => [u.position, u.task.state])).toEqual([[succeeded, 'SUCCESS']]);
    await sleep(100);
    expect(other.items).toEqual([]);
    expect(all.items).toHaveLength(3);

    // Catch-up: the updates implied by the events after a position, every state the task went
    // through, each with the row as it stood after its event.
    const replay = collect<{ position: number; task: { state: string } }>(c, 'taskUpdated', 'subscription($a: Float) { taskUpdated(afterPosition: $a, filter: {names: ["app.live"]}) { position task { state } } }', { a: received! - 1 });
    await replay.waitFor(3);
    await sleep(100);
    expect(replay.items).toEqual([
      { position: received, task: { state: 'RECEIVED' } },
      { position: started, task: { state: 'STARTED' } },
      { position: succeeded, task: { state: 'SUCCESS' } },
    ]);
    for (const s of [all, done, other, replay]) s.stop();
    await opened('taskUpdated', 0);
  });

  it('events: resume with afterPosition after a disconnect (on another replica) receives every later event exactly once, in order, then live ones', async () => {
    const source = `resume-${dialect}`;
    const query = 'subscription($a: Float, $s: [String!]) { events(afterPosition: $a, filter: {source: $s}) { position type source } }';
    const first = client(replica);
    const before = collect<{ position: number; source: string }>(first, 'events', query, { s: [source] });
    await opened('events', 1, replica);

    // The collector keeps appending throughout: small batches, one every few ms.
    const total = 600;
    let appended = 0;
    const appender = (async () => {
      while (appended < total) {
        const batch = Array.from({ length: 10 }, () => progress(source));
        await append(batch);
        appended += batch.length;
        await sleep(5);
      }
    })();

    await before.waitFor(100);
    await first.dispose(); // disconnect mid-stream
    const seen = before.items.map((e) => e.position);
    const last = seen[seen.length - 1]!;
    await sleep(150); // more events arrive while disconnected

    const second = client(replica2); // a different API process: positions are the cursor, whatever the replica
    const after = collect<{ position: number; source: string }>(second, 'events', query, { s: [source], a: last });
    await appender;
    const stored = (await store.readEvents(0, 100_000)).filter((e) => e.source === source).map((e) => e.position);
    expect(stored).toHaveLength(total);
    const expected = stored.filter((p) => p > last);
    await after.waitFor(expected.length, 30_000);

    // Then live ones.
    const live = await append([progress(source), progress(source)]);
    await after.waitFor(expected.length + 2);
    await sleep(100);
    expect(after.errors).toEqual([]);
    expect(after.items.map((e) => e.position)).toEqual([...expected, ...live]);
    expect(new Set([...seen, ...after.items.map((e) => e.position)]).size).toBe(seen.length + after.items.length);
    expect(seen).toEqual(stored.slice(0, seen.length));
    after.stop();
    await opened('events', 0, replica);
    await opened('events', 0, replica2);
  });

  it('batched subscriptions: eventBatches catches up and goes live in batches of at most maxBatchSize, lastPosition resumes; taskUpdateBatches and workerUpdateBatches batch rows', async () => {
    const source = `batches-${dialect}`;
    const history = await append(Array.from({ length: 25 }, () => progress(source)));
    const query = 'subscription($a: Float, $s: [String!], $m: Int) { eventBatches(afterPosition: $a, filter: {source: $s}, maxBatchSize: $m) { events { position source } lastPosition } }';
    type Batch = { events: { position: number; source: string }[]; lastPosition: number };
    const c = client(replica);
    const batches = collect<Batch>(c, 'eventBatches', query, { a: history[2]! - 1, s: [source], m: 10 });
    const positions = () => batches.items.flatMap((b) => b.events.map((e) => e.position));
    await waitUntil('the history', () => positions().length >= 23);
    // Catch-up: the 23 stored events after afterPosition, 10 at most per message.
    expect(batches.items.map((b) => b.events.length)).toEqual([10, 10, 3]);

    const tasks = collect<{ updates: { position: number; task: { uuid: string; state: string } }[]; lastPosition: number }>(
      c,
      'taskUpdateBatches',
      'subscription { taskUpdateBatches(filter: {names: ["app.batched"]}) { updates { position task { uuid state } } lastPosition } }',
    );
    const workers = collect<{ updates: { worker: { hostname: string } }[]; lastPosition: number }>(
      c,
      'workerUpdateBatches',
      'subscription { workerUpdateBatches(filter: {hostname: "celery@batch-*"}) { updates { worker { hostname } } lastPosition } }',
    );
    await opened('eventBatches', 1, replica);
    await opened('taskUpdateBatches', 1, replica);
    await opened('workerUpdateBatches', 1, replica);

    // Live: one commit of 30 events reaches the client as batches of at most 10, in order.
    const live = await append(Array.from({ length: 30 }, () => progress(source)));
    await waitUntil('the live events', () => positions().length >= 23 + 30);
    expect(positions()).toEqual([...history.slice(2), ...live]);
    for (const b of batches.items) {
      expect(b.events.length).toBeGreaterThan(0);
      expect(b.events.length).toBeLessThanOrEqual(10);
      expect(b.lastPosition).toBe(b.events[b.events.length - 1]!.position);
    }
    expect(batches.items.length).toBeLessThan(23 + 30); // batched, not one message per event

    const [a, b, w1, w2] = await append([
      event({ type: 'task-received', hostname: 'celery@batch-1', uuid: `bt-a-${dialect}`, name: 'app.batched', ...next() }),
      event({ type: 'task-received', hostname: 'celery@batch-1', uuid: `bt-b-${dialect}`, name: 'app.batched', ...next() }),
      heartbeat('celery@batch-1', t + 1, 1),
      heartbeat('celery@batch-2', t + 1, 2),
    ]);
    await waitUntil('two task updates', () => tasks.items.flatMap((x) => x.updates).length >= 2);
    await waitUntil('two worker updates', () => workers.items.flatMap((x) => x.updates).length >= 2);
    expect(tasks.items.flatMap((x) => x.updates)).toEqual([
      { position: a, task: { uuid: `bt-a-${dialect}`, state: 'RECEIVED' } },
      { position: b, task: { uuid: `bt-b-${dialect}`, state: 'RECEIVED' } },
    ]);
    expect(tasks.items.at(-1)!.lastPosition).toBe(b);
    expect(workers.items.flatMap((x) => x.updates.map((u) => u.worker.hostname))).toEqual(['celery@batch-1', 'celery@batch-2']);
    expect(workers.items.at(-1)!.lastPosition).toBe(w2);
    expect(w1).toBeLessThan(w2!);

    // Resuming from a batch's lastPosition continues exactly after it.
    const resumeFrom = batches.items[1]!.lastPosition;
    const resumed = collect<Batch>(client(replica2), 'eventBatches', query, { a: resumeFrom, s: [source], m: 5000 });
    await waitUntil('the resumed events', () => resumed.items.flatMap((x) => x.events).length >= positions().filter((p) => p > resumeFrom).length);
    expect(resumed.items.flatMap((x) => x.events.map((e) => e.position))).toEqual(positions().filter((p) => p > resumeFrom));
    expect(batches.errors).toEqual([]);
    expect(resumed.errors).toEqual([]);
    for (const s of [batches, tasks, workers, resumed]) s.stop();
    await opened('eventBatches', 0, replica);
    await opened('eventBatches', 0, replica2);
    await opened('taskUpdateBatches', 0, replica);
  });

  it('a client that stops reading is cut off with SUBSCRIBER_TOO_SLOW while a normal client keeps receiving everything', async () => {
    const source = `slow-${dialect}`;
    const query = `subscription { events(filter: {source: ["${source}"]}) { position payload } }`;
    const normal = collect<{ position: number }>(client(), 'events', query);

    // The slow client speaks graphql-transport-ws by hand so that it can stop reading its socket.
    const slow = new WebSocket(api.wsUrl, 'graphql-transport-ws');
    const frames: { id?: string; type: string; payload?: { data?: { events: { position: number } } } & GraphQLErrorBody[] }[] = [];
    slow.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString())));
    await new Promise((r) => slow.once('open', r));
    slow.send(JSON.stringify({ type: 'connection_init' }));
    await waitUntil('connection_ack', () => frames.some((f) => f.type === 'connection_ack'));
    slow.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query } }));
    await opened('events', 2);
    slow.pause();

    // Big events fill the socket buffers, then the subscriber's queue (BUFFER items): it is cut off.
    const blob = 'x'.repeat(100_000);
    const cutOff = async () => metricValue(await api.metrics(), 'celery_monitor_api_subscribers_cut_off_total', { field: 'events' });
    const cutBefore = await cutOff();
    const positions: number[] = [];
    for (let batch = 0; (await cutOff()) === cutBefore; batch++) {
      if (batch > 400) throw new Error('the slow client was never cut off');
      positions.push(...(await append(Array.from({ length: 10 }, () => progress(source, { blob })))));
      await normal.waitFor(positions.length); // the normal client is never held up
    }
    positions.push(...(await append(Array.from({ length: 10 }, () => progress(source, { blob })))));
    await normal.waitFor(positions.length);
    expect(normal.errors).toEqual([]);
    expect(normal.items.map((e) => e.position)).toEqual(positions);
    expect(await open('events')).toBe(1);

    // Reading again, the slow client gets what was already in flight, then the error.
    slow.resume();
    await waitUntil('the error frame', () => frames.some((f) => f.type === 'error'), 30_000);
    const received = frames.filter((f) => f.type === 'next').map((f) => f.payload!.data!.events.position);
    const error = frames.find((f) => f.type === 'error')!;
    const lastDelivered = received[received.length - 1]!;
    expect(received).toEqual(positions.slice(0, received.length));
    expect(received.length).toBeLessThan(positions.length);
    expect(error.id).toBe('slow');
    expect(error.payload![0]!.extensions?.code).toBe('SUBSCRIBER_TOO_SLOW');
    expect(error.payload![0]!.extensions?.lastPosition).toBe(lastDelivered);
    expect(error.payload![0]!.message).toContain(`afterPosition: ${lastDelivered}`);
    slow.close();

    // Resubscribing with that position gives the rest, exactly.
    const rest = collect<{ position: number }>(client(), 'events', `subscription { events(afterPosition: ${lastDelivered}, filter: {source: ["${source}"]}) { position } }`);
    await rest.waitFor(positions.length - received.length);
    await sleep(100);
    expect(rest.items.map((e) => e.position)).toEqual(positions.slice(received.length));
    normal.stop();
    rest.stop();
    await opened('events', 0);
  });

  it('filters: events by type and task id, workers by status and hostname glob', async () => {
    const c = client();
    const uuid = `filter-${dialect}`;
    const events = collect<{ type: string; uuid: string }>(c, 'events', `subscription { events(filter: {types: ["task-failed"], uuid: "${uuid}"}) { type uuid } }`);
    const web = collect<{ position: number; worker: { hostname: string; status: string } }>(
      c,
      'workerUpdated',
      'subscription { workerUpdated(filter: {hostname: "celery@web-*", status: [ONLINE]}) { position worker { hostname status } } }',
    );
    await opened('events', 1);
    await opened('workerUpdated', 1);
    const positions = await append([
      event({ type: 'task-failed', hostname: 'celery@web-1', uuid: 'someone-else', exception: 'E', ...next() }),
      event({ type: 'task-succeeded', hostname: 'celery@web-1', uuid, ...next() }),
      heartbeat('celery@db-1', t + 1, 1),
      event({ type: 'task-failed', hostname: 'celery@web-1', uuid, exception: 'E', ...next() }),
      heartbeat('celery@web-2', t + 1, 2),
    ]);
    await events.waitFor(1);
    await web.waitFor(2);
    await sleep(150);
    expect(events.items).toEqual([{ type: 'task-failed', uuid }]);
    // web-1 changed through its task events (one update per worker per page: the newest), web-2 by its heartbeat.
    expect(web.items).toEqual([
      { position: positions[3], worker: { hostname: 'celery@web-1', status: 'ONLINE' } },
      { position: positions[4], worker: { hostname: 'celery@web-2', status: 'ONLINE' } },
    ]);
    events.stop();
    web.stop();
    await opened('events', 0);
    await opened('workerUpdated', 0);
  });

  it('refuses bad arguments with BAD_USER_INPUT and over-deep subscriptions with QUERY_TOO_COMPLEX', async () => {
    const c = client();
    const cases: [string, string][] = [
      ['taskUpdated', 'subscription { taskUpdated(filter: {search: "boom"}) { position } }'],
      ['taskUpdated', 'subscription { taskUpdated(filter: {received: {from: "2026-01-01T00:00:00Z"}}) { position } }'],
      ['events', 'subscription { events(afterPosition: -1) { position } }'],
      ['workerUpdated', 'subscription { workerUpdated(filter: {hostname: " "}) { position } }'],
      ['eventBatches', 'subscription { eventBatches(maxBatchSize: 0) { lastPosition } }'],
      ['taskUpdateBatches', 'subscription { taskUpdateBatches(maxBatchSize: 5001) { lastPosition } }'],
      ['workerUpdateBatches', 'subscription { workerUpdateBatches(afterPosition: -2) { lastPosition } }'],
    ];
    for (const [field, query] of cases) {
      const s = collect(c, field, query);
      await s.ended;
      expect(s.errors.map((e) => e.extensions?.code), query).toEqual(['BAD_USER_INPUT']);
      expect(s.items).toEqual([]);
    }
    const deep = collect(c, 'workerUpdated', 'subscription { workerUpdated { worker { taskCounts { state } } } }');
    await deep.ended;
    expect(deep.errors.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    const invalid = collect(c, 'events', 'subscription { events { nope } }');
    await invalid.ended;
    expect(invalid.errors[0]?.message).toMatch(/nope/);
    await opened('events', 0);
    await opened('taskUpdated', 0);
    await opened('workerUpdated', 0);
  });

  it('refuses the legacy subscriptions-transport-ws protocol', async () => {
    const outcome = await new Promise<{ error?: string; code?: number; messages: string[] }>((resolve) => {
      const ws = new WebSocket(api.wsUrl, 'graphql-ws');
      const messages: string[] = [];
      let error: string | undefined;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
      ws.on('message', (d: Buffer) => messages.push(d.toString()));
      ws.on('error', (e) => (error = e.message));
      ws.on('close', (code) => resolve({ error, code, messages }));
    });
    expect(outcome.messages).toEqual([]);
    // ws refuses a handshake without the requested subprotocol; a client that ignored it would get 4406.
    expect(outcome.error ?? `close ${outcome.code}`).toMatch(/subprotocol|close 4406/i);

    const noProtocol = await new Promise<number>((resolve) => {
      const ws = new WebSocket(api.wsUrl);
      ws.on('error', () => undefined);
      ws.on('close', (code) => resolve(code));
    });
    expect(noProtocol).toBe(4406);
  });

  it('reports the tail on /readyz and /metrics', async () => {
    const [position] = await append([progress(`ready-${dialect}`)]);
    await waitUntil('the tail to reach the head', async () => metricValue(await api.metrics(), 'celery_monitor_api_tail_position') === position);
    const res = await fetch(`${api.url}/readyz`);
    const body = (await res.json()) as { checks: { name: string; ok: boolean; detail: string }[] };
    expect(res.status).toBe(200);
    const tail = body.checks.find((ch) => ch.name === 'log-tail')!;
    expect(tail.ok).toBe(true);
    expect(tail.detail).toContain(`tail at position ${position}`);
  });
});
