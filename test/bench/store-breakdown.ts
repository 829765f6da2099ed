/**
 * Where the collector's store time goes, without brokers: decodes the workload as the AMQP source
 * does (decodeAmqpMessage + newEvent), then appends it with EventStore.append in batches of the
 * collector's size, timing every SQL statement at the better-sqlite3 level (prepare vs
 * execution, wall and CPU) and counting the WAL frames each commit writes. Runs inside the
 * benchmark process; the per-call timing adds ~1 µs of its own per statement to the totals.
 */
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { DEFAULT_DECODE_OPTIONS, decodeAmqpMessage } from '../../libs/broker/src';
import { EventStore, newEvent, type NewEvent } from '../../libs/state/src';
import type { Workload } from './workload';

export interface StatementTime {
  /** The statement's first words. */
  statement: string;
  count: number;
  /** Wall time inside run/all/get, µs per event (inflated when other work competes for the CPUs). */
  execMicrosPerEvent: number;
  /** CPU time (process.cpuUsage around each call) inside run/all/get, µs per event. */
  execCpuMicrosPerEvent: number;
  prepareMicrosPerEvent: number;
}

export interface StoreBreakdown {
  events: number;
  batchEvents: number;
  synchronous: string;
  decodeMicrosPerEvent: number;
  appendCpuMicrosPerEvent: number;
  appendWallMicrosPerEvent: number;
  /** Wall time inside better-sqlite3 (prepare + run/all/get) per event, µs. */
  sqliteMicrosPerEvent: number;
  walBytesPerEvent: number;
  pageSize: number;
  statements: StatementTime[];
}

type Stmt = BetterSqlite3.Statement<unknown[]>;

function statementKind(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  const m = /^(insert into "?\w+"?|select .*? from "?\w+"?|update "?\w+"?|delete from "?\w+"?|\w+( \w+)?)/i.exec(s);
  let kind = (m?.[0] ?? s.slice(0, 40)).replace(/"/g, '');
  if (/^select /i.test(kind)) kind = `select … from ${kind.split(' ').pop()}`;
  if (/ on conflict /i.test(s)) kind += ' … on conflict';
  if (/ returning /i.test(s)) kind += ' … returning';
  return kind;
}

export async function storeBreakdown(workload: Workload, dir: string, batchEvents: number, synchronous: 'FULL' | 'NORMAL'): Promise<StoreBreakdown> {
  const now = Date.now() / 1000;
  const c0 = process.cpuUsage();
  const events: NewEvent[] = [];
  for (const m of workload.messages) {
    const result = decodeAmqpMessage(
      { content: m.body, contentType: 'application/json', contentEncoding: 'utf-8', headers: { hostname: m.hostname }, routingKey: m.routingKey },
      { ...DEFAULT_DECODE_OPTIONS, now },
    );
    for (const e of result.events) events.push(newEvent('bench', now, e));
  }
  const c1 = process.cpuUsage(c0);
  const decodeMicrosPerEvent = (c1.user + c1.system) / events.length;

  const store = await EventStore.open(`sqlite:${join(dir, 'store-breakdown.db')}`, { sqliteSynchronous: synchronous });
  const sqlite = store.database.sqlite;
  if (!sqlite) throw new Error('store breakdown needs SQLite');
  const pageSize = Number(sqlite.pragma('page_size', { simple: true }));

  const times = new Map<string, { count: number; execNs: number; execCpuUs: number; prepareNs: number }>();
  const entry = (kind: string) => {
    let t = times.get(kind);
    if (!t) times.set(kind, (t = { count: 0, execNs: 0, execCpuUs: 0, prepareNs: 0 }));
    return t;
  };
  const prepare = sqlite.prepare.bind(sqlite);
  // Wrap the handle kysely's SqliteDriver uses: prepare() then all()/run()/get() (timed as is).
  (sqlite as unknown as { prepare: (sql: string) => Stmt }).prepare = (sql: string): Stmt => {
    const t0 = process.hrtime.bigint();
    const stmt = prepare(sql) as Stmt;
    const kind = statementKind(sql);
    entry(kind).prepareNs += Number(process.hrtime.bigint() - t0);
    for (const method of ['all', 'run', 'get'] as const) {
      const original = (stmt[method] as (...a: unknown[]) => unknown).bind(stmt);
      (stmt as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        const c1 = process.cpuUsage();
        const t1 = process.hrtime.bigint();
        try {
          return original(...args);
        } finally {
          const elapsed = Number(process.hrtime.bigint() - t1);
          const c2 = process.cpuUsage(c1);
          const e = entry(kind);
          e.count += 1;
          e.execNs += elapsed;
          e.execCpuUs += c2.user + c2.system;
        }
      };
    }
    return stmt;
  };

  let cpu = 0;
  let wallNs = 0n;
  let walFrames = 0;
  for (let i = 0; i < events.length; i += batchEvents) {
    const batch = events.slice(i, i + batchEvents);
    const cpuBefore = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await store.append({ events: batch, rejected: [] });
    wallNs += process.hrtime.bigint() - t0;
    const used = process.cpuUsage(cpuBefore);
    cpu += used.user + used.system;
    // Untimed: frames now in the WAL = frames this commit wrote (the WAL restarts at each write
    // transaction once fully checkpointed, which the auto-checkpoint does after every commit this big).
    const rows = sqlite.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    walFrames += rows[0]?.log ?? 0;
  }
  await store.close();

  const n = events.length;
  const statements = [...times.entries()]
    .map(([statement, t]) => ({ statement, count: t.count, execMicrosPerEvent: t.execNs / 1e3 / n, execCpuMicrosPerEvent: t.execCpuUs / n, prepareMicrosPerEvent: t.prepareNs / 1e3 / n }))
    .sort((a, b) => b.execMicrosPerEvent + b.prepareMicrosPerEvent - (a.execMicrosPerEvent + a.prepareMicrosPerEvent));
  return {
    events: n,
    batchEvents,
    synchronous,
    decodeMicrosPerEvent,
    appendCpuMicrosPerEvent: cpu / n,
    appendWallMicrosPerEvent: Number(wallNs) / 1e3 / n,
    sqliteMicrosPerEvent: statements.reduce((a, s) => a + s.execMicrosPerEvent + s.prepareMicrosPerEvent, 0),
    walBytesPerEvent: (walFrames * (pageSize + 24)) / n,
    pageSize,
    statements,
  };
}
