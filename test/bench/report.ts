/** Results of the ingest benchmark: console table and the dated section of BENCHMARKS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ProfileSummary } from './cpuprofile-summary';
import type { StoreBreakdown } from './store-breakdown';

export interface MachineInfo {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  sqlite: string;
  rabbitmq: string;
  redis: string;
}

export interface WorkloadInfo {
  events: number;
  messages: number;
  taskMultiMessages: number;
  singleMessages: number;
  bodyBytes: number;
  byType: Record<string, number>;
  workers: number;
}

export interface DrainRun {
  events: number;
  seconds: number;
  rate: number;
  cpuMicrosPerEvent: number;
  peakRssBytes: number;
}

export interface CollectorDrainRun extends DrainRun {
  startupSeconds: number;
  startupCpuMs: number;
  dbBytes: number;
  walBytes: number;
  bytesPerEvent: number;
  bytesAfterStop: number;
  tasks: number;
  rejected: number;
  logPath: string;
  /** The collector's JavaScript thread during the drain, % of wall time. */
  /** Applied migrations and index counts of the collector's database. */
  schema: string;
  mainThread: { onCpuPct: number; waitingForCpuPct: number; offCpuPct: number; sampledSleepingPct: number; sampledDiskWaitPct: number };
}

export interface RedisRun {
  targetRate: number;
  achievedRate: number;
  publishSeconds: number;
  published: number;
  stored: number;
  lost: number;
  lossPct: number;
  /** From the last PUBLISH until the last of this run's events was committed, s. */
  drainSeconds: number;
  cpuMicrosPerEvent: number;
  peakRssBytes: number;
  disconnects: number;
  maxBehindEvents: number;
  /** Peak output buffer (omem) Redis held for the collector's subscriber connection, sampled every 200 ms. */
  peakOutputBufferBytes: number;
  /** Distinct client ids of the collector's subscriber seen during the run (> 1: Redis dropped it and it reconnected). */
  subscriberConnections: number;
}

export interface BenchResults {
  machine: MachineInfo;
  workload: WorkloadInfo;
  settings: string[];
  bare: DrainRun | null;
  collector: CollectorDrainRun | null;
  redis: RedisRun[];
  redisNote: string;
  profile: ProfileSummary | null;
  profilePath: string | null;
  /** Busy time of every thread of the profiled collector (the main thread, the SQLite writer, the WAL checkpointer). */
  profileThreads?: Array<{ file: string; busyMs: number }>;
  totalSeconds: number;
  /** Whole-machine CPU busy % (over 2 s) just before each phase started. */
  busyBefore: { bare?: number; collector?: number; redis?: number; breakdown?: number };
  /** Commit of the code measured. */
  git: string;
  storeBreakdown: StoreBreakdown | null;
  /** CM_* settings passed to the collector beyond the benchmark's own (empty: defaults). */
  overrides: string[];
}

export const TARGETS = { rateShareOfBare: 90, cpuMicrosPerEvent: 40, noLossAtRedisRate: 20_000 };

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const n1 = (x: number) => x.toFixed(1);
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;

export interface TargetCheck {
  target: string;
  result: string;
  met: boolean | null;
  /** Replaces the plain met / MISSED status when the truth is in between. */
  note?: string | undefined;
}

const REDIS_SOFT_LIMIT_BYTES = 8 * 1024 * 1024;

export function targetChecks(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (r.bare && r.collector) {
    const share = (100 * r.collector.rate) / r.bare.rate;
    checks.push({ target: `collector rate ≥ ${TARGETS.rateShareOfBare} % of the bare consumer's`, result: `${n1(share)} % (${n0(r.collector.rate)} vs ${n0(r.bare.rate)} events/s)`, met: share >= TARGETS.rateShareOfBare });
  } else checks.push({ target: `collector rate ≥ ${TARGETS.rateShareOfBare} % of the bare consumer's`, result: 'not measured', met: null });
  if (r.collector) {
    checks.push({ target: `collector CPU ≤ ${TARGETS.cpuMicrosPerEvent} µs per event (RabbitMQ drain)`, result: `${n1(r.collector.cpuMicrosPerEvent)} µs`, met: r.collector.cpuMicrosPerEvent <= TARGETS.cpuMicrosPerEvent });
  } else checks.push({ target: `collector CPU ≤ ${TARGETS.cpuMicrosPerEvent} µs per event`, result: 'not measured', met: null });
  const at = r.redis.find((x) => x.targetRate === TARGETS.noLossAtRedisRate);
  // Redis keeps a lagging subscriber until its output buffer passes 32 MiB, or stays over 8 MiB
  // for 60 s: a loss-free 10 s run with more than 8 MiB queued would not stay loss-free.
  const lagging = at !== undefined && at.lost === 0 && at.peakOutputBufferBytes > REDIS_SOFT_LIMIT_BYTES;
  checks.push({
    target: `no loss at ${n0(TARGETS.noLossAtRedisRate)} events/s on Redis`,
    result: at
      ? `${n0(at.lost)} of ${n0(at.published)} lost (${at.lossPct.toFixed(2)} %)` +
        (lagging ? `, but only over ${n0(at.publishSeconds)} s: the collector fell ${(at.peakOutputBufferBytes / 1024 / 1024).toFixed(1)} MiB behind on Redis (limits 8 MiB for 60 s / 32 MiB), so not sustainable` : '')
      : 'not measured',
    met: at ? at.lost === 0 && !lagging : null,
    note: lagging ? 'met for the run only' : undefined,
  });
  return checks;
}

const status = (c: TargetCheck) => (c.note ? `**${c.note}**` : c.met === null ? '—' : c.met ? 'met' : '**MISSED**');

export function markdownSection(r: BenchResults): string {
  const m = r.machine;
  const w = r.workload;
  const lines: string[] = [];
  // Runs with collector overrides get their own section, so a tuned run never replaces the default one.
  lines.push(`## Ingest benchmark — ${m.date}${r.overrides.length ? ` (${r.overrides.join(', ')})` : ''}`);
  lines.push('');
  lines.push(`Machine: ${m.cpus} CPU (${m.cpuModel}), ${m.memoryGiB.toFixed(0)} GiB RAM, Linux ${m.kernel}; Node ${m.node}, SQLite ${m.sqlite}, RabbitMQ ${m.rabbitmq}, Redis ${m.redis}. Brokers, collector and benchmark share the machine.`);
  lines.push('');
  const busy = Object.entries(r.busyBefore)
    .map(([phase, pct]) => `${phase} ${n0(pct ?? 0)} %`)
    .join(', ');
  lines.push(`Run: \`npm run bench:ingest\` (${n0(r.totalSeconds)} s in all) on ${r.git}. Collector settings: ${r.settings.join('; ')}. Machine CPU busy with other work just before each phase: ${busy || 'not measured'}.`);
  lines.push('');
  const types = Object.entries(w.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([t, c]) => `${t} ${n0(c)}`)
    .join(', ');
  lines.push(
    `Workload: ${n0(w.events)} events from ${w.workers} workers in ${n0(w.messages)} messages (${n0(w.taskMultiMessages)} \`task.multi\` arrays of ≤ 24 events, ${n0(w.singleMessages)} single-event messages), ${n0(w.bodyBytes / w.events)} body bytes per event; ${types}.`,
  );
  lines.push('');
  lines.push('### Targets');
  lines.push('');
  lines.push('| target | result | status |');
  lines.push('|---|---|---|');
  for (const c of targetChecks(r)) lines.push(`| ${c.target} | ${c.result} | ${status(c)} |`);
  lines.push('');
  lines.push(`### RabbitMQ: draining ${n0(w.events)} prefilled events`);
  lines.push('');
  lines.push('Both consumers start on a full durable queue; timing runs from the first delivery to the moment the last event is acknowledged (bare) or visible in SQLite (collector), so start-up is excluded.');
  lines.push('');
  lines.push('| consumer | events/s | CPU µs/event | peak RSS | time |');
  lines.push('|---|---:|---:|---:|---:|');
  if (r.bare) lines.push(`| bare amqplib (JSON.parse + ack, same prefetch and ack batching) | ${n0(r.bare.rate)} | ${n1(r.bare.cpuMicrosPerEvent)} | ${mib(r.bare.peakRssBytes)} | ${r.bare.seconds.toFixed(2)} s |`);
  if (r.collector) {
    const c = r.collector;
    const share = r.bare ? ` (${n1((100 * c.rate) / r.bare.rate)} % of bare)` : '';
    lines.push(`| collector (decode, SQLite append + projections, ack after commit) | ${n0(c.rate)}${share} | ${n1(c.cpuMicrosPerEvent)} | ${mib(c.peakRssBytes)} | ${c.seconds.toFixed(2)} s |`);
    lines.push('');
    lines.push(
      `Collector database (${c.schema}): ${n0(c.bytesPerEvent)} bytes per stored event (file ${mib(c.dbBytes)} + WAL ${mib(c.walBytes)} when the last event was stored; ${n0(c.bytesAfterStop / c.events)} bytes/event after a clean stop), ${n0(c.tasks)} task rows, ${n0(c.rejected)} rejected messages. Start-up (spawn → first delivery): ${c.startupSeconds.toFixed(2)} s, ${n0(c.startupCpuMs)} ms CPU, not counted above.`,
    );
    const t = c.mainThread;
    if (t.waitingForCpuPct > 10) {
      lines.push('');
      lines.push(
        `**Contended run:** other work on the shared machine kept the collector's thread waiting for a CPU ${n0(t.waitingForCpuPct)} % of the drain, so its events/s (and the share of the bare rate) are understated; CPU µs/event is hardly affected.`,
      );
    }
    lines.push('');
    lines.push(
      `Collector main (JavaScript) thread during the drain (/proc/<pid>/schedstat): on a CPU ${n0(t.onCpuPct)} %, runnable but waiting for a CPU ${n0(t.waitingForCpuPct)} %, off CPU ${n0(t.offCpuPct)} % (25 ms samples of its state: sleeping ${n0(t.sampledSleepingPct)} %, disk wait ${n0(t.sampledDiskWaitPct)} %). CPU µs/event counts every thread of the process (utime + stime).`,
    );
  }
  lines.push('');
  lines.push('### Redis pub/sub: loss at steady publish rates');
  lines.push('');
  lines.push(r.redisNote);
  lines.push('');
  lines.push('| target events/s | achieved | published | stored | lost | loss | stored by (after last publish) | collector CPU µs/event | collector peak RSS | peak Redis output buffer of the subscriber | reconnects |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of r.redis) {
    lines.push(
      `| ${n0(x.targetRate)} | ${n0(x.achievedRate)} | ${n0(x.published)} | ${n0(x.stored)} | ${n0(x.lost)} | ${x.lossPct.toFixed(2)} % | ${x.drainSeconds.toFixed(1)} s | ${n1(x.cpuMicrosPerEvent)} | ${mib(x.peakRssBytes)} | ${(x.peakOutputBufferBytes / 1024 / 1024).toFixed(1)} MiB | ${x.disconnects} |`,
    );
  }
  const risky = r.redis.filter((x) => x.lost === 0 && x.peakOutputBufferBytes > REDIS_SOFT_LIMIT_BYTES);
  if (risky.length > 0) {
    lines.push('');
    lines.push(
      `No loss at ${risky.map((x) => n0(x.targetRate)).join(', ')} events/s only because the runs last ${r.redis[0] ? n0(r.redis[0].publishSeconds) : '?'} s: the collector fell behind (Redis held up to ${risky.map((x) => `${(x.peakOutputBufferBytes / 1024 / 1024).toFixed(1)} MiB`).join(', ')} for it), and Redis drops a pub/sub client that stays over the 8 MiB soft limit for 60 s or reaches the 32 MiB hard limit. Sustained, only rates the collector keeps up with are loss-free.`,
    );
  }
  if (r.storeBreakdown) {
    const b = r.storeBreakdown;
    lines.push('');
    lines.push('### Store path without brokers (EventStore.append, per SQL statement)');
    lines.push('');
    lines.push(
      `The same ${n0(b.events)} events decoded like the AMQP source does (decodeAmqpMessage + newEvent: ${n1(b.decodeMicrosPerEvent)} µs CPU/event), then appended in batches of ${n0(b.batchEvents)} (synchronous ${b.synchronous}): ` +
        `${n1(b.appendCpuMicrosPerEvent)} µs CPU/event, ${n1(b.appendWallMicrosPerEvent)} µs wall/event, of which ${n1(b.sqliteMicrosPerEvent)} µs inside better-sqlite3. ` +
        `Each commit writes ${n0(b.walBytesPerEvent)} WAL bytes per event (${b.pageSize}-byte pages), against ${r.collector ? n0(r.collector.bytesPerEvent) : '?'} bytes per event finally stored.`,
    );
    lines.push('');
    lines.push('| statement | executions | execute: CPU µs/event | execute: wall µs/event | prepare µs/event |');
    lines.push('|---|---:|---:|---:|---:|');
    for (const st of b.statements.slice(0, 10)) lines.push(`| \`${st.statement}\` | ${n0(st.count)} | ${n1(st.execCpuMicrosPerEvent)} | ${n1(st.execMicrosPerEvent)} | ${n1(st.prepareMicrosPerEvent)} |`);
  }
  if (r.profile) {
    const p = r.profile;
    lines.push('');
    lines.push('### Collector CPU profile (RabbitMQ drain, `node --cpu-prof`, busiest thread)');
    lines.push('');
    if (r.profileThreads && r.profileThreads.length > 1) {
      lines.push(`Threads (one profile each): ${r.profileThreads.map((t) => `\`${t.file}\` ${(t.busyMs / 1000).toFixed(1)} s busy`).join(', ')}. The busiest:`);
      lines.push('');
    }
    lines.push(`${(p.busyMs / 1000).toFixed(1)} s busy of ${(p.wallMs / 1000).toFixed(1)} s sampled (profile includes start-up and shutdown). Top self time:`);
    lines.push('');
    lines.push('| self | function | location |');
    lines.push('|---:|---|---|');
    for (const f of p.self.slice(0, 15)) lines.push(`| ${n1(f.pct)} % | \`${f.function}\` | ${f.location} |`);
    lines.push('');
    lines.push('Self time rolled up to the nearest project function on the stack (dependency and SQLite time charged to its caller):');
    lines.push('');
    lines.push('| self | function | location |');
    lines.push('|---:|---|---|');
    for (const f of p.byProjectCaller.slice(0, 15)) lines.push(`| ${n1(f.pct)} % | \`${f.function}\` | ${f.location} |`);
    lines.push('');
    lines.push('Inclusive time of the project\'s own functions:');
    lines.push('');
    lines.push('| inclusive | function | location |');
    lines.push('|---:|---|---|');
    for (const f of p.inclusive.slice(0, 12)) lines.push(`| ${n1(f.pct)} % | \`${f.function}\` | ${f.location} |`);
  }
  lines.push('');
  return lines.join('\n');
}

const HEADER = `# Benchmarks

Measured with \`npm run bench:ingest\` (test/bench/ingest-bench.ts and the modules beside it). One run:

1. generates a realistic Celery workload: task life cycles in \`task.multi\` arrays of up to 24
   events (as a worker's event dispatcher flushes them), worker heartbeats, some \`task.sent\`;
   Celery's routing keys, properties (application/json, utf-8, headers {hostname}, delivery_mode 1)
   and Python-style JSON; stamped as a backlog that ended 30 s before the run (no worker clock ahead of
   the collector's);
2. drains it from a prefilled durable RabbitMQ queue with a bare amqplib consumer (a separate
   process that only JSON.parses and acks, with the collector's prefetch and ack batching);
3. drains the same messages with the collector (\`node dist/apps/collector/main.js\`, fresh SQLite
   file, queue prefilled while it is stopped, declared and bound exactly as the collector does;
   timing starts at the first delivery) and reads its CPU time, peak RSS and scheduler state
   from /proc;
4. publishes on Redis pub/sub at steady rates (kombu envelopes, base64 bodies, hrtime pacing,
   events stamped at the publishing pace) and
   counts what the collector stored;
5. when a RabbitMQ target is missed: drains once more under \`node --cpu-prof\` and times every
   SQL statement of \`EventStore.append\` on the same events without brokers;
6. writes the dated section below (a second run on the same day replaces it).

Benchmark traffic never goes through \`celeryev\` (a private exchange feeds the queues) and Redis
traffic uses db 15's channels, so other consumers on the shared brokers do not see it.

Knobs (environment): \`BENCH_EVENTS\` (200000), \`BENCH_REDIS_RATES\` (5000,10000,15000,20000),
\`BENCH_REDIS_SECONDS\` (30), \`BENCH_REDIS_DB\` (15), \`BENCH_SINGLE_EVENTS\` (0; 1: the drained workload sends every
task event in a message of its own, as solo, threads and eventlet pools do), \`BENCH_PROFILE\` (auto; 1 always; 0 never),
\`BENCH_PHASES\` (bare,collector,redis), \`BENCH_WRITE\` (1: update this file), \`BENCH_QUIET_WAIT_S\`
(60: longest wait before each phase for the shared machine to be at most \`BENCH_QUIET_BUSY_PCT\`
(15) % busy). Any \`CM_*\` variable set when running is passed to the collector and named in the
section. Targets: collector ≥ ${TARGETS.rateShareOfBare} % of the bare consumer's rate, ≤ ${TARGETS.cpuMicrosPerEvent} µs CPU per event, no loss at
${n0(TARGETS.noLossAtRedisRate)} events/s on Redis.
`;

/** Replaces the section of the same date, or appends a new one. */
export function writeBenchmarksMd(path: string, section: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : HEADER;
  writeFileSync(path, placeSection(text, section));
}

/**
 * The document with `section` in it: in place of the section with the same heading, else before
 * the newest section of its kind (`## Ingest benchmark — …`: newest first), else at the end.
 */
export function placeSection(document: string, section: string): string {
  const text = document.endsWith('\n') ? document : `${document}\n`;
  const heading = section.split('\n')[0]!;
  const body = `${section.trimEnd()}\n`;
  const start = lineStarting(text, `${heading}\n`);
  if (start !== -1) {
    const next = text.indexOf('\n## ', start + heading.length);
    return text.slice(0, start) + body + (next === -1 ? '' : text.slice(next));
  }
  const kind = heading.split(' — ')[0]!;
  const newest = kind === heading ? -1 : lineStarting(text, `${kind} — `);
  if (newest !== -1) return `${text.slice(0, newest)}${body}\n${text.slice(newest)}`;
  return `${text.trimEnd()}\n\n${body}`;
}

/** Index of the first line of `text` that starts with `prefix`, or -1. */
function lineStarting(text: string, prefix: string): number {
  if (text.startsWith(prefix)) return 0;
  const i = text.indexOf(`\n${prefix}`);
  return i === -1 ? -1 : i + 1;
}

export function consoleTable(r: BenchResults): string {
  const out: string[] = [];
  const row = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const w1 = [44, 12, 14, 10, 9];
  out.push(row(['RabbitMQ drain', 'events/s', 'CPU µs/event', 'peak RSS', 'time'], w1));
  if (r.bare) out.push(row(['bare amqplib consumer', n0(r.bare.rate), n1(r.bare.cpuMicrosPerEvent), mib(r.bare.peakRssBytes), `${r.bare.seconds.toFixed(2)} s`], w1));
  if (r.collector) {
    const c = r.collector;
    out.push(row(['collector', n0(c.rate), n1(c.cpuMicrosPerEvent), mib(c.peakRssBytes), `${c.seconds.toFixed(2)} s`], w1));
    out.push(`collector DB: ${n0(c.bytesPerEvent)} bytes/event (db ${mib(c.dbBytes)} + wal ${mib(c.walBytes)}); start-up ${c.startupSeconds.toFixed(2)} s`);
    const t = c.mainThread;
    out.push(`collector main thread: on CPU ${n0(t.onCpuPct)} %, waiting for CPU ${n0(t.waitingForCpuPct)} %, off CPU ${n0(t.offCpuPct)} % (sampled: sleeping ${n0(t.sampledSleepingPct)} %, disk wait ${n0(t.sampledDiskWaitPct)} %)`);
  }
  out.push('');
  const w2 = [10, 10, 10, 10, 8, 8, 10, 12, 10];
  out.push(row(['Redis rate', 'achieved', 'published', 'stored', 'lost', 'loss', 'drain', 'CPU µs/ev', 'reconnects'], w2));
  for (const x of r.redis) {
    out.push(row([n0(x.targetRate), n0(x.achievedRate), n0(x.published), n0(x.stored), n0(x.lost), `${x.lossPct.toFixed(2)}%`, `${x.drainSeconds.toFixed(1)} s`, n1(x.cpuMicrosPerEvent), String(x.disconnects)], w2));
  }
  if (r.storeBreakdown) {
    const b = r.storeBreakdown;
    out.push('');
    out.push(`store path without brokers: decode ${n1(b.decodeMicrosPerEvent)} µs + append ${n1(b.appendCpuMicrosPerEvent)} µs CPU/event (${n1(b.sqliteMicrosPerEvent)} µs in SQLite; ${n0(b.walBytesPerEvent)} WAL bytes/event)`);
    for (const st of b.statements.slice(0, 6)) out.push(`  ${n1(st.execCpuMicrosPerEvent).padStart(6)} µs CPU ${n1(st.execMicrosPerEvent).padStart(6)} µs wall ${n1(st.prepareMicrosPerEvent).padStart(5)} µs prepare  ${st.statement}`);
  }
  out.push('');
  for (const c of targetChecks(r)) out.push(`${c.note ? 'PART ' : c.met === null ? '  -  ' : c.met ? ' met ' : 'MISS '} ${c.target}: ${c.result}`);
  return out.join('\n');
}
