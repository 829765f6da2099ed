/**
 * Medium tests: event-log audit pages on SQLite and Postgres, same suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../event-store';
import type { StoredEvent } from '../stored-event';
import { EventQueries, type EventPageQuery } from './event-queries';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../../test/support/test-databases';
import { T0 } from '../../../../test/support/event-factory';
import { auditEvents } from '../../../../test/support/read-datasets';

describe.each(DIALECTS)('EventQueries on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let queries: EventQueries;
  let all: StoredEvent[];
  const statements: string[] = [];

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url, { onQuery: (_ms, sql) => statements.push(sql) });
    const events = auditEvents();
    // Several transactions, so positions come from more than one batch.
    await store.append({ events: events.slice(0, 5), rejected: [] });
    await store.append({ events: events.slice(5, 9), rejected: [] });
    await store.append({ events: events.slice(9), rejected: [] });
    all = await store.readEvents(0, 1000);
    expect(all).toHaveLength(events.length);
    queries = new EventQueries(store.database.db);
  });

  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  /** Pages through the log by endPosition; with a window, no page examines more positions than it. */
  async function walk(query: Omit<EventPageQuery, 'after'>, on: EventQueries = queries, window = Infinity): Promise<StoredEvent[]> {
    const seen: StoredEvent[] = [];
    let after = 0;
    for (let page = 0; page < 200; page++) {
      const result = await on.page({ ...query, after });
      expect(result.events.length).toBeLessThanOrEqual(query.limit);
      for (const e of result.events) expect(e.position).toBeGreaterThan(after);
      expect(result.endPosition).toBeGreaterThanOrEqual(result.events.at(-1)?.position ?? after);
      if (query.uuid === undefined && query.hostname === undefined) expect(result.endPosition - after).toBeLessThanOrEqual(window);
      seen.push(...result.events);
      if (!result.hasMore) {
        // The last page says so: nothing follows it.
        const rest = await on.page({ ...query, after: result.endPosition });
        expect(rest).toEqual({ events: [], endPosition: result.endPosition, hasMore: false });
        return seen;
      }
      // A short page only when the window stopped it.
      if (window === Infinity) expect(result.events).toHaveLength(query.limit);
      after = result.endPosition;
    }
    throw new Error('paging did not end');
  }

  it('walks the whole log in position order, page by page, without gaps or duplicates', async () => {
    for (const limit of [1, 3, 7, all.length, 500]) {
      expect(await walk({ limit })).toEqual(all);
    }
  });

  it('reads the head and one page per statement, and returns events as stored', async () => {
    statements.length = 0;
    const page = await queries.page({ after: all[2]!.position, limit: 2 });
    expect(statements).toHaveLength(2);
    expect(page).toEqual({ events: all.slice(3, 5), endPosition: all[4]!.position, hasMore: true });
    statements.length = 0;
    await queries.page({ after: 0, limit: 2, uuid: 't-1' });
    expect(statements).toHaveLength(1); // the task's row and a partial index bound the read: no head, no window
    expect(page.events[0]).toMatchObject({ type: 'task-succeeded', uuid: 't-1', hostname: 'celery@w1', source: 'rabbitmq', clock: 4, timestamp: T0 + 0.04 });
    expect(page.events[0]!.payload).toMatchObject({ type: 'task-succeeded', result: '5', runtime: 0.0123 });
  });

  it('filters by types, hostname, uuid and sources (every given criterion must hold)', async () => {
    const cases: Array<[Omit<EventPageQuery, 'after' | 'limit'>, (e: StoredEvent) => boolean]> = [
      [{ types: ['task-failed', 'worker-offline'] }, (e) => e.type === 'task-failed' || e.type === 'worker-offline'],
      [{ hostname: 'celery@w1' }, (e) => e.hostname === 'celery@w1'],
      [{ uuid: 't-2' }, (e) => e.uuid === 't-2'],
      [{ sources: ['redis', 'collector:liveness'] }, (e) => e.source === 'redis' || e.source === 'collector:liveness'],
      [{ types: ['task-received', 'task-started'], hostname: 'celery@w1' }, (e) => ['task-received', 'task-started'].includes(e.type) && e.hostname === 'celery@w1'],
      [{ uuid: 't-1', sources: ['redis'] }, () => false],
      [{ uuid: 't-2', types: ['app-progress', 'task-started'] }, (e) => e.uuid === 't-2' && ['app-progress', 'task-started'].includes(e.type)],
      [{ types: [], sources: [] }, () => true],
    ];
    for (const [filter, predicate] of cases) {
      const expected = all.filter(predicate);
      for (const limit of [1, 2, 50]) expect(await walk({ ...filter, limit }), JSON.stringify(filter)).toEqual(expected);
    }
    expect((await walk({ types: ['worker-offline'], limit: 10 }))[0]).toMatchObject({ source: 'collector:liveness', hostname: 'celery@w2' });
  });

  it('examines at most scanWindow positions per page without uuid or hostname, and still finds every match', async () => {
    const narrow = new EventQueries(store.database.db, { scanWindow: 3 });
    const rare = (e: StoredEvent) => e.type === 'worker-offline';
    const first = await narrow.page({ after: 0, limit: 10, types: ['worker-offline'] });
    expect(first).toEqual({ events: all.filter((e) => e.position <= 3 && rare(e)), endPosition: 3, hasMore: true });
    for (const limit of [1, 2, 50]) {
      expect(await walk({ types: ['worker-offline'], limit }, narrow, 3)).toEqual(all.filter(rare));
      expect(await walk({ limit }, narrow, 3)).toEqual(all);
      expect(await walk({ sources: ['redis', 'collector:liveness'], limit }, narrow, 3)).toEqual(all.filter((e) => e.source === 'redis' || e.source === 'collector:liveness'));
      // hostname and uuid go through their indexes: no window.
      expect(await walk({ hostname: 'celery@w1', limit }, narrow)).toEqual(all.filter((e) => e.hostname === 'celery@w1'));
    }
  });

  it('starts after a position: exclusive, and empty past the end', async () => {
    const mid = all[5]!.position;
    expect((await queries.page({ after: mid, limit: 1000 })).events).toEqual(all.slice(6));
    const last = all.at(-1)!.position;
    expect(await queries.page({ after: last, limit: 10 })).toEqual({ events: [], endPosition: last, hasMore: false });
    expect(await queries.page({ after: last + 1e6, limit: 10 })).toEqual({ events: [], endPosition: last + 1e6, hasMore: false });
    expect(await queries.page({ after: last, limit: 10, uuid: 't-1' })).toEqual({ events: [], endPosition: last, hasMore: false });
  });
});
