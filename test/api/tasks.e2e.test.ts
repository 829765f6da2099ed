/**
 * End to end through the built API (dist/apps/api/main.js) on SQLite and Postgres: the `tasks`
 * connection (every order both ways over full walks, filters, stability while tasks arrive, bad
 * input), `task(uuid)` with its timeline and relatives (NOT_FOUND when unknown),
 * `Worker.recentTasks`, `taskNames`, and the number of SQL statements a page with every nested
 * field costs (constant: no N+1).
 */
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventStore, type TaskRecord } from '../../libs/state/src';
import { metricValue, startApi, type ApiProcess } from '../support/api-process';
import { event, T0 } from '../support/event-factory';
import { factsOfRow, finishedAt, FIELDS, lateTasks, referenceOrder, taskFixture, WORKFLOW } from '../support/task-fixtures';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/test-databases';

const MAX_PAGE = 60;
const DEFAULT_PAGE = 10;
const TASKS = 150;

interface TaskJson {
  uuid: string;
  name: string | null;
  state: string;
  receivedAt: string | null;
  finishedAt: string | null;
  runtime: number | null;
}

interface ConnectionJson {
  tasks: { edges: Array<{ cursor: string; node: TaskJson }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const PAGE = /* GraphQL */ `
  query Tasks($filter: TaskFilter, $orderBy: TaskOrder, $first: Int, $after: String) {
    tasks(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      edges { cursor node { uuid name state receivedAt finishedAt runtime } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

describe.each(DIALECTS)('tasks API on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let api: ApiProcess;
  let rows: TaskRecord[];

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url);
    await store.append({ events: taskFixture(TASKS), rejected: [] });
    rows = await store.allTasks();
    // The subscription tail polls rarely, so the statement counter moves only for our queries.
    api = await startApi({
      databaseUrl: db.url,
      env: { CM_API_MAX_PAGE_SIZE: String(MAX_PAGE), CM_API_DEFAULT_PAGE_SIZE: String(DEFAULT_PAGE), CM_API_TAIL_INTERVAL_MS: '60000' },
    });
  });

  afterAll(async () => {
    await api?.stop();
    await store?.close();
    await db?.drop();
  });

  async function page(variables: Record<string, unknown>): Promise<ConnectionJson['tasks']> {
    const res = await api.graphql<ConnectionJson>(PAGE, variables);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!.tasks;
  }

  /** Every page; checks page sizes, cursors and hasNextPage; returns the uuids in page order. */
  async function walk(variables: Record<string, unknown>, first: number, between?: (pageNo: number) => Promise<void>): Promise<string[]> {
    const seen: string[] = [];
    let after: string | null = null;
    for (let n = 0; n < 500; n++) {
      const p = await page({ ...variables, first, after });
      expect(p.edges.length).toBeLessThanOrEqual(first);
      seen.push(...p.edges.map((e) => e.node.uuid));
      expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
      if (!p.pageInfo.hasNextPage) return seen;
      expect(p.edges).toHaveLength(first);
      after = p.pageInfo.endCursor;
      await between?.(n);
    }
    throw new Error('the walk did not end');
  }

  const reference = (match: (r: TaskRecord) => boolean, field: (typeof FIELDS)[number], direction: 'asc' | 'desc') =>
    referenceOrder(rows.filter(match).map((r) => ({ ...factsOfRow(r), row: r })), field, direction).map((f) => f.uuid);

  it('walks every order both ways: every task once, in order, no gaps', async () => {
    for (const field of FIELDS) {
      for (const direction of ['asc', 'desc'] as const) {
        const seen = await walk({ orderBy: { field: field.toUpperCase(), direction: direction.toUpperCase() } }, 9);
        expect(seen, `${field} ${direction}`).toEqual(reference(() => true, field, direction));
        expect(new Set(seen).size).toBe(rows.length);
      }
    }
  });

  it('pages by the default size, newest received first, when given no arguments', async () => {
    const p = await page({});
    expect(p.edges.map((e) => e.node.uuid)).toEqual(reference(() => true, 'received', 'desc').slice(0, DEFAULT_PAGE));
    expect(p.pageInfo.hasNextPage).toBe(true);
  });

  it('filters by every criterion', async () => {
    const inRange = (v: number | null, from?: number, to?: number) => v !== null && (from === undefined || v >= from) && (to === undefined || v < to);
    const lower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const cases: Array<[Record<string, unknown>, (r: TaskRecord) => boolean]> = [
      [{ states: ['FAILURE', 'REVOKED'] }, (r) => r.state === 'FAILURE' || r.state === 'REVOKED'],
      [{ names: ['proj.émoji'] }, (r) => r.name === 'proj.émoji'],
      [{ workers: ['celery@gamma'], states: ['SUCCESS'] }, (r) => r.worker === 'celery@gamma' && r.state === 'SUCCESS'],
      [{ sources: ['redis'], queues: ['images'] }, (r) => r.source === 'redis' && r.queue === 'images'],
      [{ received: { from: iso(T0 + 100), to: iso(T0 + 200) } }, (r) => inRange(r.received_at, T0 + 100, T0 + 200)],
      [{ started: { from: iso(T0 + 300) } }, (r) => inRange(r.started_at, T0 + 300)],
      [{ finished: { to: iso(T0 + 100) } }, (r) => inRange(finishedAt(factsOfRow(r)), undefined, T0 + 100)],
      [{ runtime: { min: 2, max: 3 } }, (r) => r.runtime !== null && r.runtime >= 2 && r.runtime <= 3],
      [{ rootId: WORKFLOW.root }, (r) => r.root_id === WORKFLOW.root],
      [{ parentId: WORKFLOW.child1 }, (r) => r.parent_id === WORKFLOW.child1],
      [{ search: '100%_DONE' }, (r) => r.result !== null && lower(r.result).includes('100%_done')],
      [{ search: 'missing_key', states: ['FAILURE'] }, (r) => r.state === 'FAILURE' && (r.exception ?? '').toLowerCase().includes('missing_key')],
    ];
    for (const [filter, match] of cases) {
      const want = reference(match, 'received', 'desc');
      expect(want.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(await walk({ filter }, 7), JSON.stringify(filter)).toEqual(want);
      // The same filter in another order returns the same tasks.
      expect(await walk({ filter, orderBy: { field: 'RUNTIME', direction: 'ASC' } }, 7)).toEqual(reference(match, 'runtime', 'asc'));
    }
  });

  it('keeps a walk stable while new tasks arrive between pages', async () => {
    const want = reference(() => true, 'received', 'desc');
    let batch = 0;
    const seen = await walk({}, 11, async () => {
      await store.append({ events: lateTasks(`e2e-late-${batch}`, 3, T0 + 50_000 + batch * 10), rejected: [] });
      batch++;
    });
    expect(batch).toBeGreaterThan(5);
    expect(seen).toEqual(want);
    // The newcomers are there for a new walk.
    const fresh = await page({ first: 3 });
    expect(fresh.edges.map((e) => e.node.uuid)).toEqual([`e2e-late-${batch - 1}-2`, `e2e-late-${batch - 1}-1`, `e2e-late-${batch - 1}-0`]);
    rows = await store.allTasks();
  });

  it('refuses bad arguments with BAD_USER_INPUT and a message naming the problem', async () => {
    const p = await page({ first: 2, orderBy: { field: 'NAME', direction: 'ASC' } });
    const nameCursor = p.pageInfo.endCursor!;
    const cases: Array<[Record<string, unknown>, RegExp, string]> = [
      [{ first: 0 }, /^first must be between 1 and 60 \(the maximum page size\), got 0$/, 'first'],
      [{ first: MAX_PAGE + 1 }, /^first must be between 1 and 60 \(the maximum page size\), got 61$/, 'first'],
      [{ after: 'garbage!' }, /^after is not a valid cursor here: it is not a cursor of the tasks connection/, 'after'],
      [{ after: Buffer.from('["task",1,"received","desc","x","y"]').toString('base64url') }, /^after is not a valid cursor here: it is damaged/, 'after'],
      [{ after: nameCursor }, /it was issued for orderBy \{field: NAME, direction: ASC\}, not \{field: RECEIVED, direction: DESC\}/, 'after'],
      [{ filter: { states: ['SUCCESS', ''] } }, /^filter\.states\[1\] is an empty string/, 'filter.states'],
      [{ filter: { workers: [''] } }, /^filter\.workers\[0\] is an empty string/, 'filter.workers'],
      [{ filter: { received: { from: iso(T0 + 10), to: iso(T0) } } }, /^filter\.received\.from \(.*\) is after filter\.received\.to \(.*\)/, 'filter.received'],
      [{ filter: { runtime: { min: 3, max: 1 } } }, /^filter\.runtime\.min \(3\) is greater than filter\.runtime\.max \(1\)/, 'filter.runtime'],
      [{ filter: { search: '' } }, /^filter\.search must not be empty/, 'filter.search'],
      [{ filter: { rootId: '' } }, /^filter\.rootId must not be empty/, 'filter.rootId'],
    ];
    for (const [variables, message, argument] of cases) {
      const res = await api.graphql(PAGE, variables);
      expect(res.data?.tasks ?? null, JSON.stringify(variables)).toBeNull();
      expect(res.errors, JSON.stringify(variables)).toHaveLength(1);
      expect(res.errors![0]!.message).toMatch(message);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    }
    // DateTime: a zone, a calendar date and a string, or the variable is refused before anything runs.
    for (const [to, message] of [
      ['2026-11-24T02:10:40', /invalid DateTime: expected an RFC 3339 date-time with a zone/],
      ['2026-02-30T00:00:00Z', /invalid DateTime: "2026-02-30T00:00:00Z" is not a calendar date/],
      [1795486239, /DateTime must be a string.*not a number of seconds or milliseconds/],
    ] as const) {
      const res = await api.graphql(PAGE, { filter: { received: { to } } });
      expect(res.data?.tasks ?? null, String(to)).toBeNull();
      expect(res.errors?.[0]?.message, String(to)).toMatch(message);
      expect(res.errors?.[0]?.extensions?.code, String(to)).toBe('BAD_USER_INPUT');
    }
    const literal = await api.graphql(`{ tasks(filter: { received: { from: 1795486239 } }) { edges { cursor } } }`);
    expect(literal.errors?.[0]?.message).toMatch(/DateTime must be a string/);
    const recent = await api.graphql('{ workers { recentTasks(first: 0) { uuid } } }');
    expect(recent.errors?.[0]).toMatchObject({ message: 'first must be between 1 and 60 (the maximum page size), got 0', extensions: { code: 'BAD_USER_INPUT' } });
  });

  const TASK = /* GraphQL */ `
    query Task($uuid: ID!) {
      task(uuid: $uuid) {
        uuid state
        timeline { position type uuid source }
        parent { uuid }
        children { uuid parentId }
        root { uuid }
        workerInfo { hostname status }
      }
    }
  `;

  interface TaskDetail {
    uuid: string;
    timeline: Array<{ position: number; type: string; uuid: string; source: string }>;
    parent: { uuid: string } | null;
    children: Array<{ uuid: string }>;
    root: { uuid: string } | null;
    workerInfo: { hostname: string } | null;
  }

  async function task(uuid: string): Promise<TaskDetail | null> {
    const res = await api.graphql<{ task: TaskDetail | null }>(TASK, { uuid });
    expect(res.errors).toBeUndefined();
    return res.data!.task;
  }

  it('returns one task with its timeline, parent, children, root and worker', async () => {
    const log = await store.readEvents(0, 100_000);
    const root = await task(WORKFLOW.root);
    expect(root).toMatchObject({ uuid: WORKFLOW.root, parent: null, root: null, workerInfo: { hostname: 'celery@alpha' } });
    expect(root!.children.map((c) => c.uuid)).toEqual([WORKFLOW.child1, WORKFLOW.child2]);
    expect(root!.timeline).toEqual(log.filter((e) => e.uuid === WORKFLOW.root).map((e) => ({ position: e.position, type: e.type, uuid: e.uuid, source: e.source })));
    expect(root!.timeline.map((e) => e.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);

    const grandchild = await task(WORKFLOW.grandchild);
    expect(grandchild).toMatchObject({ parent: { uuid: WORKFLOW.child1 }, root: { uuid: WORKFLOW.root }, children: [] });
    expect((await task(WORKFLOW.child1))!.children.map((c) => c.uuid)).toEqual([WORKFLOW.grandchild]);

    // A retry naming itself as parent: neither its own parent nor its own child.
    const self = await task(WORKFLOW.selfParent);
    expect(self).toMatchObject({ parent: null, children: [], root: { uuid: WORKFLOW.root } });
    // Parent and root never stored.
    expect(await task(WORKFLOW.orphan)).toMatchObject({ parent: null, root: null });

    // A task never stored: null with a NOT_FOUND error (only the top-level lookup raises it).
    const missing = await api.graphql<{ task: TaskDetail | null }>(TASK, { uuid: 'no-such-task' });
    expect(missing.status).toBe(200);
    expect(missing.data).toEqual({ task: null });
    expect(missing.errors).toHaveLength(1);
    expect(missing.errors![0]).toMatchObject({ path: ['task'], extensions: { code: 'NOT_FOUND', argument: 'uuid' } });
    expect(missing.errors![0]!.message).toMatch(/^task "no-such-task" not found: no event of it has been stored/);
  });

  it("lists each worker's newest tasks", async () => {
    const res = await api.graphql<{ workers: Array<{ hostname: string; recentTasks: Array<{ uuid: string }>; five: Array<{ uuid: string }> }> }>(
      '{ workers { hostname recentTasks { uuid } five: recentTasks(first: 5) { uuid } } }',
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.workers.length).toBeGreaterThanOrEqual(3);
    for (const w of res.data!.workers) {
      const want = reference((r) => r.worker === w.hostname, 'received', 'desc');
      expect(w.recentTasks.map((t) => t.uuid)).toEqual(want.slice(0, 20));
      expect(w.five.map((t) => t.uuid)).toEqual(want.slice(0, 5));
    }
  });

  it('counts tasks by name', async () => {
    const res = await api.graphql<{ taskNames: Array<{ name: string; count: number }> }>('{ taskNames { name count } }');
    const counts = new Map<string, number>();
    for (const r of rows) if (r.name) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
    expect(res.data!.taskNames).toEqual([...counts].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map(([name, count]) => ({ name, count })));
  });

  it('resolves timeline and relatives of tasks pushed by a subscription, afresh for every update', async () => {
    // A replica with a fast log tail (the main one polls rarely for the statement counts).
    const live = await startApi({ databaseUrl: db.url, env: { CM_API_TAIL_INTERVAL_MS: '20' } });
    const client = createClient({ url: live.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const updates: Array<{ state: string; timeline: string[]; parent: string | null; children: string[] }> = [];
      const errors: unknown[] = [];
      const stop = client.subscribe<{ taskUpdated: { task: { state: string; timeline: Array<{ type: string }>; parent: { uuid: string } | null; children: Array<{ uuid: string }> } } }>(
        { query: 'subscription { taskUpdated(filter: {names: ["proj.sub"]}) { task { state timeline { type } parent { uuid } children { uuid } } } }' },
        {
          next: ({ data, errors: e }) => {
            if (e) errors.push(e);
            const t = data!.taskUpdated.task;
            updates.push({ state: t.state, timeline: t.timeline.map((x) => x.type), parent: t.parent?.uuid ?? null, children: t.children.map((c) => c.uuid) });
          },
          error: (e) => errors.push(e),
          complete: () => undefined,
        },
      );
      const until = async (n: number) => {
        for (let i = 0; i < 200 && updates.length < n; i++) await new Promise((r) => setTimeout(r, 25));
        expect(updates.length).toBeGreaterThanOrEqual(n);
      };
      await new Promise((r) => setTimeout(r, 300)); // subscribed
      const t = T0 + 90_000;
      const common = { hostname: 'celery@alpha', uuid: 'sub-1' };
      await store.append({ events: [event({ type: 'task-received', ...common, name: 'proj.sub', parent_id: WORKFLOW.root, root_id: WORKFLOW.root, timestamp: t, clock: 1 })], rejected: [] });
      await until(1);
      await store.append({ events: [event({ type: 'task-started', ...common, timestamp: t + 1, clock: 2 })], rejected: [] });
      await until(2);
      stop();
      expect(errors).toEqual([]);
      expect(updates).toEqual([
        { state: 'RECEIVED', timeline: ['task-received'], parent: WORKFLOW.root, children: [] },
        { state: 'STARTED', timeline: ['task-received', 'task-started'], parent: WORKFLOW.root, children: [] },
      ]);
    } finally {
      await client.dispose();
      await live.stop();
      rows = await store.allTasks();
    }
  });

  it('costs the same few SQL statements for a page of 5 or 50 tasks with every nested field', async () => {
    const query = (first: number) => `{
      tasks(first: ${first}, filter: { received: { to: "${iso(T0 + 10_000)}" } }) { edges { node { uuid
        timeline { type } parent { uuid } children { uuid } root { uuid } workerInfo { hostname recentTasks(first: 2) { uuid } }
      } } }
    }`;
    const statements = async (first: number) => {
      let fewest = Infinity;
      for (let i = 0; i < 3; i++) {
        const before = metricValue(await api.metrics(), 'celery_monitor_api_db_statements_total');
        const res = await api.graphql<ConnectionJson>(query(first));
        const after = metricValue(await api.metrics(), 'celery_monitor_api_db_statements_total');
        expect(res.errors).toBeUndefined();
        expect(res.data!.tasks.edges).toHaveLength(first);
        fewest = Math.min(fewest, after - before);
      }
      return fewest;
    };
    const small = await statements(5);
    const large = await statements(50);
    // One each: tasks, timelines, parents and roots, children, workers, their recent tasks. (The
    // newest tasks before the late arrivals are the workflow's: they have parents and roots.)
    expect(small).toBe(6);
    expect(large).toBe(small);
  });
});
