/**
 * Medium tests: task pages, filters and the field-resolver lookups on SQLite and Postgres, same
 * suite, against a reference computed in JavaScript — so both databases return the same rows in the
 * same order. On SQLite every access path of the planner is walked too, not only the cheapest.
 */
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../event-store';
import type { TaskRecord } from '../repositories/task.repository';
import { TaskQueries, type TaskListFilter, type TaskListQuery, type TaskOrder } from './task-queries';
import type { PlanChoice } from './task-plan';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../../test/support/test-databases';
import { T0 } from '../../../../test/support/event-factory';
import { compareKeys, factsOfRow, FIELDS, lateTasks, referenceOrder, sortKey, taskFixture, WORKFLOW, finishedAt, type Field } from '../../../../test/support/task-fixtures';

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

interface FilterCase {
  name: string;
  filter: TaskListFilter;
  match: (r: TaskRecord) => boolean;
}

const inRange = (v: number | null, from?: number, to?: number) => v !== null && (from === undefined || v >= from) && (to === undefined || v < to);
const search = (q: string) => (r: TaskRecord) => [r.args, r.kwargs, r.result, r.exception].some((v) => v !== null && asciiLower(v).includes(asciiLower(q)));

const FILTERS: FilterCase[] = [
  { name: 'states', filter: { states: ['FAILURE', 'RETRY'] }, match: (r) => ['FAILURE', 'RETRY'].includes(r.state) },
  { name: 'one state', filter: { states: ['REVOKED'] }, match: (r) => r.state === 'REVOKED' },
  { name: 'names', filter: { names: ['proj.émoji', 'proj.Zeta'] }, match: (r) => r.name === 'proj.émoji' || r.name === 'proj.Zeta' },
  { name: 'workers', filter: { workers: ['celery@beta'] }, match: (r) => r.worker === 'celery@beta' },
  { name: 'sources', filter: { sources: ['redis'] }, match: (r) => r.source === 'redis' },
  { name: 'queues', filter: { queues: ['images'] }, match: (r) => r.queue === 'images' },
  { name: 'received range', filter: { received: { from: T0 + 20, to: T0 + 60 } }, match: (r) => inRange(r.received_at, T0 + 20, T0 + 60) },
  { name: 'started before', filter: { started: { to: T0 + 50 } }, match: (r) => inRange(r.started_at, undefined, T0 + 50) },
  { name: 'finished after', filter: { finished: { from: T0 + 30 } }, match: (r) => inRange(finishedAt(factsOfRow(r)), T0 + 30) },
  { name: 'runtime', filter: { runtime: { min: 1, max: 2.25 } }, match: (r) => r.runtime !== null && r.runtime >= 1 && r.runtime <= 2.25 },
  { name: 'root', filter: { rootId: WORKFLOW.root }, match: (r) => r.root_id === WORKFLOW.root },
  { name: 'parent', filter: { parentId: WORKFLOW.root }, match: (r) => r.parent_id === WORKFLOW.root },
  // A retried task that names itself as parent is not its own child.
  { name: 'parent of itself', filter: { parentId: WORKFLOW.selfParent }, match: (r) => r.parent_id === WORKFLOW.selfParent && r.uuid !== WORKFLOW.selfParent },
  { name: 'search % literally', filter: { search: '50%' }, match: search('50%') },
  { name: 'search _ literally', filter: { search: 'x_y' }, match: search('x_y') },
  { name: 'search ! literally', filter: { search: 'a!b' }, match: search('a!b') },
  { name: 'search ASCII case-insensitively', filter: { search: 'ALICE' }, match: search('alice') },
  { name: 'search non-ASCII exactly', filter: { search: 'école' }, match: (r) => r.args?.includes('école') === true },
  { name: 'search exception', filter: { search: 'missing_key' }, match: search('missing_key') },
  { name: 'states and received', filter: { states: ['SUCCESS'], received: { from: T0 + 40 } }, match: (r) => r.state === 'SUCCESS' && inRange(r.received_at, T0 + 40) },
  {
    name: 'names, states and workers',
    filter: { names: ['proj.add', 'proj.Mail.send'], states: ['SUCCESS', 'FAILURE'], workers: ['celery@alpha', 'celery@gamma'] },
    match: (r) => ['proj.add', 'proj.Mail.send'].includes(r.name ?? '') && ['SUCCESS', 'FAILURE'].includes(r.state) && ['celery@alpha', 'celery@gamma'].includes(r.worker ?? ''),
  },
  { name: 'nothing matches', filter: { states: ['NO-SUCH-STATE'] }, match: () => false },
];

const ORDERS: TaskOrder[] = FIELDS.flatMap((field) => (['asc', 'desc'] as const).map((direction) => ({ field, direction })));

describe.each(DIALECTS)('TaskQueries on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let queries: TaskQueries;
  let rows: TaskRecord[];

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url);
    const events = taskFixture(60);
    // Several transactions, in an order other than time order.
    await store.append({ events: events.slice(150), rejected: [] });
    await store.append({ events: events.slice(0, 150), rejected: [] });
    rows = await store.allTasks();
    expect(rows.length).toBe(66);
    queries = new TaskQueries(store.database.db);
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  /** Every page of a query, checking page sizes and hasNextPage; the rows in page order. */
  async function walk(query: Omit<TaskListQuery, 'after'>, plan?: PlanChoice): Promise<TaskRecord[]> {
    const seen: TaskRecord[] = [];
    let after: TaskListQuery['after'] = null;
    for (let pages = 0; pages < 200; pages++) {
      const page = await queries.list({ ...query, after }, plan ? { plan } : {});
      expect(page.rows.length).toBeLessThanOrEqual(query.first);
      seen.push(...page.rows.map((r) => r.task));
      if (!page.hasNextPage) return seen;
      expect(page.rows).toHaveLength(query.first);
      after = page.rows.at(-1)!.key;
    }
    throw new Error('the walk did not end');
  }

  const uuids = (list: readonly TaskRecord[]) => list.map((r) => r.uuid);
  const expected = (match: (r: TaskRecord) => boolean, order: TaskOrder) =>
    uuids(referenceOrder(rows.filter(match).map((r) => ({ ...factsOfRow(r), row: r })), order.field, order.direction).map((f) => f.row));

  it.each(ORDERS)('walks every task in order $field $direction, page after page', async (order) => {
    const all = await walk({ order, first: 7 });
    expect(uuids(all)).toEqual(expected(() => true, order));
  });

  it('returns the sort key of each row, the cursor of the next page', async () => {
    for (const order of ORDERS) {
      const page = await queries.list({ order, first: 66 });
      for (const { task, key } of page.rows) expect(key).toEqual(sortKey(factsOfRow(task), order.field as Field));
    }
  });

  /** The access paths to walk: on SQLite every one that applies, on Postgres the single statement. */
  function plansFor(filter: TaskListFilter): Array<PlanChoice | undefined> {
    if (dialect !== 'sqlite') return [undefined];
    const keys = Object.keys(filter);
    return [undefined, { kind: 'order' }, ...keys.map((key) => ({ kind: 'lead' as const, key })), ...keys.map((key) => ({ kind: 'driver' as const, key }))];
  }

  it.each(FILTERS)('filters by $name, in every order and on every access path', async ({ filter, match }) => {
    const walked = new Set<string>();
    let walks = 0;
    for (const order of ORDERS) {
      const want = expected(match, order);
      for (const plan of plansFor(filter)) {
        let got: TaskRecord[];
        try {
          got = await walk({ filter, order, first: 4 }, plan);
        } catch (error) {
          if (plan && String(error).includes('does not apply')) continue;
          throw error;
        }
        expect(uuids(got), `${order.field} ${order.direction} via ${JSON.stringify(plan ?? 'cheapest')}`).toEqual(want);
        walks++;
        walked.add(plan === undefined ? 'cheapest' : plan.kind === 'order' ? 'order' : `${plan.kind}:${plan.key}`);
      }
    }
    expect(walks).toBeGreaterThanOrEqual(ORDERS.length);
    if (dialect === 'sqlite') {
      // Forced paths that "do not apply" are skipped above: make sure the skips did not leave
      // paths untested, the order walk and a path led by each filter key at least.
      expect(walked).toContain('order');
      // Filters without an index of their own (task-plan.ts) can neither lead nor drive a walk.
      for (const key of Object.keys(filter).filter((k) => !['sources', 'queues', 'search'].includes(k))) {
        expect([...walked].some((w) => w === `lead:${key}` || w === `driver:${key}`), `a path led or driven by ${key}: ${[...walked].join(', ')}`).toBe(true);
      }
    }
  });

  it('keeps the walk stable while new tasks arrive between pages', async () => {
    for (const direction of ['desc', 'asc'] as const) {
      const order: TaskOrder = { field: 'received', direction };
      const before = expected(() => true, order);
      const seen: string[] = [];
      let after: TaskListQuery['after'] = null;
      let appended = 0;
      for (;;) {
        const page = await queries.list({ order, first: 9, after });
        seen.push(...page.rows.map((r) => r.task.uuid));
        if (!page.hasNextPage) break;
        after = page.rows.at(-1)!.key;
        // New tasks, received later than any so far, arrive between pages.
        await store.append({ events: lateTasks(`late-${direction}-${appended}`, 2, T0 + (direction === 'desc' ? 10_000 : 20_000) + appended * 10), rejected: [] });
        appended++;
      }
      const late = (await store.allTasks()).filter((r) => r.uuid.startsWith(`late-${direction}-`));
      // Descending, the newcomers sort before the cursor: the walk goes on exactly as it began.
      // Ascending, they sort after every old task: they come last, in order, none twice.
      const lateInOrder = uuids(referenceOrder(late.map((r) => ({ ...factsOfRow(r), row: r })), 'received', 'asc').map((f) => f.row));
      expect(seen).toEqual(direction === 'desc' ? before : [...before, ...lateInOrder]);
      expect(new Set(seen).size).toBe(seen.length);
      rows = await store.allTasks();
    }
  });

  it('serves every order from its index (the sort expressions match the migration)', async () => {
    const captured: CompiledQuery[] = [];
    const executor = store.database.db.getExecutor();
    const original = executor.executeQuery.bind(executor);
    (executor as { executeQuery: typeof original }).executeQuery = (async (compiled: CompiledQuery, ...rest: unknown[]) => {
      captured.push(compiled);
      return (original as (...a: unknown[]) => unknown)(compiled, ...rest);
    }) as typeof original;
    try {
      const cases: Array<{ order: TaskOrder; filter?: TaskListFilter; index: string }> = ORDERS.map((order) => ({ order, index: `tasks_${order.field}_order` }));
      // The slowest tasks of one name: its range of tasks_name_runtime, in order.
      for (const direction of ['asc', 'desc'] as const) cases.push({ order: { field: 'runtime', direction }, filter: { names: ['proj.add'] }, index: 'tasks_name_runtime' });
      for (const { order, filter, index } of cases) {
        const first = await queries.list({ order, filter, first: 5 });
        const pageOne = captured.at(-1)!;
        await queries.list({ order, filter, first: 5, after: first.rows.at(-1)!.key });
        const pageTwo = captured.at(-1)!;
        for (const compiled of [pageOne, pageTwo]) {
          const plan = await explain(compiled);
          expect(plan, `${order.field} ${order.direction}: ${compiled.sql}`).toContain(index);
          if (dialect === 'postgres') expect(plan).not.toMatch(/\bSort\b/);
          // SQLite sorts only the few rows of merged index ranges (name and state orders after a cursor).
          else if (compiled === pageOne || !['name', 'state'].includes(order.field)) expect(plan).not.toContain('TEMP B-TREE');
        }
      }
    } finally {
      (executor as { executeQuery: typeof original }).executeQuery = original;
    }
  });

  async function explain(compiled: CompiledQuery): Promise<string> {
    if (dialect === 'sqlite') {
      const { rows: plan } = await store.database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
      return plan.map((r) => r.detail).join(' | ');
    }
    return store.database.db.connection().execute(async (conn) => {
      await sql`set enable_seqscan = off`.execute(conn);
      try {
        const { rows: plan } = await conn.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
        return plan.map((r) => r['QUERY PLAN']).join(' | ');
      } finally {
        await sql`reset enable_seqscan`.execute(conn);
      }
    });
  }

  it('finds tasks by uuid', async () => {
    const found = await queries.byUuids([WORKFLOW.root, 'no-such-task', WORKFLOW.child1, WORKFLOW.root]);
    expect(uuids(found).sort()).toEqual([WORKFLOW.child1, WORKFLOW.root].sort());
    expect(await queries.byUuids([])).toEqual([]);
  });

  it('finds children, oldest first, never a task as its own child', async () => {
    const children = await queries.childrenOf([WORKFLOW.root, WORKFLOW.child1, WORKFLOW.selfParent, 'no-such-task']);
    const byParent = (p: string) => uuids(children.filter((c) => c.parent_id === p));
    expect(byParent(WORKFLOW.root)).toEqual([WORKFLOW.child1, WORKFLOW.child2]);
    expect(byParent(WORKFLOW.child1)).toEqual([WORKFLOW.grandchild]);
    expect(byParent(WORKFLOW.selfParent)).toEqual([]);
  });

  it('reads the timelines of tasks in log order', async () => {
    const log = await store.readEvents(0, 100_000);
    const wanted = new Set([WORKFLOW.root, WORKFLOW.child2]);
    const events = await queries.eventsOf([WORKFLOW.root, WORKFLOW.child2, 'no-such-task']);
    expect(events).toEqual(log.filter((e) => e.uuid !== null && wanted.has(e.uuid)));
    expect(events.map((e) => e.type)).toContain('app-progress'); // a custom event naming a task
    expect(events.map((e) => e.position)).toEqual([...events.map((e) => e.position)].sort((a, b) => a - b));
  });

  it("reads each worker's newest tasks", async () => {
    const recent = await queries.recentByWorkers(['celery@alpha', 'celery@beta', 'celery@nobody'], 3);
    for (const worker of ['celery@alpha', 'celery@beta']) {
      const want = uuids(referenceOrder(rows.filter((r) => r.worker === worker).map((r) => ({ ...factsOfRow(r), row: r })), 'received', 'desc').map((f) => f.row)).slice(0, 3);
      expect(uuids(recent.get(worker) ?? [])).toEqual(want);
    }
    expect(recent.has('celery@nobody')).toBe(false);
  });

  it('counts tasks by name, in byte order, leaving out tasks without a name', async () => {
    const counts = new Map<string, number>();
    for (const r of rows) if (r.name) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
    const want = [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => compareKeys([a.name], [b.name]));
    expect(await queries.nameCounts()).toEqual(want);
    expect(want.map((n) => n.name).indexOf('proj.Zeta')).toBeLessThan(want.map((n) => n.name).indexOf('proj.add'));
  });

  it('probes match counts only when the cheapest path depends on them (SQLite)', async () => {
    const plan = (filter: TaskListFilter, field: Field) => queries.explainPlan({ filter, order: { field, direction: 'desc' }, first: 50 });
    if (dialect === 'postgres') {
      expect(await plan({ states: ['REVOKED'] }, 'runtime')).toEqual({ kind: 'order', probed: false });
      return;
    }
    expect(await plan({}, 'runtime')).toEqual({ kind: 'order', probed: false });
    expect(await plan({ states: ['REVOKED'] }, 'received')).toEqual({ kind: 'lead', key: 'states', probed: false });
    expect(await plan({ received: { from: T0 } }, 'received')).toEqual({ kind: 'order', probed: false });
    // The slowest tasks of a name: one ordered range of tasks_name_runtime, whatever the name's share.
    expect(await plan({ names: ['app.add'] }, 'runtime')).toEqual({ kind: 'lead', key: 'names', probed: false });
    // A handful of REVOKED tasks: reading and sorting them beats walking the runtime order.
    expect(await plan({ states: ['REVOKED'] }, 'runtime')).toEqual({ kind: 'driver', key: 'states', probed: true });
  });

  it('rejects a sort key that does not fit the order', async () => {
    await expect(queries.list({ order: { field: 'name', direction: 'asc' }, first: 5, after: [1, 'x'] })).rejects.toThrow(/does not fit/);
  });
});
