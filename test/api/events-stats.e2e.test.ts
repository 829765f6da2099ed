/**
 * End to end through the built API (dist/apps/api/main.js) on SQLite and Postgres: the `events`
 * audit query (paging walk, filters, bad input) and `stats` (exact numbers for a hand-computed
 * dataset, bad input).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, type StoredEvent } from '../../libs/state/src';
import { startApi, type ApiProcess } from '../support/api-process';
import { T0 } from '../support/event-factory';
import { auditEvents, EXPECTED_STATS, F, STATS_FROM, STATS_TO, statsDatasetEvents } from '../support/read-datasets';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/test-databases';

const MAX_PAGE = 20;
const DEFAULT_PAGE = 7;
/** The audit events are far from the stats window, so they do not change its numbers. */
const AUDIT_T0 = T0 + 100_000;

interface EventJson {
  position: number;
  type: string;
  source: string;
  hostname: string;
  uuid: string | null;
  clock: number | null;
  timestamp: number;
  time: string;
  receivedAt: string;
  payload: Record<string, unknown>;
}

interface PageJson {
  events: EventJson[];
  endPosition: number;
  hasMore: boolean;
}

const EVENTS = /* GraphQL */ `
  query Events($filter: EventFilter, $after: Float, $first: Int) {
    events(filter: $filter, after: $after, first: $first) {
      events { position type source hostname uuid clock timestamp time receivedAt payload }
      endPosition
      hasMore
    }
  }
`;

const PERCENTILES = 'count p50 p95 p99 max';
const STATS = /* GraphQL */ `
  query Stats($from: DateTime!, $to: DateTime!, $bucket: Int) {
    stats(from: $from, to: $to, bucket: $bucket) {
      from to bucketSeconds total
      states { state count }
      throughput { start finished succeeded failed revoked received }
      runtime { ${PERCENTILES} }
      queueWait { ${PERCENTILES} }
      names { name count states { state count } succeeded failures failureRate runtime { ${PERCENTILES} } queueWait { ${PERCENTILES} } }
    }
  }
`;

const iso = (epochSeconds: number) => new Date(Math.round(epochSeconds * 1000)).toISOString();

function asJson(e: StoredEvent): EventJson {
  return {
    position: e.position,
    type: e.type,
    source: e.source,
    hostname: e.hostname,
    uuid: e.uuid,
    clock: e.clock,
    timestamp: e.timestamp,
    time: iso(e.timestamp),
    receivedAt: iso(e.received_at),
    payload: e.payload,
  };
}

describe.each(DIALECTS)('events and stats through the API on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let api: ApiProcess;

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url);
    const stats = statsDatasetEvents();
    await store.append({ events: stats.slice(0, 100), rejected: [] });
    await store.append({ events: stats.slice(100), rejected: [] });
    const audit = auditEvents(AUDIT_T0);
    await store.append({ events: audit.slice(0, 6), rejected: [] });
    await store.append({ events: audit.slice(6), rejected: [] });
    api = await startApi({ databaseUrl: db.url, env: { CM_API_MAX_PAGE_SIZE: String(MAX_PAGE), CM_API_DEFAULT_PAGE_SIZE: String(DEFAULT_PAGE) } });
  });

  afterAll(async () => {
    await api?.stop();
    await store?.close();
    await db?.drop();
  });

  async function page(variables: Record<string, unknown>): Promise<PageJson> {
    const res = await api.graphql<{ events: PageJson }>(EVENTS, variables);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!.events;
  }

  /** Follows endPosition until hasMore is false; checks every page on the way. */
  async function walk(filter: Record<string, unknown> | undefined, first: number | undefined, after = 0): Promise<{ events: EventJson[]; end: number }> {
    const seen: EventJson[] = [];
    for (let i = 0; i < 1000; i++) {
      const p = await page({ filter, first, after });
      expect(p.events.length).toBeLessThanOrEqual(first ?? DEFAULT_PAGE);
      if (p.hasMore) expect(p.events).toHaveLength(first ?? DEFAULT_PAGE);
      for (const e of p.events) expect(e.position).toBeGreaterThan(after);
      expect(p.endPosition).toBe(p.events.at(-1)?.position ?? after);
      seen.push(...p.events);
      if (!p.hasMore) return { events: seen, end: p.endPosition };
      after = p.endPosition;
    }
    throw new Error('the walk did not end');
  }

  it('walks the whole log page by page: every event once, in position order, as stored', async () => {
    const all = (await store.readEvents(0, 100_000)).map(asJson);
    expect(all.length).toBe(168); // 154 of the stats dataset, 14 audit events
    for (const first of [1, 3, undefined, MAX_PAGE]) {
      const { events, end } = await walk(undefined, first);
      expect(events.map((e) => e.position)).toEqual(all.map((e) => e.position));
      expect(events).toEqual(all);
      expect(end).toBe(all.at(-1)!.position);
    }
    // Past the end: an empty page that hands `after` back.
    expect(await page({ after: all.at(-1)!.position })).toEqual({ events: [], endPosition: all.at(-1)!.position, hasMore: false });
    expect(await page({ after: 1e12 })).toEqual({ events: [], endPosition: 1e12, hasMore: false });
  });

  it('filters by types, hostname, uuid and source; every criterion must hold', async () => {
    const all = (await store.readEvents(0, 100_000)).map(asJson);
    const cases: Array<[Record<string, unknown>, (e: EventJson) => boolean]> = [
      [{ types: ['task-failed', 'worker-offline'] }, (e) => e.type === 'task-failed' || e.type === 'worker-offline'],
      [{ hostname: 'celery@w2' }, (e) => e.hostname === 'celery@w2'],
      [{ uuid: 't-2' }, (e) => e.uuid === 't-2'],
      [{ source: ['redis', 'collector:liveness'] }, (e) => e.source === 'redis' || e.source === 'collector:liveness'],
      [{ types: ['task-started'], hostname: 'celery@w1', source: ['rabbitmq'] }, (e) => e.type === 'task-started' && e.hostname === 'celery@w1' && e.source === 'rabbitmq'],
      [{ uuid: 't-1', source: ['redis'] }, () => false],
      [{ types: [], source: [] }, () => true],
    ];
    for (const [filter, predicate] of cases) {
      const expected = all.filter(predicate);
      const { events } = await walk(filter, 4);
      expect(events, JSON.stringify(filter)).toEqual(expected);
    }
    // A task's events, and an application's own event that names the task.
    expect((await walk({ uuid: 't-2' }, 10)).events.map((e) => e.type)).toEqual(['task-sent', 'task-received', 'task-started', 'task-succeeded', 'app-progress']);
    const offline = (await walk({ types: ['worker-offline'] }, 10)).events;
    expect(offline).toHaveLength(1);
    expect(offline[0]).toMatchObject({ source: 'collector:liveness', hostname: 'celery@w2', payload: { reason: 'heartbeat-timeout' } });
  });

  it('refuses bad paging and filter arguments with BAD_USER_INPUT naming the argument', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ after: -1 }, 'after', /after must be a log position.*got -1/],
      [{ after: 2.5 }, 'after', /after must be a log position: an integer >= 0/],
      [{ first: 0 }, 'first', /first must be between 1 and 20 \(the maximum page size\), got 0/],
      [{ first: MAX_PAGE + 1 }, 'first', /first must be between 1 and 20.*got 21/],
      [{ first: -5 }, 'first', /got -5/],
      [{ filter: { hostname: '  ' } }, 'filter.hostname', /filter.hostname must not be empty/],
      [{ filter: { uuid: '' } }, 'filter.uuid', /filter.uuid must not be empty/],
      [{ filter: { types: ['task-failed', ''] } }, 'filter.types', /filter.types\[1\] is an empty string/],
      [{ filter: { source: Array.from({ length: 101 }, (_, i) => `s${i}`) } }, 'filter.source', /filter.source has 101 values; at most 100/],
    ];
    for (const [variables, argument, message] of cases) {
      const res = await api.graphql(EVENTS, variables);
      expect(res.data?.events ?? null, JSON.stringify(variables)).toBeNull();
      expect(res.errors, JSON.stringify(variables)).toHaveLength(1);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(res.errors![0]!.message).toMatch(message);
    }
  });

  it('resumes from endPosition after new events are appended: nothing skipped, nothing repeated', async () => {
    const before = await walk({ types: ['task-received'] }, 5);
    // The same tasks and workers again, later (new timestamps: new events).
    await store.append({ events: auditEvents(AUDIT_T0 + 1000), rejected: [] });
    const after = await walk({ types: ['task-received'] }, 5, before.end);
    expect(after.events.map((e) => e.type)).toEqual(['task-received', 'task-received', 'task-received']);
    const everything = await walk({ types: ['task-received'] }, 5);
    expect(everything.events).toEqual([...before.events, ...after.events]);
    expect(new Set(everything.events.map((e) => e.position)).size).toBe(everything.events.length);
  });

  it('computes the hand-computed stats exactly', async () => {
    const res = await api.graphql<{ stats: unknown }>(STATS, { from: iso(STATS_FROM), to: iso(STATS_TO), bucket: 60 });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data!.stats).toEqual({
      from: iso(STATS_FROM),
      to: iso(STATS_TO),
      bucketSeconds: 60,
      total: EXPECTED_STATS.total,
      states: EXPECTED_STATS.states,
      throughput: EXPECTED_STATS.throughput.map(({ offset, ...counts }) => ({ start: iso(F + offset), ...counts })),
      runtime: EXPECTED_STATS.runtime,
      queueWait: EXPECTED_STATS.queueWait,
      names: EXPECTED_STATS.names,
    });
  });

  it('defaults the bucket to 300 s, starts buckets at `from` and cuts the last one at `to`', async () => {
    const res = await api.graphql<{ stats: { bucketSeconds: number; throughput: unknown[]; total: number } }>(STATS, { from: iso(F), to: iso(F + 180) });
    expect(res.errors).toBeUndefined();
    expect(res.data!.stats.bucketSeconds).toBe(300);
    expect(res.data!.stats.throughput).toEqual([{ start: iso(F), finished: 45, succeeded: 42, failed: 2, revoked: 1, received: 50 }]);
    // Millisecond window ends (not exact in binary) still give whole buckets: 7 of 25 s, the last one cut to 5 s.
    const odd = await api.graphql<{ stats: { throughput: Array<{ start: string }> } }>(STATS, { from: '2026-11-24T12:00:00.123Z', to: '2026-11-24T12:02:35.123Z', bucket: 25 });
    expect(odd.errors).toBeUndefined();
    expect(odd.data!.stats.throughput.map((b) => b.start)).toEqual([0, 25, 50, 75, 100, 125, 150].map((s) => new Date(Date.parse('2026-11-24T12:00:00.123Z') + s * 1000).toISOString()));
  });

  it('refuses bad stats windows and buckets with BAD_USER_INPUT naming the argument', async () => {
    const from = iso(F);
    const cases: Array<[Record<string, unknown>, string | null, RegExp]> = [
      [{ from, to: from }, 'to', /from \(.*\) must be before to \(.*\): the window is \[from, to\)/],
      [{ from: iso(F + 60), to: from }, 'from', /must be before to/],
      [{ from, to: iso(F + 60), bucket: 0 }, 'bucket', /bucket must be a whole number of seconds >= 1, got 0/],
      [{ from, to: iso(F + 60), bucket: -300 }, 'bucket', /got -300/],
      [{ from, to: iso(F + 86_400), bucket: 8 }, 'bucket', /bucket 8 s over 86400 s gives 10800 buckets; at most 10000 are allowed: use bucket >= 9/],
      // Refused by the DateTime scalar itself, which names the variable (not the argument).
      [{ from: 'yesterday', to: from }, null, /^Variable "\$from" got invalid value "yesterday"; invalid DateTime: expected an RFC 3339 date-time with a zone/],
      [{ from: '2026-11-24T00:00:00', to: from }, null, /^Variable "\$from" got invalid value "2026-11-24T00:00:00"; invalid DateTime/],
    ];
    for (const [variables, argument, message] of cases) {
      const res = await api.graphql(STATS, variables);
      expect(res.errors, JSON.stringify(variables)).toHaveLength(1);
      expect(res.errors![0]!.extensions, JSON.stringify(res.errors)).toMatchObject({ code: 'BAD_USER_INPUT', ...(argument === null ? {} : { argument }) });
      expect(res.errors![0]!.message).toMatch(message);
    }
    // Exactly 10 000 buckets is allowed.
    const max = await api.graphql<{ stats: { throughput: unknown[] } }>(/* GraphQL */ `query($from: DateTime!, $to: DateTime!) { stats(from: $from, to: $to, bucket: 1) { throughput { received } } }`, { from, to: iso(F + 10_000) });
    expect(max.errors).toBeUndefined();
    expect(max.data!.stats.throughput).toHaveLength(10_000);
  });
});
