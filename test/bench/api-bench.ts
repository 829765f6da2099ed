/**
 * API benchmark (`npm run bench:api`):
 *  1. seeds BENCH_API_TASKS tasks (1,000,000) through the event log into a SQLite file, cached
 *     under BENCH_API_CACHE_DIR keyed by the parameters (BENCH_API_REUSE=1 skips seeding when the
 *     file exists);
 *  2. starts the built API on it and times GraphQL queries over HTTP (tasks pages of several
 *     shapes, task(uuid) with its timeline, stats over the whole day);
 *  3. on a fresh small SQLite file: collector + API, 100 graphql-ws `events` subscribers, Celery
 *     worker-heartbeat events published to `celeryev` at BENCH_API_RATE events/s for
 *     BENCH_API_SECONDS s, delivery latency = receipt − the event's bench_sent_at;
 *  4. writes a dated "API benchmark" section in BENCHMARKS.md (BENCH_WRITE=0: don't).
 */
import * as amqp from 'amqplib';
import BetterSqlite3 from 'better-sqlite3';
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { metricSamples, startCollector } from '../support/collector-process';
import { deleteQueue } from './amqp-prefill';
import { ensureSeeded, SEED_NAMES, SEED_WORKERS, type CachedSeed } from './api-seed';
import { mulberry32 } from '../support/rng';
import { startBenchApi, type BenchApi } from './api-server';
import { mergeSubscriberReports, type SubscriberProcessReport, type SubscriberResult } from './subscriber-results';
import { cpuMicros, peakRssBytes, sleep } from './processes';
import { writeBenchmarksMd } from './report';
import { gitRef, rabbitmqVersion } from './run-context';
import { summariseCpuProfile, type ProfileSummary } from './cpuprofile-summary';
import { readdirSync } from 'node:fs';

const REPO = resolve(__dirname, '../../..');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TASKS = num('BENCH_API_TASKS', 1_000_000);
const DAYS = num('BENCH_API_DAYS', 1);
const BATCH = num('BENCH_API_BATCH', 10_000);
const REUSE = process.env.BENCH_API_REUSE === '1';
const CACHE_DIR = process.env.BENCH_API_CACHE_DIR ?? join(tmpdir(), 'cm-api-bench');
const SAMPLES = num('BENCH_API_SAMPLES', 200);
const WARMUP = num('BENCH_API_WARMUP', 20);
const STATS_SAMPLES = num('BENCH_API_STATS_SAMPLES', 20);
const SUBSCRIBERS = num('BENCH_API_SUBSCRIBERS', 100);
/** Processes the subscribers are spread over (each a graphql-ws client per subscriber). */
const SUB_PROCESSES = Math.max(1, Math.min(SUBSCRIBERS, num('BENCH_API_SUB_PROCESSES', 4)));
const RATE = num('BENCH_API_RATE', 2000);
const SECONDS = num('BENCH_API_SECONDS', 20);
/** Seconds of events at RATE before the measured ones: every process's code paths warm, as in a service that has been running. */
const WARMUP_SECONDS = num('BENCH_API_WARMUP_SECONDS', 3);
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
const PHASES = new Set((process.env.BENCH_API_PHASES ?? 'queries,subscriptions').split(','));
/** Subscription modes measured, in order: `batches` (eventBatches) and/or `events` (one message per event). */
type SubMode = 'batches' | 'events';
const SUB_MODES = (process.env.BENCH_API_SUB_MODES ?? 'batches,events').split(',').filter((m): m is SubMode => m === 'batches' || m === 'events');
const WRITE = process.env.BENCH_WRITE !== '0';
/** BENCH_API_PROFILE=1: run the subscription phase's API under --cpu-prof and summarise it. */
const PROFILE = process.env.BENCH_API_PROFILE === '1';
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const PROFILE_DIR = join(CACHE_DIR, `prof-${RUN_ID}`);
const TARGETS = { tasksPageP95: 15, taskTimelineP95: 5, deliveryP99: 100 };

const t0 = Date.now();
const log = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}`);
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const n0 = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (b: number | null) => (b === null ? 'n/a' : `${Math.round(b / 1024 ** 2)} MiB`);
const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

interface Dist {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function dist(values: number[]): Dist {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  return { count: s.length, p50: at(50), p95: at(95), p99: at(99), max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

// --- phase 2: queries ----------------------------------------------------------------------

const TASKS_QUERY = `query TasksPage($filter: TaskFilter, $orderBy: TaskOrder, $first: Int) {
  tasks(filter: $filter, orderBy: $orderBy, first: $first) {
    edges { cursor node { uuid name state receivedAt startedAt finishedAt runtime worker queue args result exception } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const TASK_QUERY = `query OneTask($uuid: ID!) {
  task(uuid: $uuid) {
    uuid name state stateAt receivedAt startedAt succeededAt failedAt runtime queueWait worker queue args kwargs result exception traceback retries rootId parentId eventCount
    timeline { position type time receivedAt hostname source payload }
  }
}`;
const STATS_QUERY = `query Stats($from: DateTime!, $to: DateTime!, $bucket: Int) {
  stats(from: $from, to: $to, bucket: $bucket) {
    from to bucketSeconds
    states { state count }
    throughput { received finished failed }
    names { name count failures failureRate }
    runtime { count p50 p95 p99 max }
    queueWait { count p50 p95 p99 max }
  }
}`;

interface Shape {
  label: string;
  vars: (rnd: () => number) => Record<string, unknown>;
}

function shapes(seed: CachedSeed): Shape[] {
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const pick = <T>(rnd: () => number, xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const span = seed.toEpoch - seed.fromEpoch;
  return [
    { label: 'states [FAILURE], received desc', vars: () => ({ filter: { states: ['FAILURE'] }, orderBy: { field: 'RECEIVED', direction: 'DESC' } }) },
    { label: 'names [one of 60], runtime desc', vars: (r) => ({ filter: { names: [pick(r, SEED_NAMES)] }, orderBy: { field: 'RUNTIME', direction: 'DESC' } }) },
    { label: 'workers [one of 8], started desc', vars: (r) => ({ filter: { workers: [pick(r, SEED_WORKERS)] }, orderBy: { field: 'STARTED', direction: 'DESC' } }) },
    {
      label: 'received in a random 1 h window, received desc',
      vars: (r) => {
        const from = seed.fromEpoch + r() * (span - 3600);
        return { filter: { received: { from: iso(from), to: iso(from + 3600) } }, orderBy: { field: 'RECEIVED', direction: 'DESC' } };
      },
    },
    {
      label: 'names [one of 60] + states [FAILURE] in a random 6 h window, received desc',
      vars: (r) => {
        const from = seed.fromEpoch + r() * Math.max(0, span - 6 * 3600);
        return { filter: { names: [pick(r, SEED_NAMES)], states: ['FAILURE'], received: { from: iso(from), to: iso(from + 6 * 3600) } }, orderBy: { field: 'RECEIVED', direction: 'DESC' } };
      },
    },
    { label: 'no filter, received desc (first page)', vars: () => ({ orderBy: { field: 'RECEIVED', direction: 'DESC' } }) },
  ];
}

async function timed(api: BenchApi, query: string, vars: Record<string, unknown>): Promise<{ ms: number; data: Record<string, unknown> }> {
  const start = performance.now();
  const r = await api.graphql(query, vars);
  const ms = performance.now() - start;
  if (r.errors?.length) throw new Error(`GraphQL errors for ${JSON.stringify(vars)}: ${JSON.stringify(r.errors)}`);
  return { ms, data: r.data! };
}

interface QueryResults {
  shapes: Array<{ label: string; d: Dist; meanRows: number }>;
  tasksAll: Dist;
  task: Dist;
  taskMeanTimeline: number;
  stats: Dist;
  statsTasks: number;
  /** task(uuid) with timeline, requested one at a time while a stats request is in flight. */
  duringStats: Dist;
  apiPeakRss: number | null;
  apiCpuMs: number | null;
  startupSeconds: number;
}

async function runQueries(seed: CachedSeed): Promise<QueryResults> {
  const rnd = mulberry32(7);
  const db = new BetterSqlite3(seed.path, { readonly: true });
  const total = (db.prepare('select count(*) as n from tasks').get() as { n: number }).n;
  const step = Math.max(1, Math.floor(total / 3000));
  const uuids = (db.prepare(`select uuid from tasks where rowid % ${step} = 0 limit 3000`).all() as { uuid: string }[]).map((r) => r.uuid);
  db.close();
  log(`tasks in the database: ${n0(total)}; ${uuids.length} uuids sampled for task(uuid)`);

  const started = performance.now();
  const api = await startBenchApi(REPO, `sqlite:${seed.path}`, join(CACHE_DIR, `api-queries-${RUN_ID}.log`));
  const startupSeconds = (performance.now() - started) / 1000;
  log(`API ready in ${startupSeconds.toFixed(1)} s (pid ${api.pid})`);
  try {
    const list = shapes(seed);
    const per = list.map(() => [] as number[]);
    const rows = list.map(() => 0);
    for (let i = 0; i < WARMUP; i++) for (const s of list) await timed(api, TASKS_QUERY, { first: 50, ...s.vars(rnd) });
    // Round robin over the shapes so drifts in machine load hit them alike.
    for (let i = 0; i < SAMPLES; i++) {
      for (let k = 0; k < list.length; k++) {
        const r = await timed(api, TASKS_QUERY, { first: 50, ...list[k]!.vars(rnd) });
        per[k]!.push(r.ms);
        rows[k]! += ((r.data.tasks as { edges: unknown[] }).edges ?? []).length;
      }
    }
    const shapeResults = list.map((s, k) => ({ label: s.label, d: dist(per[k]!), meanRows: rows[k]! / SAMPLES }));
    for (const s of shapeResults) log(`tasks page ${s.label}: p50 ${f2(s.d.p50)} p95 ${f2(s.d.p95)} p99 ${f2(s.d.p99)} ms (${f1(s.meanRows)} rows)`);
    const tasksAll = dist(per.flat());

    for (let i = 0; i < WARMUP; i++) await timed(api, TASK_QUERY, { uuid: uuids[Math.floor(rnd() * uuids.length)] });
    const taskTimes: number[] = [];
    let timeline = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const r = await timed(api, TASK_QUERY, { uuid: uuids[Math.floor(rnd() * uuids.length)] });
      const t = r.data.task as { timeline: unknown[] } | null;
      if (!t) throw new Error('task(uuid) returned null for a seeded uuid');
      timeline += t.timeline.length;
      taskTimes.push(r.ms);
    }
    const task = dist(taskTimes);
    log(`task(uuid) + timeline: p50 ${f2(task.p50)} p95 ${f2(task.p95)} p99 ${f2(task.p99)} ms (${f1(timeline / SAMPLES)} events)`);

    const statsVars = { from: new Date(seed.fromEpoch * 1000).toISOString(), to: new Date(Math.min(seed.toEpoch, seed.fromEpoch + 86_400) * 1000).toISOString(), bucket: 300 };
    await timed(api, STATS_QUERY, statsVars);
    const statsTimes: number[] = [];
    let statsTasks = 0;
    for (let i = 0; i < STATS_SAMPLES; i++) {
      const r = await timed(api, STATS_QUERY, statsVars);
      statsTasks = (r.data.stats as { states: { count: number }[] }).states.reduce((a, b) => a + b.count, 0);
      statsTimes.push(r.ms);
    }
    const stats = dist(statsTimes);
    log(`stats over a day: p50 ${f1(stats.p50)} p95 ${f1(stats.p95)} max ${f1(stats.max)} ms (${n0(statsTasks)} tasks)`);

    // A dashboard loading stats must not stop everyone else: task(uuid) requests, one at a time,
    // for as long as one stats request is in flight.
    const duringStatsTimes: number[] = [];
    for (let round = 0; round < 3; round++) {
      let statsDone = false;
      const inFlight = timed(api, STATS_QUERY, statsVars).finally(() => {
        statsDone = true;
      });
      await sleep(20);
      while (!statsDone) duringStatsTimes.push((await timed(api, TASK_QUERY, { uuid: uuids[Math.floor(rnd() * uuids.length)] })).ms);
      await inFlight;
    }
    const duringStats = dist(duringStatsTimes);
    log(`task(uuid) while stats runs: ${duringStats.count} requests, p50 ${f2(duringStats.p50)} p95 ${f2(duringStats.p95)} max ${f2(duringStats.max)} ms`);
    const apiPeakRss = peakRssBytes(api.pid);
    const cpu = cpuMicros(api.pid);
    return { shapes: shapeResults, tasksAll, task, taskMeanTimeline: timeline / SAMPLES, stats, statsTasks, duringStats, apiPeakRss, apiCpuMs: cpu === null ? null : cpu / 1000, startupSeconds };
  } finally {
    await api.stop();
  }
}

// --- phase 3: subscriptions ----------------------------------------------------------------

interface SubResults {
  mode: SubMode;
  result: SubscriberResult;
  expected: number;
  published: number;
  achievedRate: number;
  publishSeconds: number;
  allDelivered: boolean;
  waitAfterLastPublishS: number;
  apiPeakRss: number | null;
  collectorPeakRss: number | null;
  apiCpuMs: number | null;
  collectorCpuMs: number | null;
  subscriberPeakRss: number;
  /** The collector's batch commits during publishing + delivery (from its /metrics histogram). */
  commits: CommitCounts;
  dbPath: string;
}

/** Cumulative bucket counts of the collector's batch commit time histogram, by upper bound in seconds. */
function commitBuckets(metricsText: string): Map<string, number> {
  return new Map(metricSamples(metricsText, 'celery_monitor_batch_commit_seconds_bucket').map((s) => [s.labels.le ?? '', s.value]));
}

/** The collector's batch commits between two scrapes: how many, and how many took longer than 25, 100 and 250 ms. */
interface CommitCounts {
  count: number;
  over25ms: number;
  over100ms: number;
  over250ms: number;
}

function commitsBetween(before: Map<string, number>, after: Map<string, number>): CommitCounts {
  const d = (le: string) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const count = d('+Inf');
  return { count, over25ms: count - d('0.025'), over100ms: count - d('0.1'), over250ms: count - d('0.25') };
}

interface SubscriberStatus {
  connected: number;
  warm: number;
  delivered: number[];
}

/** Forks SUB_PROCESSES subscriber processes sharing SUBSCRIBERS between them; asks them all and merges their answers. */
function forkSubscribers(o: { wsUrl: string; runId: string; mode: SubMode; expected: number }) {
  const children = Array.from({ length: SUB_PROCESSES }, (_, k) => {
    const first = Math.floor((k * SUBSCRIBERS) / SUB_PROCESSES);
    const count = Math.floor(((k + 1) * SUBSCRIBERS) / SUB_PROCESSES) - first;
    return fork(join(__dirname, 'api-subscribers.js'), [], {
      env: { ...process.env, SUB_WS_URL: o.wsUrl, SUB_COUNT: String(count), SUB_FIRST: String(first), SUB_RUN: o.runId, SUB_MODE: o.mode, SUB_EXPECTED: String(o.expected) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
  });
  const askOne = <T>(child: (typeof children)[number], cmd: string, type: string) =>
    new Promise<T>((resolveAsk, rejectAsk) => {
      const onExit = (code: number | null) => rejectAsk(new Error(`subscriber process ${child.pid} exited (${code}) before answering ${cmd}`));
      const on = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off('message', on);
        child.off('exit', onExit);
        resolveAsk(m as T);
      };
      child.on('message', on);
      child.once('exit', onExit);
      child.send({ cmd });
    });
  return {
    status: async (): Promise<SubscriberStatus> => {
      const all = await Promise.all(children.map((c) => askOne<SubscriberStatus>(c, 'status', 'status')));
      return { connected: all.reduce((n, s) => n + s.connected, 0), warm: all.reduce((n, s) => n + s.warm, 0), delivered: all.flatMap((s) => s.delivered) };
    },
    finish: async (): Promise<SubscriberResult> => mergeSubscriberReports(await Promise.all(children.map((c) => askOne<SubscriberProcessReport>(c, 'finish', 'result')))),
  };
}

async function runSubscriptions(mode: SubMode): Promise<SubResults> {
  const runId = `${RUN_ID}-${mode}`;
  const dbPath = join(CACHE_DIR, `subs-${runId}.db`);
  const dbUrl = `sqlite:${dbPath}`;
  const queue = `cm-api-bench.${runId}`;
  const collector = await startCollector({ brokers: `rabbitmq=${AMQP_URL}`, databaseUrl: dbUrl, amqpQueue: queue, logLevel: 'warn', readyTimeoutMs: 30_000 });
  log(`collector ready (pid ${collector.pid}, queue ${queue})`);
  let api: BenchApi | null = null;
  let connection: amqp.ChannelModel | null = null;
  try {
    api = await startBenchApi(REPO, dbUrl, join(CACHE_DIR, `api-subs-${runId}.log`), {}, PROFILE && mode === SUB_MODES[0] ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : process.env.BENCH_API_TRACE_GC === '1' ? ['--trace-gc'] : []);
    log(`API ready (pid ${api.pid}), default CM_API_TAIL_INTERVAL_MS${process.env.CM_API_TAIL_INTERVAL_MS ? ` = ${process.env.CM_API_TAIL_INTERVAL_MS}` : ''}`);
    const expected = RATE * SECONDS;
    const subscribers = forkSubscribers({ wsUrl: api.wsUrl, runId, mode, expected });
    const ask = subscribers.status;

    connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createChannel();
    await channel.assertExchange('celeryev', 'topic', { durable: true, autoDelete: false });
    const hosts = Array.from({ length: 8 }, (_, i) => `celery@apibench-${runId}-w${i + 1}`);
    let seq = 0;
    const publish = (extra: Record<string, unknown>) => {
      const host = hosts[seq % hosts.length]!;
      const now = performance.timeOrigin + performance.now();
      const body = {
        hostname: host, utcoffset: 0, pid: 4242, clock: seq + 1, freq: 2.0, active: 0, processed: seq,
        loadavg: [0.1, 0.2, 0.3], sw_ident: 'py-celery', sw_ver: '5.3.6', sw_sys: 'Linux',
        timestamp: now / 1000, type: 'worker-heartbeat', bench_run: runId, bench_seq: seq, bench_sent_at: now, ...extra,
      };
      seq += 1;
      return channel.publish('celeryev', 'worker.heartbeat', Buffer.from(JSON.stringify(body)), {
        contentType: 'application/json', contentEncoding: 'utf-8', headers: { hostname: host }, deliveryMode: 1, priority: 0,
      });
    };

    // Every subscriber connected and receiving: warm-up events until each has seen one.
    const warmDeadline = Date.now() + 60_000;
    for (;;) {
      const s = await ask();
      if (s.connected >= SUBSCRIBERS && s.warm >= SUBSCRIBERS) break;
      if (Date.now() > warmDeadline) throw new Error(`subscribers not ready: ${s.connected} connected, ${s.warm} warm of ${SUBSCRIBERS}`);
      if (s.connected >= SUBSCRIBERS) publish({ bench_warmup: true });
      await sleep(200);
    }
    log(`${SUBSCRIBERS} ${mode === 'batches' ? 'eventBatches' : 'events'} subscribers connected and receiving; publishing ${n0(RATE)} events/s for ${SECONDS} s`);
    /** Publishes `count` events at RATE over `seconds`, paced by hrtime in ≈ 1 ms ticks; returns the seconds it took. */
    const publishAtRate = async (seconds: number, count: number, extra: Record<string, unknown>): Promise<number> => {
      const start = process.hrtime.bigint();
      let sent = 0;
      for (;;) {
        const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
        if (elapsed >= seconds) break;
        const due = Math.min(count, Math.floor(elapsed * RATE)) - sent;
        for (let i = 0; i < due; i++) {
          if (!publish(extra)) await new Promise((r) => channel.once('drain', r));
          sent += 1;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      for (; sent < count; sent++) publish(extra);
      return Number(process.hrtime.bigint() - start) / 1e9;
    };
    if (WARMUP_SECONDS > 0) {
      log(`warm-up: ${n0(RATE)} events/s for ${WARMUP_SECONDS} s (delivered, not measured)`);
      await publishAtRate(WARMUP_SECONDS, Math.round(RATE * WARMUP_SECONDS), { bench_phase: 'warmup' });
    }
    seq = 0;
    const commits0 = commitBuckets(await collector.metrics());
    const apiCpu0 = cpuMicros(api.pid);
    const colCpu0 = cpuMicros(collector.pid);
    const publishSeconds = await publishAtRate(SECONDS, expected, {});
    const published = expected;
    log(`published ${n0(published)} in ${publishSeconds.toFixed(2)} s; waiting for deliveries`);
    const lastPublish = Date.now();
    // Until everything arrived, or no progress for 15 s (subscribers cut off), or 120 s.
    let lastTotal = -1;
    let lastProgress = Date.now();
    for (;;) {
      const st = await ask();
      if (st.delivered.every((d) => d >= expected)) break;
      const totalNow = st.delivered.reduce((a, b) => a + b, 0);
      if (totalNow !== lastTotal) {
        lastTotal = totalNow;
        lastProgress = Date.now();
      }
      if (Date.now() - lastProgress > 15_000 || Date.now() - lastPublish > 120_000) {
        log(`giving up waiting: ${n0(totalNow)} of ${n0(expected * SUBSCRIBERS)} deliveries`);
        break;
      }
      await sleep(250);
    }
    const waitAfterLastPublishS = (Date.now() - lastPublish) / 1000;
    const apiCpu1 = cpuMicros(api.pid);
    const colCpu1 = cpuMicros(collector.pid);
    const commits = commitsBetween(commits0, commitBuckets(await collector.metrics()));
    const result = await subscribers.finish();
    const allDelivered = result.delivered.every((d) => d === expected);
    log(`collector commits: ${n0(commits.count)}, over 25 ms ${commits.over25ms}, over 100 ms ${commits.over100ms}, over 250 ms ${commits.over250ms}`);
    log(`warm-up deliveries (not measured) p99 ${f1(result.warmup.p99)} max ${f1(result.warmup.max)} ms`);
    log(`delivery latency p50 ${f1(result.latency.p50)} p95 ${f1(result.latency.p95)} p99 ${f1(result.latency.p99)} max ${f1(result.latency.max)} ms (to collector p99 ${f1(result.toCollector.p99)}, from collector p99 ${f1(result.fromCollector.p99)}); delivered min ${n0(Math.min(...result.delivered))} max ${n0(Math.max(...result.delivered))} of ${n0(expected)}`);
    const out: SubResults = {
      mode,
      result,
      expected,
      published,
      achievedRate: published / publishSeconds,
      publishSeconds,
      allDelivered,
      waitAfterLastPublishS,
      apiPeakRss: peakRssBytes(api.pid),
      collectorPeakRss: peakRssBytes(collector.pid),
      apiCpuMs: apiCpu0 !== null && apiCpu1 !== null ? (apiCpu1 - apiCpu0) / 1000 : null,
      collectorCpuMs: colCpu0 !== null && colCpu1 !== null ? (colCpu1 - colCpu0) / 1000 : null,
      subscriberPeakRss: result.peakRssBytes,
      commits,
      dbPath,
    };
    await channel.close().catch(() => undefined);
    return out;
  } finally {
    await connection?.close().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await collector.stop().catch((e: unknown) => log(`collector stop: ${String(e)}`));
    await deleteQueue(AMQP_URL, queue).catch(() => undefined);
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });
  }
}

// --- report --------------------------------------------------------------------------------

function section(x: {
  seed: CachedSeed | null; q: QueryResults | null; subs: SubResults[]; profile: ProfileSummary | null; error: string | null; sqlite: string; rabbit: string; loadStart: number[]; loadEnd: number[]; seconds: number;
}): string {
  const date = new Date().toISOString().slice(0, 10);
  const o: string[] = [];
  const status = (ok: boolean) => (ok ? 'met' : '**MISSED**');
  o.push(`## API benchmark — ${date}`, '');
  o.push(
    'Measured with `npm run bench:api` (test/bench/api-bench.ts with api-seed.ts, api-server.ts, api-subscribers.ts). Queries are timed at the client ' +
      '(fetch over loopback HTTP, one request at a time, so latency includes HTTP and JSON); percentiles are nearest rank. Knobs: `BENCH_API_TASKS` (1000000), ' +
      '`BENCH_API_DAYS` (1), `BENCH_API_REUSE` (1: reuse the cached seeded file), `BENCH_API_CACHE_DIR` (<tmp>/cm-api-bench), `BENCH_API_SAMPLES` (200 per shape), ' +
      '`BENCH_API_STATS_SAMPLES` (20), `BENCH_API_SUBSCRIBERS` (100), `BENCH_API_SUB_PROCESSES` (4), `BENCH_API_RATE` (2000), `BENCH_API_SECONDS` (20), `BENCH_API_WARMUP_SECONDS` (3), `BENCH_API_PHASES` (queries,subscriptions), `BENCH_API_SUB_MODES` (batches,events), `BENCH_API_PROFILE` (1: profile the API during delivery), `BENCH_WRITE`; `CM_*` variables are passed to the API and collector.',
    '',
  );
  o.push(
    `Machine: ${cpus().length} CPU (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Linux ${release()}; Node ${process.version}, SQLite ${x.sqlite}, RabbitMQ ${x.rabbit}. ` +
      `API, collector, broker, subscribers and benchmark share the machine, and other work may run on it: load average (1/5/15 min) ${la(x.loadStart)} at the start, ${la(x.loadEnd)} at the end.`,
    '',
  );
  o.push(`Run: \`npm run bench:api\` (${Math.round(x.seconds)} s in all) on ${gitRef(REPO)}.`, '');
  const sd = x.seed;
  if (sd === null) o.push('Dataset: none seeded (the queries phase did not run).', '');
  else o.push(
    `Dataset: ${n0(sd.tasks)} tasks over ${DAYS} day(s) from ${new Date(sd.fromEpoch * 1000).toISOString()} (${SEED_NAMES.length} task names, Zipf-like; ${SEED_WORKERS.length} workers; ~3 % failed), ` +
      `${n0(sd.events)} events (task-received, task-started, task-succeeded/failed, a heartbeat per worker per minute) appended through \`EventStore.append\` in ${n0(sd.batches)} batches of ≈ ${n0(BATCH)} events ` +
      `(synchronous NORMAL), so the tasks/workers projections are the collector's. Seeding took **${f1(sd.seconds)} s** (${n0(sd.events / sd.seconds)} events/s; load average ${la(sd.loadAvgBefore)} before, ${la(sd.loadAvgAfter)} after)` +
      `${sd.reused ? `, in an earlier run at ${sd.seededAt} (this run reused the cached file)` : ''}; file ${mib(sd.fileBytes)} (${n0(sd.fileBytes / sd.events)} bytes/event). No ANALYZE was run (the collector does not run one either).`,
    '',
  );
  if (x.error) o.push(`**The run did not finish:** ${x.error}`, '');
  o.push('### Targets', '', '| target | result | status |', '|---|---|---|');
  if (x.q) {
    o.push(`| tasks page (first: 50) p95 ≤ ${TARGETS.tasksPageP95} ms | ${f2(x.q.tasksAll.p95)} ms over all shapes (worst shape ${f2(Math.max(...x.q.shapes.map((s) => s.d.p95)))} ms) | ${status(x.q.tasksAll.p95 <= TARGETS.tasksPageP95)}${x.q.tasksAll.p95 <= TARGETS.tasksPageP95 && x.q.shapes.some((s) => s.d.p95 > TARGETS.tasksPageP95) ? ' overall; missed by some shapes' : ''} |`);
    o.push(`| task(uuid) with timeline p95 ≤ ${TARGETS.taskTimelineP95} ms | ${f2(x.q.task.p95)} ms | ${status(x.q.task.p95 <= TARGETS.taskTimelineP95)} |`);
  } else o.push('| tasks page, task(uuid) | not measured | — |');
  for (const sub of x.subs) {
    const ok = sub.result.latency.p99 <= TARGETS.deliveryP99 && sub.allDelivered;
    const field = sub.mode === 'batches' ? '`eventBatches` (one message per poll)' : '`events` (one message per event)';
    o.push(
      `| subscription delivery p99 ≤ ${TARGETS.deliveryP99} ms (${SUBSCRIBERS} subscribers, ${n0(RATE)} events/s, all delivered): ${field} | ${f1(sub.result.latency.p99)} ms; ${sub.allDelivered ? 'every subscriber got every event' : `**not all delivered** (min ${n0(Math.min(...sub.result.delivered))} of ${n0(sub.expected)})`} | ${status(ok)} |`,
    );
  }
  if (x.subs.length === 0) o.push('| subscription delivery | not measured | — |');
  o.push('');
  if (x.q) {
    const q = x.q;
    o.push(`### Queries on ${n0(sd!.tasks)} tasks`, '');
    o.push(
      `API started on the seeded file in ${q.startupSeconds.toFixed(1)} s; ${WARMUP} warm-up requests per shape, then ${SAMPLES} per shape, round robin over the shapes; variables (name, worker, window, uuid) drawn at random per request. ` +
        `API peak RSS (VmHWM) after the query phase: ${mib(q.apiPeakRss)}; API CPU over the phase ${q.apiCpuMs === null ? 'n/a' : `${n0(q.apiCpuMs)} ms`}.`,
      '',
    );
    o.push('| query | requests | p50 ms | p95 ms | p99 ms | max ms | rows/result |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const s of q.shapes) o.push(`| tasks: ${s.label} | ${s.d.count} | ${f2(s.d.p50)} | ${f2(s.d.p95)} | ${f2(s.d.p99)} | ${f2(s.d.max)} | ${f1(s.meanRows)} |`);
    o.push(`| **tasks: all shapes** | ${q.tasksAll.count} | ${f2(q.tasksAll.p50)} | **${f2(q.tasksAll.p95)}** | ${f2(q.tasksAll.p99)} | ${f2(q.tasksAll.max)} | |`);
    o.push(`| task(uuid) with timeline (random uuids) | ${q.task.count} | ${f2(q.task.p50)} | **${f2(q.task.p95)}** | ${f2(q.task.p99)} | ${f2(q.task.max)} | ${f1(q.taskMeanTimeline)} events |`);
    o.push(`| stats over one day (bucket 300 s) | ${q.stats.count} | ${f1(q.stats.p50)} | ${f1(q.stats.p95)} | ${f1(q.stats.p99)} | ${f1(q.stats.max)} | ${n0(q.statsTasks)} tasks |`);
    o.push(`| task(uuid) with timeline while a stats request is in flight (3 stats requests) | ${q.duringStats.count} | ${f2(q.duringStats.p50)} | ${f2(q.duringStats.p95)} | ${f2(q.duringStats.p99)} | ${f2(q.duringStats.max)} | |`);
    o.push('');
  }
  for (const s of x.subs) {
    const r = s.result;
    const selection =
      s.mode === 'batches'
        ? '`eventBatches(filter: {types: ["worker-heartbeat"]})` selecting `events { position payload } lastPosition` (every event waiting for the client per message, up to the default maxBatchSize 500)'
        : '`events(filter: {types: ["worker-heartbeat"]})` selecting `position payload` (one message per event)';
    o.push(`### Subscription delivery: ${s.mode === 'batches' ? 'eventBatches' : 'events'}`, '');
    o.push(
      `A fresh SQLite file (not the seeded one: live delivery does not depend on the log's size, and the collector keeps writing to it), one collector (CM_AMQP_QUEUE \`cm-api-bench.<run>\`, deleted afterwards) and one API (CM_API_TAIL_INTERVAL_MS ${process.env.CM_API_TAIL_INTERVAL_MS ?? 'default'}; collector CM_BATCH_MAX_DELAY_MS ${process.env.CM_BATCH_MAX_DELAY_MS ?? 'default'}) on it. ` +
        `${SUBSCRIBERS} graphql-ws clients (in ${r.processes} process${r.processes === 1 ? '' : 'es'} of their own, \`BENCH_API_SUB_PROCESSES\`, standing in for clients on other machines) each subscribe to ${selection}; ` +
        `worker-heartbeat events of 8 hostnames are published to \`celeryev\` (routing key worker.heartbeat, Celery's properties), paced by hrtime in ≈ 1 ms ticks; each carries \`bench_sent_at\` (epoch ms), ` +
        'and latency = receipt at the subscriber − bench_sent_at (publish → RabbitMQ → collector batch + commit → API log poll → WebSocket → client parse). ' +
        `Before the measured events, ${WARMUP_SECONDS} s of events at the same rate warm every process (a service that has been running); their deliveries are not measured: ` +
        `${n0(r.warmup.count)} deliveries, p50 ${f1(r.warmup.p50)} / p99 ${f1(r.warmup.p99)} / max ${f1(r.warmup.max)} ms.`,
      '',
    );
    o.push('| published | achieved rate | expected per subscriber | delivered per subscriber (min / max) | duplicates | out of order | errors | last delivery after last publish |', '|---:|---:|---:|---:|---:|---:|---:|---:|');
    o.push(
      `| ${n0(s.published)} in ${s.publishSeconds.toFixed(1)} s | ${n0(s.achievedRate)}/s | ${n0(s.expected)} | ${n0(Math.min(...r.delivered))} / ${n0(Math.max(...r.delivered))} | ${r.duplicates.reduce((a, b) => a + b, 0)} | ${r.outOfOrder.reduce((a, b) => a + b, 0)} | ${r.errors.length} | ≤ ${s.waitAfterLastPublishS.toFixed(1)} s |`,
      '',
    );
    o.push('| deliveries measured | p50 ms | p95 ms | p99 ms | max ms | mean ms | per-subscriber p99 (min / median / max) |', '|---:|---:|---:|---:|---:|---:|---|');
    o.push(`| ${n0(r.latency.count)} | ${f1(r.latency.p50)} | ${f1(r.latency.p95)} | **${f1(r.latency.p99)}** | ${f1(r.latency.max)} | ${f1(r.latency.mean)} | ${f1(r.perSubscriberP99.min)} / ${f1(r.perSubscriberP99.median)} / ${f1(r.perSubscriberP99.max)} ms |`, '');
    o.push(
      `Peak RSS (VmHWM): API ${mib(s.apiPeakRss)}, collector ${mib(s.collectorPeakRss)}, largest subscriber process ${mib(s.subscriberPeakRss)}. CPU during publishing + delivery: API ${s.apiCpuMs === null ? 'n/a' : `${n0(s.apiCpuMs)} ms`}, collector ${s.collectorCpuMs === null ? 'n/a' : `${n0(s.collectorCpuMs)} ms`}, ` +
        `subscriber processes ${n0(r.cpuMicros / 1000)} ms in all (event-loop delay of the worst, p99 ${f1(r.loopDelayP99Ms)} ms, max ${f1(r.loopDelayMaxMs)} ms: what the clients themselves add).`,
      '',
      `Split at the collector's receipt (its \`receivedAt\`, millisecond precision; the first subscriber's deliveries): publish → collector p50 ${f1(r.toCollector.p50)} / p99 ${f1(r.toCollector.p99)} / max ${f1(r.toCollector.max)} ms; ` +
        `collector → subscriber (batching, commit, log poll, GraphQL, WebSocket, client) p50 ${f1(r.fromCollector.p50)} / p99 ${f1(r.fromCollector.p99)} / max ${f1(r.fromCollector.max)} ms. ` +
        `The collector committed ${n0(s.commits.count)} batches meanwhile; ${s.commits.over25ms} took over 25 ms, ${s.commits.over100ms} over 100 ms, ${s.commits.over250ms} over 250 ms.`,
      '',
    );
    if (r.errors.length) o.push(`Errors (first ${r.errors.length}): ${r.errors.map((e) => `\`${e.replace(/`/g, "'").slice(0, 200)}\``).join('; ')}`, '');
  }
  if (x.profile) {
    const p = x.profile;
    o.push('### API CPU profile during subscription delivery (`BENCH_API_PROFILE=1`, `node --cpu-prof`)', '');
    o.push(`${n0(p.busyMs)} ms busy of ${n0(p.wallMs)} ms sampled (start-up and shutdown included; profiling slows the API, so this run's latencies are pessimistic).`, '');
    o.push('| self | function | location |', '|---:|---|---|');
    for (const f of p.self.slice(0, 12)) o.push(`| ${f.pct.toFixed(1)} % | \`${f.function}\` | ${f.location} |`);
    o.push('', 'Self time rolled up to the nearest project function:', '', '| self | function | location |', '|---:|---|---|');
    for (const f of p.byProjectCaller.slice(0, 12)) o.push(`| ${f.pct.toFixed(1)} % | \`${f.function}\` | ${f.location} |`);
    o.push('');
  }
  return o.join('\n');
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const sqliteDb = new BetterSqlite3(':memory:');
  const sqlite = (sqliteDb.prepare('select sqlite_version() as v').get() as { v: string }).v;
  sqliteDb.close();
  const rabbit = await rabbitmqVersion(AMQP_URL);
  log(`load average ${la(loadStart)}; Node ${process.version}, SQLite ${sqlite}, RabbitMQ ${rabbit}; ${n0(TASKS)} tasks, cache ${CACHE_DIR}, reuse ${REUSE}`);
  mkdirSync(CACHE_DIR, { recursive: true });
  const seed = PHASES.has('queries') ? await ensureSeeded(CACHE_DIR, { tasks: TASKS, days: DAYS, batchEvents: BATCH, seed: 1 }, REUSE, log) : null;
  if (seed && !seed.reused) log(`seeded ${n0(seed.tasks)} tasks / ${n0(seed.events)} events in ${f1(seed.seconds)} s → ${seed.path} (${mib(seed.fileBytes)})`);
  let q: QueryResults | null = null;
  const subs: SubResults[] = [];
  let error: string | null = null;
  try {
    if (seed) q = await runQueries(seed);
    if (PHASES.has('subscriptions')) for (const mode of SUB_MODES) subs.push(await runSubscriptions(mode));
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    log(`FAILED: ${error}`);
  }
  let profile: ProfileSummary | null = null;
  if (PROFILE && existsSync(PROFILE_DIR)) {
    const file = readdirSync(PROFILE_DIR).find((f) => f.endsWith('.cpuprofile'));
    if (file) profile = summariseCpuProfile(join(PROFILE_DIR, file), REPO, 15);
    else log(`no .cpuprofile in ${PROFILE_DIR}`);
  }
  const loadEnd = loadavg();
  log(`load average ${la(loadEnd)} at the end`);
  const text = section({ seed, q, subs, profile, error, sqlite, rabbit, loadStart, loadEnd, seconds: (Date.now() - t0) / 1000 });
  console.log(`\n${text}`);
  if (WRITE) {
    const md = join(REPO, 'BENCHMARKS.md');
    if (existsSync(md) && statSync(md).size > 0) writeBenchmarksMd(md, text);
    log(`wrote the section to ${md}`);
  }
  if (error) process.exitCode = 1;
}

main().then(
  () => process.exit(),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
