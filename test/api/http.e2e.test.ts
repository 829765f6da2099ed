/**
 * GraphQL over HTTP end to end: the built API (dist/apps/api/main.js) on SQLite and Postgres, with
 * workers and tasks appended through EventStore.append (as the collector does). Over-limit queries
 * (HTTP 400, QUERY_TOO_COMPLEX), NOT_FOUND for the top-level lookups, `workers(filter)` and the
 * request metrics' bounded labels on /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, type NewEvent } from '../../libs/state/src';
import { metricValue, startApi, type ApiProcess } from '../support/api-process';
import { event, T0 } from '../support/event-factory';
import { metricSamples } from '../support/prometheus-text';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/test-databases';

const MAX_DEPTH = 4;
const MAX_COMPLEXITY = 2000;

/** hostname, source, online or not. */
const WORKERS: Array<[string, string, boolean]> = [
  ['celery@web-1', 'rabbitmq', true],
  ['celery@web-2', 'redis', false],
  ['celery@web-12', 'rabbitmq', true],
  ['celery@web_1', 'rabbitmq', true],
  ['celery@web%1', 'redis', false],
  ['celery@webX1', 'rabbitmq', false],
];

function seed(): NewEvent[] {
  const workers = WORKERS.flatMap(([hostname, source, online], i) => {
    const alive = { hostname, freq: 2, sw_ident: 'py-celery', sw_ver: '5.2.6', sw_sys: 'Linux' };
    const events = [event({ type: 'worker-online', ...alive, timestamp: T0 + i, clock: 1 }, source)];
    if (!online) events.push(event({ type: 'worker-offline', hostname, timestamp: T0 + i + 1, clock: 2 }, source));
    return events;
  });
  // A task whose parent and root were never stored.
  const task = event({ type: 'task-received', hostname: 'celery@web-1', uuid: 'orphan-1', name: 'app.add', args: '(1, 2)', kwargs: '{}', parent_id: 'never-parent', root_id: 'never-root', timestamp: T0 + 10, clock: 5 });
  return [...workers, task];
}

describe.each(DIALECTS)('GraphQL over HTTP on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let api: ApiProcess;

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url);
    await store.append({ events: seed(), rejected: [] });
    api = await startApi({
      databaseUrl: db.url,
      env: { CM_API_MAX_DEPTH: String(MAX_DEPTH), CM_API_MAX_COMPLEXITY: String(MAX_COMPLEXITY), CM_API_TAIL_INTERVAL_MS: '60000' },
    });
  });

  afterAll(async () => {
    await api?.stop();
    await store?.close();
    await db?.drop();
  });

  it('answers queries over the depth or cost limit with HTTP 400 and QUERY_TOO_COMPLEX naming the limit and its setting', async () => {
    // task 1, parent 2..5, uuid 6
    const deep = await api.graphql('{ task(uuid: "orphan-1") { parent { parent { parent { parent { uuid } } } } } }');
    expect(deep.status).toBe(400);
    expect(deep.data).toBeUndefined();
    expect(deep.errors).toHaveLength(1);
    expect(deep.errors![0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX' });
    expect(deep.errors![0]!.message).toMatch(/^query depth 6 exceeds the limit of 4 \(CM_API_MAX_DEPTH\): select fewer nested levels/);

    // workers 1 + 20 (a list's guessed size) × (recentTasks 1 + 200 × 3 fields)
    const costly = await api.graphql('query ($n: Int!) { workers { recentTasks(first: $n) { uuid name state } } }', { n: 200 });
    expect(costly.status).toBe(400);
    expect(costly.data).toBeUndefined();
    expect(costly.errors).toHaveLength(1);
    expect(costly.errors![0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX' });
    expect(costly.errors![0]!.message).toMatch(/^query cost 12021 exceeds the limit of 2000 \(CM_API_MAX_COMPLEXITY\): ask for smaller pages/);

    // The same shapes within the limits run.
    const fine = await api.graphql<{ workers: Array<{ recentTasks: unknown[] }> }>('query ($n: Int!) { workers { recentTasks(first: $n) { uuid name state } } }', { n: 2 });
    expect(fine.status).toBe(200);
    expect(fine.errors).toBeUndefined();
    expect(fine.data!.workers.flatMap((w) => w.recentTasks)).toHaveLength(1);
  });

  it('answers task(uuid) and worker(hostname) for keys never stored with null and NOT_FOUND; nested lookups stay null', async () => {
    const res = await api.graphql<Record<string, unknown>>(`{
      known: worker(hostname: "celery@web_1") { hostname status recentTasks { uuid } }
      unknown: worker(hostname: "celery@web_") { hostname }
      task(uuid: "orphan-1") { uuid parent { uuid } root { uuid } children { uuid } workerInfo { hostname } }
      missing: task(uuid: "never-parent") { uuid }
    }`);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      known: { hostname: 'celery@web_1', status: 'ONLINE', recentTasks: [] },
      unknown: null,
      task: { uuid: 'orphan-1', parent: null, root: null, children: [], workerInfo: { hostname: 'celery@web-1' } },
      missing: null,
    });
    const errors = [...(res.errors ?? [])].sort((a, b) => a.message.localeCompare(b.message));
    expect(errors).toMatchObject([
      { path: ['missing'], extensions: { code: 'NOT_FOUND', argument: 'uuid' } },
      { path: ['unknown'], extensions: { code: 'NOT_FOUND', argument: 'hostname' } },
    ]);
    expect(errors[0]!.message).toMatch(/^task "never-parent" not found: no event of it has been stored/);
    expect(errors[1]!.message).toMatch(/^worker "celery@web_" not found: no event of it has been stored.*the workers query lists every known one/);
  });

  it('refuses text arguments holding NUL (U+0000) with HTTP 400 and BAD_USER_INPUT naming where, before any SQL (Postgres would fail on it)', async () => {
    const cases: Array<[string, Record<string, unknown> | undefined, string]> = [
      ['{ task(uuid: "a\\u0000b") { uuid } }', undefined, 'a string literal of the operation'],
      ['query ($h: String!) { worker(hostname: $h) { hostname } }', { h: 'celery@w\u0000' }, 'variable $h'],
      ['query ($f: TaskFilter) { tasks(filter: $f) { edges { node { uuid } } } }', { f: { names: ['app.add', 'a\u0000'] } }, 'variable $f.names[1]'],
      ['query ($f: TaskFilter) { tasks(filter: $f) { edges { node { uuid } } } }', { f: { search: 'x\u0000' } }, 'variable $f.search'],
      ['query ($f: EventFilter) { events(filter: $f) { events { position } } }', { f: { hostname: 'w\u0000' } }, 'variable $f.hostname'],
    ];
    for (const [query, variables, where] of cases) {
      const r = await api.graphql(query, variables);
      expect(r.status, query).toBe(400);
      expect(r.errors, query).toHaveLength(1);
      expect(r.errors![0]!.extensions, query).toEqual({ code: 'BAD_USER_INPUT' });
      expect(r.errors![0]!.message).toBe(`text arguments must not contain NUL characters (U+0000): found in ${where}`);
    }
  });

  it('filters workers by status, source and hostname glob, with `_` and `%` taken literally', async () => {
    const hostnames = async (filter: Record<string, unknown>) => {
      const res = await api.graphql<{ workers: Array<{ hostname: string }> }>('query ($f: WorkerFilter) { workers(filter: $f) { hostname } }', { f: filter });
      expect(res.errors, JSON.stringify(filter)).toBeUndefined();
      return res.data!.workers.map((w) => w.hostname);
    };
    expect(await hostnames({})).toEqual(['celery@web%1', 'celery@web-1', 'celery@web-12', 'celery@web-2', 'celery@webX1', 'celery@web_1']);
    expect(await hostnames({ status: ['OFFLINE'] })).toEqual(['celery@web%1', 'celery@web-2', 'celery@webX1']);
    expect(await hostnames({ status: ['ONLINE'], source: ['rabbitmq'] })).toEqual(['celery@web-1', 'celery@web-12', 'celery@web_1']);
    expect(await hostnames({ source: ['redis'] })).toEqual(['celery@web%1', 'celery@web-2']);
    expect(await hostnames({ hostname: 'celery@web-*' })).toEqual(['celery@web-1', 'celery@web-12', 'celery@web-2']);
    expect(await hostnames({ hostname: 'celery@web?1', status: ['ONLINE'] })).toEqual(['celery@web-1', 'celery@web_1']);
    expect(await hostnames({ hostname: 'celery@web_1' })).toEqual(['celery@web_1']);
    expect(await hostnames({ hostname: 'celery@web%' })).toEqual([]);
    const empty = await api.graphql('{ workers(filter: { hostname: "" }) { hostname } }');
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.hostname' });
  });

  it('counts requests on /metrics by operation type and root fields, never by the client-chosen operation name', async () => {
    const labels = [
      { operation: 'query:workers', type: 'query', outcome: 'ok' },
      { operation: 'query:task,workers', type: 'query', outcome: 'ok' },
      { operation: 'query:task', type: 'query', outcome: 'error' },
      { operation: 'unknown', type: 'unknown', outcome: 'error' },
    ];
    const counts = (text: string) => labels.map((l) => metricValue(text, 'celery_monitor_api_requests_total', l));
    const timed = (text: string) => metricValue(text, 'celery_monitor_api_request_seconds_count', { operation: 'query:workers', type: 'query' });
    const before = await api.metrics();

    expect((await api.graphql('query DashboardPanelOne { workers { hostname } }')).status).toBe(200);
    expect((await api.graphql('query DashboardPanelTwo { all: workers { hostname } }')).status).toBe(200);
    expect((await api.graphql('query Mixed { task(uuid: "orphan-1") { uuid } workers { hostname } }')).errors).toBeUndefined();
    expect((await api.graphql('query Missing { task(uuid: "nope") { uuid } }')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await api.graphql('query TooDeep { task(uuid: "x") { parent { parent { parent { parent { uuid } } } } } }')).status).toBe(400);
    expect((await api.graphql('query Broken {')).status).toBe(400);

    const after = await api.metrics();
    const delta = counts(after).map((n, i) => n - counts(before)[i]!);
    expect(delta).toEqual([2, 1, 2, 1]);
    expect(timed(after) - timed(before)).toBe(2);
    for (const name of ['celery_monitor_api_requests_total', 'celery_monitor_api_request_seconds_count']) {
      const operations = new Set(metricSamples(after, name).map((s) => s.labels.operation));
      for (const op of operations) expect(op, name).toMatch(/^(unknown|(query|subscription):[_a-zA-Z,]+)$/);
    }
    expect(after).not.toMatch(/DashboardPanel|Mixed|Missing|TooDeep|Broken/);
  });

  it('stops on SIGTERM with exit code 0 (last: the other tests use this API)', async () => {
    expect(await api.stop()).toEqual({ code: 0, signal: null });
  });
});

