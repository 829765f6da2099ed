/**
 * Read queries over the tasks projection (the only SQL the API runs against it), plus the events of
 * given tasks (their timelines).
 *
 * Pages are keyset-paginated, never OFFSET: every order sorts on a tuple of SQL expressions ending
 * with the uuid, and the page after a row holds the rows whose tuple compares after that row's
 * tuple. Rows that arrive meanwhile with keys before the cursor never shift a later page.
 * Postgres gets one statement with a row-value comparison, which its index bounds. SQLite bounds an
 * index range by row values of plain columns only, so the comparison is spelled out
 * (`k0 <= a0 and (k0 < a0 or k1 < a1)`), and the access path is chosen here, by cost (task-plan.ts):
 * its own planner sorts every row an equality filter matches whenever the order is another column.
 *
 * Both dialects return the same rows in the same order:
 * - a missing value sorts as the sentinel -1 (times, runtime) or '' (name), i.e. before every real
 *   value: first in ascending order, last in descending order;
 * - text compares byte-wise (SQLite's BINARY collation; `COLLATE "C"` on Postgres);
 * - the text search lowercases ASCII letters only (SQLite's lower(); Postgres lower() under the "C"
 *   collation) and matches with LIKE, `%`, `_` and `!` escaped;
 * - "finished" is the time the task reached a ready state (SUCCESS, FAILURE, REVOKED): state_at
 *   while the state is ready, else missing. It is an expression, not a column: a pure function of
 *   the row that needs no projection change, served by an expression index.
 *
 * The sort expressions are literally those of migrations/0002_api_indexes.ts (expression indexes
 * match only identical expressions; the sentinels are literals, not parameters): a test checks
 * every order is served by its index on both dialects.
 */
import { toStoredEvent, type StoredEvent } from '../stored-event';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { dialectOf } from '../dialect';
import type { DB } from '../schema';
import type { TaskRecord } from '../repositories/task.repository';
import { choosePlan, choosePlanWithoutProbe, needsProbe, RECEIVED_KEY, type PlanChoice, type PlanTerm } from './task-plan';
import { eventsOfTasks } from './events-of-tasks';

export const TASK_ORDER_FIELDS = ['received', 'started', 'finished', 'runtime', 'name', 'state'] as const;
export type TaskOrderField = (typeof TASK_ORDER_FIELDS)[number];
export type SortDirection = 'asc' | 'desc';

export interface TaskOrder {
  field: TaskOrderField;
  direction: SortDirection;
}

/**
 * Where a row stands in an order: the values of its sort expressions, uuid last. Opaque to callers
 * but for serialising it into a cursor; `isTaskSortKey` checks one read back.
 */
export type TaskSortKey = ReadonlyArray<string | number>;

/** Epoch seconds: from inclusive, to exclusive; either may be omitted. */
export interface TimeBounds {
  from?: number | null;
  to?: number | null;
}

/** Inclusive bounds; either may be omitted. */
export interface NumberBounds {
  min?: number | null;
  max?: number | null;
}

/**
 * Every given criterion must hold; a list matches any of its values (an empty or omitted list
 * constrains nothing). A range never matches a task without that value.
 */
export interface TaskListFilter {
  states?: readonly string[];
  names?: readonly string[];
  workers?: readonly string[];
  sources?: readonly string[];
  queues?: readonly string[];
  received?: TimeBounds;
  started?: TimeBounds;
  /** When the task reached SUCCESS, FAILURE or REVOKED. */
  finished?: TimeBounds;
  /** Seconds. */
  runtime?: NumberBounds;
  rootId?: string;
  parentId?: string;
  /** Case-insensitive (ASCII) substring of args, kwargs, result or exception; non-empty. */
  search?: string;
}

export interface TaskListQuery {
  filter?: TaskListFilter;
  order: TaskOrder;
  /** Rows wanted (the caller bounds it). */
  first: number;
  /** Sort key of the last row of the previous page (from `TaskPage`), or null for the first page. */
  after?: TaskSortKey | null;
}

export interface TaskPage {
  rows: Array<{ task: TaskRecord; key: TaskSortKey }>;
  /** Whether more matching rows follow the last one (as of this read). */
  hasNextPage: boolean;
}

export interface TaskNameCount {
  name: string;
  count: number;
}

/** Sentinel of a missing time or runtime in sort expressions (real values are never negative). */
export const MISSING_NUMBER = -1;

const READY_STATES_SQL = "('SUCCESS', 'FAILURE', 'REVOKED')";
const RECEIVED = 'coalesce(received_at, -1)';
const STARTED = 'coalesce(started_at, -1)';
const FINISHED = `coalesce(case when state in ${READY_STATES_SQL} then state_at end, -1)`;
const RUNTIME = 'coalesce(runtime, -1)';

type KeyType = 'number' | 'string';

/** Types of the sort key components of each order (uuid last). */
const KEY_TYPES: Record<TaskOrderField, readonly KeyType[]> = {
  received: ['number', 'string'],
  started: ['number', 'string'],
  finished: ['number', 'string'],
  runtime: ['number', 'string'],
  name: ['string', 'number', 'string'],
  state: ['string', 'number', 'string'],
};

export function isTaskOrderField(value: unknown): value is TaskOrderField {
  return typeof value === 'string' && (TASK_ORDER_FIELDS as readonly string[]).includes(value);
}

/** Whether `key` has the shape of a sort key of `field` (arity, types, finite numbers). */
export function isTaskSortKey(field: TaskOrderField, key: unknown): key is TaskSortKey {
  const types = KEY_TYPES[field];
  return (
    Array.isArray(key) &&
    key.length === types.length &&
    key.every((v, i) => (types[i] === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === 'string'))
  );
}

/**
 * `s` with ASCII letters lowercased and LIKE's metacharacters escaped with `!`, wrapped in `%…%`:
 * the pattern of a case-insensitive substring search (`… like ? escape '!'`).
 */
export function substringPattern(s: string): string {
  const lowered = s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return `%${lowered.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/** Statements stay well under SQLite's 32 766 and Postgres's 65 535 bound parameters. */
const IN_CHUNK = 1000;
/** Members of one UNION ALL (SQLite allows 500). */
const UNION_CHUNK = 100;
/** Index entries a planning probe counts at most per filter (see task-plan.ts). */
export const PROBE_CAP = 8000;

const INDEX = {
  received: 'tasks_received_order',
  started: 'tasks_started_order',
  finished: 'tasks_finished_order',
  runtime: 'tasks_runtime_order',
  name: 'tasks_name_order',
  nameRuntime: 'tasks_name_runtime',
  state: 'tasks_state_order',
  worker: 'tasks_worker_received',
  parent: 'tasks_parent_received',
  root: 'tasks_root_received',
} as const;

/** What an entry of each index holds to test a filter without reading the row (see the migration). */
const COVERS: Record<string, ReadonlySet<string>> = {
  [INDEX.received]: new Set(['received', 'states']),
  [INDEX.started]: new Set(['started', 'states']),
  [INDEX.finished]: new Set(['finished', 'states']),
  [INDEX.runtime]: new Set(['runtime', 'states']),
  [INDEX.name]: new Set(['names', 'received', 'states']),
  [INDEX.nameRuntime]: new Set(['names', 'runtime', 'states']),
  [INDEX.state]: new Set(['states', 'received']),
  [INDEX.worker]: new Set(['workers', 'received', 'states']),
  [INDEX.parent]: new Set(['parentId', 'received']),
  [INDEX.root]: new Set(['rootId', 'received']),
};

/** The index that walks each order. */
const ORDER_INDEX: Record<TaskOrderField, string> = {
  received: INDEX.received,
  started: INDEX.started,
  finished: INDEX.finished,
  runtime: INDEX.runtime,
  name: INDEX.name,
  state: INDEX.state,
};

interface Expressions {
  postgres: boolean;
  /** Sort expressions of an order, uuid last. */
  keys(field: TaskOrderField): readonly string[];
  received: string;
  started: string;
  finished: string;
  runtime: string;
  name: string;
  state: string;
  uuid: string;
  lower(column: string): string;
}

function expressionsFor(postgres: boolean): Expressions {
  const c = (e: string) => (postgres ? `${e} collate "C"` : e);
  const uuid = c('uuid');
  const name = c("coalesce(name, '')");
  const state = c('state');
  const keys: Record<TaskOrderField, readonly string[]> = {
    received: [RECEIVED, uuid],
    started: [STARTED, uuid],
    finished: [FINISHED, uuid],
    runtime: [RUNTIME, uuid],
    name: [name, RECEIVED, uuid],
    state: [state, RECEIVED, uuid],
  };
  return {
    postgres,
    keys: (field) => keys[field],
    received: RECEIVED,
    started: STARTED,
    finished: FINISHED,
    runtime: RUNTIME,
    name,
    state,
    uuid,
    lower: (column) => `lower(${c(column)})`,
  };
}

/** A filter criterion with what planning and rendering need to know about it. */
interface Term extends PlanTerm {
  condition: RawBuilder<unknown>;
  /** The same test in a form no index can serve (SQLite unary +), for walks of its own index. */
  unindexed?: RawBuilder<unknown>;
  /** For a list usable as lead: the expression and the values, one index range each. */
  lead?: { expr: string; values: readonly string[] };
  /**
   * For a term on a partial index (one value): the condition a walk of that index states (the
   * term's with the index's own, or SQLite will not use it), and the matching rows the index
   * leaves out, read by a branch of their own (rootId: the root, whose root_id is itself; 0005).
   */
  partial?: { onIndex: RawBuilder<unknown>; outside: RawBuilder<unknown> };
}

/** One ordered index range of a page read. */
interface Branch {
  index: string | null;
  conditions: RawBuilder<unknown>[];
  /** Sort expressions the branch orders by (a prefix fixed by equality is left out). */
  orderBy: readonly string[];
}

type KeyedRow = TaskRecord & Record<`k${number}`, string | number>;

export interface ListOptions {
  /** SQLite: read the page through this path instead of the cheapest (tests and diagnostics). */
  plan?: PlanChoice;
}

function checkForcedPlan(plan: PlanChoice, terms: readonly Term[]): PlanChoice {
  if (plan.kind === 'order') return plan;
  const term = terms.find((t) => t.key === plan.key);
  if (!term || !term.index || (plan.kind === 'lead' && !term.lead)) throw new Error(`plan ${JSON.stringify(plan)} does not apply to this query`);
  return plan;
}

export interface TaskQueriesOptions {
  /**
   * Where reads that may examine many rows run: task pages (a text search reads every task it
   * does not match), their planning probes and the name counts. The API passes its SQLite reader
   * threads, so that such a read never holds its event loop. Lookups by key (tasks by uuid,
   * children, a worker's recent tasks, timelines) stay on `db`: a few index seeks each, where a
   * trip to a thread would cost more than the read. Default: `db`.
   */
  scans?: Kysely<DB>;
}

export class TaskQueries {
  private readonly x: Expressions;
  private readonly scans: Kysely<DB>;

  constructor(
    private readonly db: Kysely<DB>,
    options: TaskQueriesOptions = {},
  ) {
    this.x = expressionsFor(dialectOf(db as Kysely<any>) === 'postgres');
    this.scans = options.scans ?? db;
  }

  /**
   * One page of matching tasks in the given order. Postgres: one statement (its cost-based planner
   * has the statistics). SQLite: one statement, preceded by one probe when the cheapest access path
   * depends on how many rows the filters match (see task-plan.ts).
   */
  async list(query: TaskListQuery, options: ListOptions = {}): Promise<TaskPage> {
    const { order } = query;
    const after = query.after ?? null;
    if (after !== null && !isTaskSortKey(order.field, after)) throw new Error(`sort key ${JSON.stringify(after)} does not fit order ${order.field}`);
    const terms = this.terms(query.filter ?? {}, order.field);
    const limit = query.first + 1;
    const branches = this.x.postgres ? [this.plainBranch(terms, order, after)] : await this.sqliteBranches(terms, order, after, limit, options.plan);
    const rows = branches.length === 0 ? [] : await this.readBranches(branches, order, limit);
    const hasNextPage = rows.length > query.first;
    if (hasNextPage) rows.length = query.first;
    const arity = this.x.keys(order.field).length;
    return { hasNextPage, rows: rows.map((row) => splitKey(row, arity)) };
  }

  /** How a page would be read on SQLite (for tests and diagnostics): the plan chosen. */
  async explainPlan(query: TaskListQuery): Promise<PlanChoice & { probed: boolean }> {
    const terms = this.terms(query.filter ?? {}, query.order.field);
    return this.choose(terms, query.order.field, query.first + 1);
  }

  /** Tasks by uuid (unknown ones are absent), in no particular order. */
  async byUuids(uuids: readonly string[]): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const chunk of chunks(unique(uuids), IN_CHUNK)) {
      out.push(...(await this.db.selectFrom('tasks').selectAll().where('uuid', 'in', chunk).execute()));
    }
    return out;
  }

  /**
   * Tasks whose parent is one of `parentIds`, oldest received first (then by uuid). A task never
   * counts as its own child (Celery 5.2.6 retries set parent_id to the task's own id).
   */
  async childrenOf(parentIds: readonly string[]): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const chunk of chunks(unique(parentIds), IN_CHUNK)) {
      const { rows } = await sql<TaskRecord>`select * from tasks where parent_id in (${sql.join(chunk)}) and uuid <> parent_id order by ${sql.raw(`${this.x.received}, ${this.x.uuid}`)}`.execute(this.db);
      out.push(...rows);
    }
    return out;
  }

  /**
   * The newest `first` tasks (by received, then uuid, descending) of each worker: one statement per
   * 100 workers, each worker read from its own index range.
   */
  async recentByWorkers(hostnames: readonly string[], first: number): Promise<Map<string, TaskRecord[]>> {
    const byWorker = new Map<string, TaskRecord[]>();
    const order = `${this.x.received} desc, ${this.x.uuid} desc`;
    const from = this.x.postgres ? 'tasks' : `tasks indexed by ${INDEX.worker}`;
    for (const chunk of chunks(unique(hostnames), UNION_CHUNK)) {
      const parts = chunk.map(
        (h, i) => sql`select * from (select tasks.*, ${sql.raw(this.x.received)} as k0 from ${sql.raw(from)} where worker = ${h} order by ${sql.raw(order)} limit ${first}) as w${sql.raw(String(i))}`,
      );
      const { rows } = await sql<TaskRecord & { k0: number }>`select * from (${sql.join(parts, sql` union all `)}) as recent order by worker, k0 desc, ${sql.raw(this.x.uuid)} desc`.execute(this.db);
      for (const row of rows) {
        const { k0: _k0, ...task } = row;
        const list = byWorker.get(task.worker!);
        if (list) list.push(task);
        else byWorker.set(task.worker!, [task]);
      }
    }
    return byWorker;
  }

  /** Every stored event of the given tasks, in position order. */
  async eventsOf(uuids: readonly string[]): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (const chunk of chunks(unique(uuids), IN_CHUNK)) {
      const rows = await this.db.selectFrom(eventsOfTasks(this.db, chunk).as('events')).selectAll().orderBy('position').execute();
      for (const r of rows) out.push(toStoredEvent(r));
    }
    if (uuids.length > IN_CHUNK) out.sort((a, b) => a.position - b.position);
    return out;
  }

  /** Task names with how many tasks carry each, by name (byte order); tasks without a name are left out. */
  async nameCounts(): Promise<TaskNameCount[]> {
    const { rows } = await sql<{ name: string; n: number | string }>`select ${sql.raw(this.x.name)} as name, count(*) as n from tasks group by ${sql.raw(this.x.name)} order by ${sql.raw(this.x.name)}`.execute(this.scans);
    return rows.filter((r) => r.name !== '').map((r) => ({ name: r.name, count: Number(r.n) }));
  }

  // ---------------------------------------------------------------------------------------------

  private async choose(terms: readonly Term[], order: TaskOrderField, rows: number): Promise<PlanChoice & { probed: boolean }> {
    if (this.x.postgres || !needsProbe(terms)) return { ...choosePlanWithoutProbe(terms), probed: false };
    const indexed = terms.filter((t) => t.index !== undefined);
    const received = indexed.find((t) => t.key === RECEIVED_KEY);
    const probe = (index: string, conditions: RawBuilder<unknown>[]) =>
      sql`(select count(*) from (select 1 from tasks indexed by ${sql.raw(index)} where ${sql.join(conditions, sql` and `)} limit ${PROBE_CAP}))`;
    // A partial index is used only when the statement states its condition (it counts what it holds).
    const onIndex = (t: Term) => t.partial?.onIndex ?? t.condition;
    const columns = indexed.map((t, i) => sql`${probe(t.index!, [onIndex(t)])} as p${sql.raw(String(i))}`);
    const joint = received ? indexed.filter((t) => t.thenReceived) : [];
    columns.push(...joint.map((t, i) => sql`${probe(t.index!, [onIndex(t), received!.condition])} as j${sql.raw(String(i))}`));
    const { rows: result } = await sql<Record<string, number | null>>`select (select max(rowid) from tasks) as n, ${sql.join(columns)}`.execute(this.scans);
    const r = result[0] ?? {};
    const choice = choosePlan({
      rows,
      orderIndex: ORDER_INDEX[order],
      terms,
      counts: new Map(indexed.map((t, i) => [t.key, Number(r[`p${i}`] ?? 0)])),
      jointCounts: new Map(joint.map((t, i) => [t.key, Number(r[`j${i}`] ?? 0)])),
      total: Number(r.n ?? 0),
      cap: PROBE_CAP,
      covers: (index, key) => COVERS[index]?.has(key) ?? false,
    });
    return { ...choice, probed: true };
  }

  private async sqliteBranches(terms: readonly Term[], order: TaskOrder, after: TaskSortKey | null, limit: number, forced?: PlanChoice): Promise<Branch[]> {
    const plan = forced ? checkForcedPlan(forced, terms) : await this.choose(terms, order.field, limit);
    const keys = this.x.keys(order.field);
    const conditionsExcept = (skip: Term | null, unindexed: (t: Term) => boolean = () => false) =>
      terms.filter((t) => t !== skip).map((t) => (unindexed(t) && t.unindexed ? t.unindexed : t.condition));

    if (plan.kind === 'driver') {
      const driver = terms.find((t) => t.key === plan.key)!;
      const keyset = after ? [this.expandedKeyset(keys, order.direction, after)] : [];
      if (!driver.partial) return [{ index: driver.index!, conditions: [...conditionsExcept(null), ...keyset], orderBy: keys }];
      const others = conditionsExcept(driver);
      return [
        { index: driver.index!, conditions: [driver.partial.onIndex, ...others, ...keyset], orderBy: keys },
        { index: null, conditions: [driver.partial.outside, ...others, ...keyset], orderBy: keys },
      ];
    }

    if (plan.kind === 'lead') {
      const lead = terms.find((t) => t.key === plan.key)!;
      const others = conditionsExcept(lead);
      const branches: Branch[] = [];
      // received order: keys (received, uuid) follow the lead column in its index (runtime order:
      // (runtime, uuid) follow the name in tasks_name_runtime); name and state orders: the lead
      // column is the first key, (received, uuid) follow.
      const leadIsFirstKey = order.field === 'name' || order.field === 'state';
      if (lead.partial) {
        const keyset = after ? [this.expandedKeyset(keys, order.direction, after)] : [];
        branches.push({ index: null, conditions: [lead.partial.outside, ...others, ...keyset], orderBy: keys });
      }
      for (const value of lead.lead!.values) {
        const conditions = [lead.partial ? lead.partial.onIndex : sql`${sql.raw(lead.lead!.expr)} = ${value}`, ...others];
        if (after) {
          if (leadIsFirstKey) {
            const cmp = compareBytes(value, after[0] as string);
            const beyond = order.direction === 'asc' ? cmp > 0 : cmp < 0;
            if (cmp === 0) conditions.push(this.expandedKeyset(keys.slice(1), order.direction, after.slice(1)));
            else if (!beyond) continue; // every row of this value comes before the cursor
          } else {
            conditions.push(this.expandedKeyset(keys, order.direction, after));
          }
        }
        branches.push({ index: lead.index!, conditions, orderBy: leadIsFirstKey ? keys.slice(1) : keys });
      }
      return branches;
    }

    // order: walk the order's own index; a list on that index's first column must not constrain it.
    const index = ORDER_INDEX[order.field];
    const conditions = conditionsExcept(null, (t) => t.index === index && !t.boundsOrder);
    if (!after) return [{ index, conditions, orderBy: keys }];
    if (keys.length === 2) return [{ index, conditions: [...conditions, this.expandedKeyset(keys, order.direction, after)], orderBy: keys }];
    // Three keys: SQLite bounds an index range by one expression only, so split the rest of the
    // first key's group (first key = cursor's, then the other two) from the groups after it.
    const op = order.direction === 'asc' ? '>' : '<';
    return [
      {
        index,
        conditions: [...conditions, sql`${sql.raw(keys[0]!)} = ${after[0]}`, this.expandedKeyset(keys.slice(1), order.direction, after.slice(1))],
        orderBy: keys.slice(1),
      },
      { index, conditions: [...conditions, sql`${sql.raw(keys[0]!)} ${sql.raw(op)} ${after[0]}`], orderBy: keys },
    ];
  }

  /** Postgres: every criterion in one statement; the keyset as a row comparison (an index bound there). */
  private plainBranch(terms: readonly Term[], order: TaskOrder, after: TaskSortKey | null): Branch {
    const keys = this.x.keys(order.field);
    const conditions = terms.map((t) => t.condition);
    if (after) {
      const op = order.direction === 'asc' ? '>' : '<';
      conditions.push(sql`(${sql.raw(keys.join(', '))}) ${sql.raw(op)} (${sql.join(after.map((v) => sql`${v}`))})`);
    }
    return { index: null, conditions, orderBy: keys };
  }

  /**
   * `keys > after` (ascending) or `<` (descending) for two keys, written so SQLite bounds the index
   * range by the first: `k0 >= a0 and (k0 > a0 or k1 > a1)`; for three keys, nested likewise.
   */
  private expandedKeyset(keys: readonly string[], direction: SortDirection, after: TaskSortKey): RawBuilder<unknown> {
    const op = direction === 'asc' ? '>' : '<';
    const build = (i: number): RawBuilder<unknown> => {
      const k = sql.raw(keys[i]!);
      if (i === keys.length - 1) return sql`${k} ${sql.raw(op)} ${after[i]}`;
      return sql`(${k} ${sql.raw(`${op}=`)} ${after[i]} and (${k} ${sql.raw(op)} ${after[i]} or ${build(i + 1)}))`;
    };
    return build(0);
  }

  private async readBranches(branches: readonly Branch[], order: TaskOrder, limit: number): Promise<KeyedRow[]> {
    const keys = this.x.keys(order.field);
    const dir = order.direction === 'asc' ? 'asc' : 'desc';
    const selected = sql.raw(keys.map((k, i) => `${k} as k${i}`).join(', '));
    const render = (b: Branch) => {
      const from = b.index ? sql.raw(`tasks indexed by ${b.index}`) : sql.raw('tasks');
      const where = b.conditions.length > 0 ? sql` where ${sql.join(b.conditions, sql` and `)}` : sql``;
      return sql`select tasks.*, ${selected} from ${from}${where} order by ${sql.raw(b.orderBy.map((k) => `${k} ${dir}`).join(', '))} limit ${limit}`;
    };
    if (branches.length === 1 && branches[0]!.orderBy.length === keys.length) {
      return (await sql<KeyedRow>`${render(branches[0]!)}`.execute(this.scans)).rows;
    }
    const parts = branches.map((b, i) => sql`select * from (${render(b)}) as b${sql.raw(String(i))}`);
    const outerOrder = sql.raw(keys.map((_, i) => `k${i} ${dir}`).join(', '));
    return (await sql<KeyedRow>`select * from (${sql.join(parts, sql` union all `)}) as page order by ${outerOrder} limit ${limit}`.execute(this.scans)).rows;
  }

  private terms(f: TaskListFilter, field: TaskOrderField): Term[] {
    const x = this.x;
    const out: Term[] = [];
    const list = (key: string, expr: string, values: readonly string[] | undefined, index: string | undefined, leads: boolean, thenReceived = true) => {
      if (!values || values.length === 0) return;
      const vals = unique(values);
      const inList = sql.join(vals);
      out.push({
        key,
        // list indexes continue with (received, uuid), except names by runtime: (runtime, uuid)
        ...(index ? { index, ...(thenReceived ? { thenReceived: true } : {}) } : {}),
        condition: sql`${sql.raw(expr)} in (${inList})`,
        unindexed: sql`+${sql.raw(expr)} in (${inList})`,
        ...(leads ? { leadValues: vals.length, lead: { expr, values: vals } } : {}),
      });
    };
    list('states', x.state, f.states, INDEX.state, field === 'received' || field === 'state');
    if (field === 'runtime') list('names', x.name, f.names, INDEX.nameRuntime, true, false);
    else list('names', x.name, f.names, INDEX.name, field === 'received' || field === 'name');
    list('workers', 'worker', f.workers, INDEX.worker, field === 'received');
    list('sources', 'source', f.sources, undefined, false);
    list('queues', 'queue', f.queues, undefined, false);
    if (f.parentId !== undefined) {
      list('parentId', 'parent_id', [f.parentId], INDEX.parent, field === 'received');
      // A retry names its own task as parent (Celery 5.2): the children of a task are never itself.
      out.push({ key: 'parentIdNotSelf', condition: sql`uuid <> ${f.parentId}` });
    }
    if (f.rootId !== undefined) {
      // tasks_root_received holds the tasks whose root is another task (migration 0005): the root
      // itself (root_id = uuid) is read by its primary key.
      const root = f.rootId;
      list('rootId', 'root_id', [root], INDEX.root, field === 'received');
      const term = out[out.length - 1]!;
      term.partial = { onIndex: sql`(root_id = ${root} and root_id <> uuid)`, outside: sql`(uuid = ${root} and root_id = ${root})` };
      if (x.postgres) term.condition = sql`((root_id = ${root} and root_id <> uuid) or (uuid = ${root} and root_id = ${root}))`;
    }

    const range = (key: TaskOrderField, expr: string, low: number | null | undefined, lowInclusive: boolean, high: number | null | undefined, highInclusive: boolean) => {
      const parts: RawBuilder<unknown>[] = [];
      // Missing values are the sentinel: bound below by it so a range never matches them.
      if (low !== null && low !== undefined && low > MISSING_NUMBER) parts.push(sql`${sql.raw(expr)} ${sql.raw(lowInclusive ? '>=' : '>')} ${low}`);
      else parts.push(sql`${sql.raw(expr)} > ${sql.raw(String(MISSING_NUMBER))}`);
      if (high !== null && high !== undefined) parts.push(sql`${sql.raw(expr)} ${sql.raw(highInclusive ? '<=' : '<')} ${high}`);
      const time = key !== 'runtime';
      out.push({
        key,
        index: INDEX[key],
        condition: sql`(${sql.join(parts, sql` and `)})`,
        ...(field === key ? { boundsOrder: true } : time && field !== 'runtime' ? { correlated: true } : {}),
      });
    };
    if (f.received) range('received', x.received, f.received.from, true, f.received.to, false);
    if (f.started) range('started', x.started, f.started.from, true, f.started.to, false);
    if (f.finished) range('finished', x.finished, f.finished.from, true, f.finished.to, false);
    if (f.runtime) range('runtime', x.runtime, f.runtime.min, true, f.runtime.max, true);

    if (f.search !== undefined) {
      const pattern = substringPattern(f.search);
      const columns = ['args', 'kwargs', 'result', 'exception'].map((c) => sql`${sql.raw(x.lower(c))} like ${pattern} escape '!'`);
      out.push({ key: 'search', condition: sql`(${sql.join(columns, sql` or `)})` });
    }
    return out;
  }
}

/** Byte-wise (UTF-8) comparison, as both databases order text keys. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function splitKey(row: KeyedRow, arity: number): { task: TaskRecord; key: TaskSortKey } {
  const key: Array<string | number> = [];
  const task: Record<string, unknown> = { ...row };
  for (let i = 0; i < arity; i++) {
    const v = row[`k${i}`];
    // Postgres returns doubles as numbers already; bigint-typed expressions would come as numbers too.
    key.push(typeof v === 'string' || typeof v === 'number' ? v : Number(v));
    delete task[`k${i}`];
  }
  return { task: task as TaskRecord, key };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
