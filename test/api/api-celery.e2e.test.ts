/**
 * The whole product end to end: a real Celery worker emits events, the collector stores them, and
 * the API answers over HTTP and graphql-ws — on SQLite and on Postgres.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiProcess } from '../support/api-process';
import { sendTasks } from '../support/celery-client';
import { startCeleryWorker, uniqueNodeName, uniqueQueueName, type CeleryWorker } from '../support/celery-worker';
import { startCollector, type CollectorProcess } from '../support/collector-process';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const BROKER = 'amqp://guest:guest@127.0.0.1:5672//';

interface Collected<T> {
  items: T[];
  errors: unknown[];
  done: boolean;
  dispose: () => void;
}

function subscribe<T>(client: Client, query: string, variables: Record<string, unknown>): Collected<T> {
  const collected: Collected<T> = { items: [], errors: [], done: false, dispose: () => undefined };
  collected.dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (message) => {
        if (message.errors) collected.errors.push(...message.errors);
        if (message.data) collected.items.push(message.data as T);
      },
      error: (error) => collected.errors.push(error),
      complete: () => (collected.done = true),
    },
  );
  return collected;
}

describe.each(DIALECTS)('API over a collector fed by real Celery on %s', (dialect) => {
  let db: TestDatabase;
  let collector: CollectorProcess;
  let worker: CeleryWorker;
  let api: ApiProcess;
  let client: Client;
  const celeryQueue = uniqueQueueName('api-e2e');
  const collectorQueue = `cm-e2e.api.${celeryQueue}`;
  const nodeName = uniqueNodeName('api');

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    collector = await startCollector({ brokers: `rabbit=${BROKER}`, databaseUrl: db.url, amqpQueue: collectorQueue });
    api = await startApi({ databaseUrl: db.url });
    worker = await startCeleryWorker({ brokerUrl: BROKER, nodeName, queues: [celeryQueue], concurrency: 1 });
    client = createClient({ url: api.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  });

  afterAll(async () => {
    await client?.dispose();
    await worker?.stop().catch(() => worker.kill());
    await api?.stop();
    await collector?.stop().catch(() => collector.kill());
    await deleteTestQueue(BROKER, celeryQueue).catch(() => undefined);
    await deleteTestQueue(BROKER, collectorQueue).catch(() => undefined);
    await db?.drop();
  });

  it('streams tasks going PENDING → RECEIVED → STARTED → SUCCESS live (a fast one too), and queries return what happened', async () => {
    type Update = { taskUpdated: { position: number; task: { uuid: string; state: string; worker: string | null } } };
    const live = subscribe<Update>(client, 'subscription ($f: TaskFilter) { taskUpdated(filter: $f) { position task { uuid state worker } } }', {
      f: { queues: [], names: ['sleep', 'add'] },
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the subscription is registered
    // The worker (concurrency 1) is busy with the first sleep, so the second waits as RECEIVED.
    // The add after them runs in a few milliseconds: its events mostly reach one commit together,
    // and its updates must still show each state it went through.
    const [, target, fast] = await sendTasks(BROKER, [
      { name: 'sleep', args: [1.5], queue: celeryQueue },
      { name: 'sleep', args: [1], queue: celeryQueue },
      { name: 'add', args: [2, 3], queue: celeryQueue },
    ]);
    await waitFor(() => live.items.some((u) => u.taskUpdated.task.uuid === fast && u.taskUpdated.task.state === 'SUCCESS') || undefined, {
      timeoutMs: 20_000,
      description: `SUCCESS update of task ${fast}`,
    });
    live.dispose();
    expect(live.errors).toEqual([]);
    const mine = live.items.map((u) => u.taskUpdated).filter((u) => u.task.uuid === target);
    const states = mine.map((u) => u.task.state).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    expect(states).toEqual(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS']); // PENDING: the client's task-sent
    const positions = mine.map((u) => u.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(mine.at(-1)!.task.worker).toBe(nodeName);
    const fastStates = live.items.map((u) => u.taskUpdated).filter((u) => u.task.uuid === fast).map((u) => u.task.state);
    expect(fastStates.filter((s, i, all) => i === 0 || all[i - 1] !== s)).toEqual(['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS']);

    const { data, errors } = await api.graphql<{ task: { state: string; name: string; args: string; worker: string; runtime: number; timeline: { type: string }[] } }>(
      `query ($id: ID!) { task(uuid: $id) { state name args worker runtime timeline { type } } }`,
      { id: target },
    );
    expect(errors).toBeUndefined();
    expect(data!.task).toMatchObject({ state: 'SUCCESS', name: 'sleep', args: '[1]', worker: nodeName });
    expect(data!.task.runtime).toBeGreaterThan(0.9);
    expect(data!.task.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['task-sent', 'task-received', 'task-started', 'task-succeeded']));
    const workerAnswer = await api.graphql<{ worker: { status: string; swIdent: string; taskCounts: { state: string; count: number }[] } }>(
      `query ($h: String!) { worker(hostname: $h) { status swIdent taskCounts { state count } } }`,
      { h: nodeName },
    );
    expect(workerAnswer.data!.worker).toMatchObject({ status: 'ONLINE', swIdent: 'py-celery' });
    expect(workerAnswer.data!.worker.taskCounts).toEqual(expect.arrayContaining([{ state: 'SUCCESS', count: 3 }])); // 2 sleeps + the add
  });

  it('resumes the events subscription after a reconnect without a gap or a duplicate', async () => {
    type Ev = { events: { position: number; type: string; uuid: string | null } };
    const filter = { types: ['task-received', 'task-started', 'task-succeeded'] };
    const first = subscribe<Ev>(client, 'subscription ($f: EventFilter) { events(filter: $f) { position type uuid } }', { f: filter });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const batch1 = await sendTasks(BROKER, [1, 2, 3].map((i) => ({ name: 'add', args: [i, i], queue: celeryQueue })));
    await waitFor(() => first.items.filter((e) => batch1.includes(e.events.uuid!)).length >= 3 || undefined, { timeoutMs: 20_000, description: 'first events' });
    first.dispose(); // disconnect mid-stream
    const last = first.items.at(-1)!.events.position;

    const batch2 = await sendTasks(BROKER, [4, 5, 6].map((i) => ({ name: 'add', args: [i, i], queue: celeryQueue })));
    const all = [...batch1, ...batch2];
    // Wait until the collector stored everything, so the resumed stream must replay it.
    await waitFor(async () => {
      const { data } = await api.graphql<{ tasks: { edges: unknown[] } }>('query ($f: TaskFilter) { tasks(filter: $f, first: 50) { edges { cursor } } }', {
        f: { states: ['SUCCESS'], queues: [celeryQueue] },
      });
      return (data?.tasks.edges.length ?? 0) >= 9 || undefined; // 2 sleeps + 7 adds
    }, { timeoutMs: 20_000, description: 'all tasks stored' });

    const resumed = subscribe<Ev>(client, 'subscription ($f: EventFilter, $a: Float) { events(filter: $f, afterPosition: $a) { position type uuid } }', {
      f: filter,
      a: last,
    });
    await waitFor(() => resumed.items.filter((e) => batch2.includes(e.events.uuid!) && e.events.type === 'task-succeeded').length >= 3 || undefined, {
      timeoutMs: 20_000,
      description: 'resumed events of the second batch',
    });
    resumed.dispose();
    const seen = [...first.items, ...resumed.items].map((e) => e.events);
    const positions = seen.map((e) => e.position);
    expect(new Set(positions).size).toBe(positions.length);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);

    // Exactly the log: the audit query over the same range returns the same positions.
    const audit = await api.graphql<{ events: { events: { position: number }[] } }>(
      'query ($f: EventFilter, $a: Float) { events(filter: $f, after: $a, first: 500) { events { position } } }',
      { f: filter, a: positions[0]! - 1 },
    );
    const logged = audit.data!.events.events.map((e) => e.position).filter((p) => p <= positions.at(-1)!);
    expect(positions).toEqual(logged);
    for (const id of all) expect(seen.filter((e) => e.uuid === id).map((e) => e.type).sort()).toEqual(['task-received', 'task-started', 'task-succeeded']);
  });

  it('keeps pagination stable while new tasks arrive, and rejects bad filters precisely', async () => {
    const query = 'query ($f: TaskFilter, $after: String) { tasks(filter: $f, first: 3, after: $after) { edges { node { uuid } } pageInfo { hasNextPage endCursor } } }';
    const f = { queues: [celeryQueue] };
    const before = await api.graphql<{ tasks: { edges: { node: { uuid: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(query, { f });
    const pages = [before.data!.tasks];
    const arrived = await sendTasks(BROKER, [7, 8].map((i) => ({ name: 'add', args: [i, i], queue: celeryQueue })));
    await waitFor(async () => {
      const { data } = await api.graphql<{ task: { state: string } | null }>('query ($id: ID!) { task(uuid: $id) { state } }', { id: arrived[1] });
      return data?.task?.state === 'SUCCESS' || undefined;
    }, { timeoutMs: 20_000, description: 'new tasks stored' });
    while (pages.at(-1)!.pageInfo.hasNextPage) {
      const next = await api.graphql<{ tasks: (typeof pages)[number] }>(query, { f, after: pages.at(-1)!.pageInfo.endCursor });
      pages.push(next.data!.tasks);
    }
    const walked = pages.flatMap((p) => p.edges.map((e) => e.node.uuid));
    expect(new Set(walked).size).toBe(walked.length);
    expect(walked).toHaveLength(9); // the 9 tasks present before the walk, none twice, none skipped
    for (const id of arrived) expect(walked).not.toContain(id); // newer tasks land before the cursor

    const bad = await api.graphql(query, { f: { states: [''] } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooBig = await api.graphql('{ tasks(first: 100000) { edges { cursor } } }');
    expect(tooBig.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooBig.errors?.[0]?.message).toMatch(/first/);
    const badCursor = await api.graphql(query, { f, after: 'not-a-cursor' });
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
