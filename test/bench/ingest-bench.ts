/**
 * Ingest benchmark of the collector (npm run bench:ingest). See BENCHMARKS.md for what it
 * measures; every phase has a deadline and cleans up its queues and processes.
 */
import { SETTINGS } from '../../apps/collector/src/config';
import BetterSqlite3 from 'better-sqlite3';
import Redis from 'ioredis';
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { BareResult } from './bare-consumer';
import { deleteQueue, prefillQueue } from './amqp-prefill';
import { formatSummary, summariseCpuProfile, type ProfileSummary } from './cpuprofile-summary';
import { DbProbe, sqliteFileBytes } from './db-probe';
import { cpuMicros, peakRssBytes, schedstat, sleep, startCollector, systemBusyPct, threadState } from './processes';
import { kombuEventEnvelope, publishPaced } from './redis-publisher';
import { consoleTable, markdownSection, targetChecks, writeBenchmarksMd, type BenchResults, type CollectorDrainRun, type DrainRun, type MachineInfo, type RedisRun } from './report';
import { gitRef, rabbitmqVersion } from './run-context';
import { storeBreakdown } from './store-breakdown';
import { generateWorkload, pythonJson, type Workload } from './workload';

const REPO = resolve(__dirname, '../../..');
const env = process.env;
const EVENTS = Number(env.BENCH_EVENTS ?? 200_000);
const SINGLE_TASK_EVENTS = env.BENCH_SINGLE_EVENTS === '1';
const AMQP_URL = env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_BASE = (env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '');
// Not db 0: the channels are /<db>.celeryev/*, so other collectors and tests on this Redis
// (subscribed to /0.celeryev/*) never see the benchmark's traffic. Same code path otherwise.
const REDIS_DB = Number(env.BENCH_REDIS_DB ?? 15);
const REDIS_RATES = (env.BENCH_REDIS_RATES ?? '5000,10000,15000,20000').split(',').map(Number).filter((x) => x > 0);
const REDIS_SECONDS = Number(env.BENCH_REDIS_SECONDS ?? 30);
const PROFILE = (env.BENCH_PROFILE ?? 'auto').toLowerCase();
const PHASES = new Set((env.BENCH_PHASES ?? 'bare,collector,redis').split(',').map((s) => s.trim()));
const WRITE = env.BENCH_WRITE !== '0';
const DRAIN_TIMEOUT_MS = Number(env.BENCH_DRAIN_TIMEOUT_S ?? 240) * 1000;
// The machine is shared: wait (bounded) for other work to calm down before measuring.
const QUIET_WAIT_MS = Number(env.BENCH_QUIET_WAIT_S ?? 60) * 1000;
const QUIET_BUSY_PCT = Number(env.BENCH_QUIET_BUSY_PCT ?? 15);
const OVERALL_TIMEOUT_MS = Number(env.BENCH_MAX_MINUTES ?? 15) * 60_000;
// What the collector uses (defaults from apps/collector/src/config.ts unless overridden).
const PREFETCH = Number(env.CM_AMQP_PREFETCH ?? SETTINGS.amqpPrefetch.default);
const BATCH_MAX_EVENTS = Number(env.CM_BATCH_MAX_EVENTS ?? SETTINGS.batchMaxEvents.default);
const BATCH_MAX_DELAY_MS = Number(env.CM_BATCH_MAX_DELAY_MS ?? SETTINGS.batchMaxDelayMs.default);

const RUN_ID = Date.now().toString(36);
const BENCH_EXCHANGE = `cm-bench.${RUN_ID}`;
const AMQP_SOURCE = 'bench';
const REDIS_SOURCE = 'bench-redis';

const cleanups: Array<() => Promise<unknown>> = [];
const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
}

/** Waits until the machine's CPUs are at most QUIET_BUSY_PCT busy over 2 s (at most QUIET_WAIT_MS); returns the last reading. */
async function waitForQuiet(what: string): Promise<number> {
  const deadline = Date.now() + QUIET_WAIT_MS;
  let busy = await systemBusyPct(2000);
  let said = false;
  while (busy > QUIET_BUSY_PCT && Date.now() < deadline) {
    if (!said) log(`${what}: the machine is ${busy.toFixed(0)} % busy with other work; waiting up to ${QUIET_WAIT_MS / 1000} s for ≤ ${QUIET_BUSY_PCT} %`);
    said = true;
    busy = await systemBusyPct(2000);
  }
  if (said) log(`${what}: starting with the machine ${busy.toFixed(0)} % busy`);
  return busy;
}

async function machineInfo(): Promise<MachineInfo> {
  const sqlite = new BetterSqlite3(':memory:');
  const sqliteVersion = (sqlite.prepare('select sqlite_version() as v').get() as { v: string }).v;
  sqlite.close();
  const rabbitmq = await rabbitmqVersion(AMQP_URL);
  let redis = 'unknown';
  const r = new Redis(`${REDIS_BASE}/0`, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    redis = /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown';
  } catch {
    // reported as unknown
  } finally {
    r.disconnect();
  }
  return {
    date: new Date().toISOString().slice(0, 10),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: totalmem() / 1024 ** 3,
    kernel: release(),
    node: process.version,
    sqlite: sqliteVersion,
    rabbitmq,
    redis,
  };
}

// --- phase 2: bare consumer -------------------------------------------------------------------

async function runBare(workload: Workload): Promise<DrainRun> {
  const queue = `cm-bench.bare.${RUN_ID}`;
  cleanups.push(() => deleteQueue(AMQP_URL, queue));
  const fill = await prefillQueue({ url: AMQP_URL, queue, benchExchange: BENCH_EXCHANGE, asCollector: false }, workload.messages);
  log(`bare: prefilled ${queue} with ${fill.messages} messages in ${fill.seconds.toFixed(1)} s; draining`);
  const child = fork(join(__dirname, 'bare-consumer.js'), [], {
    env: {
      PATH: env.PATH,
      BARE_URL: AMQP_URL,
      BARE_QUEUE: queue,
      BARE_PREFETCH: String(PREFETCH),
      BARE_ACK_EVERY: String(BATCH_MAX_EVENTS),
      BARE_ACK_DELAY_MS: String(BATCH_MAX_DELAY_MS),
      BARE_EXPECTED_EVENTS: String(workload.events),
      BARE_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killChild = async () => void child.kill('SIGKILL');
  cleanups.push(killChild);
  const result = await new Promise<BareResult>((resolveResult, reject) => {
    child.once('message', (m) => resolveResult(m as BareResult));
    child.once('exit', (code) => reject(new Error(`bare consumer exited with code ${code} before reporting`)));
  });
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  cleanups.splice(cleanups.indexOf(killChild), 1);
  await deleteQueue(AMQP_URL, queue);
  if (!result.ok) throw new Error(`bare consumer failed: ${result.error}`);
  const seconds = (result.doneAtMs - result.firstAtMs) / 1000;
  return { events: result.events, seconds, rate: result.events / seconds, cpuMicrosPerEvent: result.cpuMicros / result.events, peakRssBytes: result.peakRssBytes };
}

// --- phase 3: collector draining a prefilled queue --------------------------------------------

function collectorEnv(extra: Record<string, string>): Record<string, string> {
  return { CM_HTTP_HOST: '127.0.0.1', CM_HTTP_PORT: '0', ...extra };
}

async function runCollectorDrain(workload: Workload, dir: string, label: string, nodeArgs: string[] = []): Promise<CollectorDrainRun> {
  const queue = `cm-bench.collector.${RUN_ID}.${label}`;
  cleanups.push(() => deleteQueue(AMQP_URL, queue));
  const fill = await prefillQueue({ url: AMQP_URL, queue, benchExchange: BENCH_EXCHANGE, asCollector: true }, workload.messages);
  log(`${label}: prefilled ${queue} (declared and bound like the collector) with ${fill.messages} messages in ${fill.seconds.toFixed(1)} s; starting the collector`);

  const dbPath = join(dir, `${label}.db`);
  const spawnAtMs = Date.now();
  const collector = startCollector({
    repoRoot: REPO,
    env: collectorEnv({ CM_BROKERS: `${AMQP_SOURCE}=${AMQP_URL}//`, CM_DATABASE_URL: `sqlite:${dbPath}`, CM_AMQP_QUEUE: queue }),
    logPath: join(dir, `${label}.log`),
    nodeArgs,
  });
  cleanups.push(() => collector.stop(5_000));
  const probe = new DbProbe(dbPath);
  const samples: Array<{ t: number; cpu: number; sched: { runNs: number; waitNs: number } | null; state: string | null }> = [];
  let exited = false;
  void collector.exited.then(() => (exited = true));
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let stored = 0;
  let lastLog = Date.now();
  // Bounded by the deadline; /proc every 25 ms, SQLite every 50 ms.
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`collector exited early (see ${collector.logPath})`);
    if (Date.now() > deadline) throw new Error(`collector stored ${stored}/${workload.events} events within ${DRAIN_TIMEOUT_MS / 1000} s (see ${collector.logPath})`);
    const cpu = cpuMicros(collector.pid);
    if (cpu !== null) samples.push({ t: Date.now(), cpu, sched: schedstat(collector.pid), state: threadState(collector.pid) });
    if (i % 2 === 0 && probe.ready() && probe.maxPosition() >= workload.events) {
      stored = probe.count(AMQP_SOURCE, workload.hostnames);
      if (stored >= workload.events) break;
    }
    if (Date.now() - lastLog > 5_000 && probe.ready()) {
      lastLog = Date.now();
      log(`${label}: ${probe.maxPosition()} events stored so far`);
    }
    await sleep(25);
  }
  const doneAtMs = Date.now();
  const cpuDone = cpuMicros(collector.pid) ?? samples[samples.length - 1]!.cpu;
  const schedDone = schedstat(collector.pid);
  const hwm = peakRssBytes(collector.pid) ?? 0;
  const sizes = sqliteFileBytes(dbPath);
  const firstAtMs = (probe.firstReceivedAt(AMQP_SOURCE) ?? spawnAtMs / 1000) * 1000;
  let startSample = samples[0];
  for (const s of samples) if (s.t <= firstAtMs) startSample = s;
  const cpuStart = startSample?.cpu ?? 0;
  // Main (JavaScript) thread during the drain: on a CPU, waiting for one, or neither (sleeping
  // in epoll for broker data or blocked in I/O; the sampled states tell those two apart).
  const window = samples.filter((s) => s.t > firstAtMs);
  const stateShare = (c: string) => (100 * window.filter((s) => s.state === c).length) / Math.max(1, window.length);
  const wallNs = (doneAtMs - firstAtMs) * 1e6;
  const runNs = schedDone && startSample?.sched ? schedDone.runNs - startSample.sched.runNs : 0;
  const waitNs = schedDone && startSample?.sched ? schedDone.waitNs - startSample.sched.waitNs : 0;
  const mainThread = {
    onCpuPct: (100 * runNs) / wallNs,
    waitingForCpuPct: (100 * waitNs) / wallNs,
    offCpuPct: Math.max(0, 100 - (100 * (runNs + waitNs)) / wallNs),
    sampledSleepingPct: stateShare('S'),
    sampledDiskWaitPct: stateShare('D'),
  };
  const tasks = probe.scalar('select count(*) as n from tasks');
  const rejected = probe.scalar('select count(*) as n from rejected_messages');
  const schema = `migrations ${probe.migrations().join(', ') || 'unknown'}; indexes (incl. automatic ones for PRIMARY KEY/UNIQUE): events ${probe.indexCount('events')}, tasks ${probe.indexCount('tasks')}, workers ${probe.indexCount('workers')}`;
  probe.close();
  await collector.stop();
  const after = sqliteFileBytes(dbPath);
  await deleteQueue(AMQP_URL, queue);
  const seconds = (doneAtMs - firstAtMs) / 1000;
  return {
    events: stored,
    seconds,
    rate: stored / seconds,
    cpuMicrosPerEvent: (cpuDone - cpuStart) / stored,
    peakRssBytes: hwm,
    startupSeconds: (firstAtMs - spawnAtMs) / 1000,
    startupCpuMs: cpuStart / 1000,
    dbBytes: sizes.db,
    walBytes: sizes.wal,
    bytesPerEvent: sizes.total / stored,
    bytesAfterStop: after.total,
    tasks,
    rejected,
    logPath: collector.logPath,
    mainThread,
    schema,
  };
}

// --- phase 4: Redis loss -----------------------------------------------------------------------

async function runRedisLoss(dir: string): Promise<{ runs: RedisRun[]; note: string; profilePath?: string }> {
  const redisUrl = `${REDIS_BASE}/${REDIS_DB}`;
  const dbPath = join(dir, 'redis.db');
  // BENCH_PROFILE=redis: the Redis collector runs under --cpu-prof (its CPU numbers include the profiler).
  const profDir = join(dir, 'redis-cpuprofile');
  const collector = startCollector({
    repoRoot: REPO,
    env: collectorEnv({ CM_BROKERS: `${REDIS_SOURCE}=${redisUrl}`, CM_DATABASE_URL: `sqlite:${dbPath}` }),
    logPath: join(dir, 'redis.log'),
    nodeArgs: PROFILE === 'redis' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  });
  cleanups.push(() => collector.stop(5_000));
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  cleanups.push(async () => publisher.disconnect());
  const probe = new DbProbe(dbPath);
  const outputLimit = ((await publisher.config('GET', 'client-output-buffer-limit')) as string[])[1] ?? 'unknown';
  await collector.waitForLog('listening for Celery events on Redis', 30_000);

  // End-to-end check before measuring: one heartbeat must come out in SQLite.
  const probeHost = `celery@bench-probe-${RUN_ID}`;
  const hb = { hostname: probeHost, utcoffset: 0, pid: 1, clock: 1, freq: 2.0, active: 0, processed: 0, loadavg: [0, 0, 0], sw_ident: 'py-celery', sw_ver: '5.2.6', sw_sys: 'Linux', timestamp: Date.now() / 1000, type: 'worker-heartbeat' };
  const probeMsg = kombuEventEnvelope(REDIS_DB, { routingKey: 'worker.heartbeat', hostname: probeHost, body: Buffer.from(pythonJson(hb)), events: 1 });
  for (let i = 0; i < 100; i++) {
    if (i % 10 === 0) await publisher.publish(probeMsg.channel, probeMsg.payload);
    if (probe.ready() && probe.count(REDIS_SOURCE, [probeHost]) > 0) break;
    if (i === 99) throw new Error(`the collector never stored the probe heartbeat (see ${collector.logPath})`);
    await sleep(200);
  }

  const runs: RedisRun[] = [];
  for (const rate of REDIS_RATES) {
    const tag = `r${rate}-${RUN_ID}`;
    const workload = generateWorkload({ totalEvents: rate * REDIS_SECONDS, hostPrefix: `celery@bench-${tag}-w`, clientHostname: `gen4242@bench-${tag}-client`, seed: rate,
      // Stamped at the publishing pace, ending when publishing does: no worker clock runs ahead.
      endTimestamp: Date.now() / 1000 + REDIS_SECONDS, spanSeconds: REDIS_SECONDS,
    });
    const encoded = workload.messages.map((m) => kombuEventEnvelope(REDIS_DB, m));
    const disconnectsBefore = collector.countLog('lost Redis connection');
    const cpuBefore = cpuMicros(collector.pid) ?? 0;
    log(`redis ${rate}/s: publishing ${workload.events} events in ${encoded.length} messages over ~${REDIS_SECONDS} s`);
    // Watch the collector's subscriber connection on the Redis side: its output buffer (omem)
    // grows when the collector reads slower than we publish; Redis drops the client past
    // client-output-buffer-limit pubsub (a new client id afterwards = it reconnected).
    const monitor = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    let peakOmem = 0;
    const ids = new Set<string>();
    const watch = setInterval(() => {
      monitor
        .call('CLIENT', 'LIST', 'TYPE', 'pubsub')
        .then((list) => {
          for (const line of String(list).split('\n')) {
            if (!line.includes(`name=celery-monitor:${REDIS_SOURCE} `)) continue;
            const id = /(?:^|\s)id=(\d+)/.exec(line)?.[1];
            if (id) ids.add(id);
            peakOmem = Math.max(peakOmem, Number(/omem=(\d+)/.exec(line)?.[1] ?? 0));
          }
        })
        .catch(() => undefined);
    }, 200);
    const pub = await publishPaced(publisher, encoded, rate);
    // Wait until everything is stored, or nothing more arrived for 3 s (bounded by the deadline).
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    let stored = 0;
    let lastChangeMs = Date.now();
    while (Date.now() < deadline) {
      const n = probe.count(REDIS_SOURCE, workload.hostnames);
      if (n !== stored) {
        stored = n;
        lastChangeMs = Date.now();
      }
      if (stored >= pub.events || Date.now() - lastChangeMs > 3_000) break;
      await sleep(stored >= pub.events * 0.99 ? 50 : 200);
    }
    clearInterval(watch);
    monitor.disconnect();
    const cpuAfter = cpuMicros(collector.pid) ?? cpuBefore;
    const run: RedisRun = {
      targetRate: rate,
      achievedRate: pub.achievedRate,
      publishSeconds: pub.seconds,
      published: pub.events,
      stored,
      lost: pub.events - stored,
      lossPct: (100 * (pub.events - stored)) / pub.events,
      drainSeconds: Math.max(0, (lastChangeMs - pub.endedAtMs) / 1000),
      cpuMicrosPerEvent: (cpuAfter - cpuBefore) / Math.max(1, stored),
      peakRssBytes: peakRssBytes(collector.pid) ?? 0,
      disconnects: collector.countLog('lost Redis connection') - disconnectsBefore,
      maxBehindEvents: pub.maxBehindEvents,
      peakOutputBufferBytes: peakOmem,
      subscriberConnections: ids.size,
    };
    log(`redis ${rate}/s: achieved ${run.achievedRate.toFixed(0)}/s, stored ${stored}/${pub.events} (${run.lossPct.toFixed(2)} % lost), last commit ${run.drainSeconds.toFixed(1)} s after the last publish, subscriber output buffer on Redis peaked at ${(peakOmem / 1024 / 1024).toFixed(1)} MiB, ${ids.size} subscriber connection(s)`);
    runs.push(run);
  }
  probe.close();
  await collector.stop();
  publisher.disconnect();
  const note =
    `Channel \`/${REDIS_DB}.celeryev/<routing key>\` (Redis db ${REDIS_DB}, so subscribers of the default /0.celeryev/* never see this traffic; identical code path), ` +
    `kombu JSON envelopes with base64 bodies, one collector subscribed throughout (fresh SQLite file, the settings above), each rate for ${REDIS_SECONDS} s with a unique hostname set; ` +
    `paced by hrtime in ≈ 1 ms ticks. "lost" = published − stored (counted in SQLite by hostname). Redis client-output-buffer-limit: \`${outputLimit}\`.`;
  const profile = PROFILE === 'redis' ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  return { runs, note, ...(profile ? { profilePath: join(profDir, profile) } : {}) };
}

// --- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedMs = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'cm-ingest-bench-'));
  log(`run ${RUN_ID}: work directory ${dir}`);
  const machine = await machineInfo();
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB.toFixed(1)} GiB, Node ${machine.node}, SQLite ${machine.sqlite}, RabbitMQ ${machine.rabbitmq}, Redis ${machine.redis}`);

  const genStart = Date.now();
  const workload = generateWorkload({ totalEvents: EVENTS, singleTaskEvents: SINGLE_TASK_EVENTS, endTimestamp: Date.now() / 1000 - 30 }); // a backlog of the last minutes
  const taskMulti = workload.messages.filter((m) => m.routingKey === 'task.multi').length;
  log(`workload: ${workload.events} events in ${workload.messages.length} messages (${taskMulti} task.multi), ${(workload.bodyBytes / 1024 / 1024).toFixed(1)} MiB, generated in ${((Date.now() - genStart) / 1000).toFixed(1)} s`);

  const overrides = Object.entries(env)
    .filter(([k]) => k.startsWith('CM_'))
    .map(([k, v]) => `${k}=${v}`);
  const settings = [
    overrides.length ? `overrides ${overrides.join(', ')}` : 'defaults',
    `prefetch ${PREFETCH} messages`,
    `batch ≤ ${BATCH_MAX_EVENTS} events / ${BATCH_MAX_DELAY_MS} ms`,
    `SQLite synchronous ${(env.CM_SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase()}`,
    'log level ' + (env.CM_LOG_LEVEL ?? 'info'),
  ];

  const results: BenchResults = {
    machine,
    workload: {
      events: workload.events,
      messages: workload.messages.length,
      taskMultiMessages: taskMulti,
      singleMessages: workload.messages.length - taskMulti,
      bodyBytes: workload.bodyBytes,
      byType: workload.byType,
      workers: workload.hostnames.filter((h) => h.startsWith('celery@')).length,
    },
    settings,
    bare: null,
    collector: null,
    redis: [],
    redisNote: 'not run',
    profile: null,
    profilePath: null,
    totalSeconds: 0,
    busyBefore: {},
    storeBreakdown: null,
    overrides,
    git: gitRef(REPO),
  };

  if (PHASES.has('bare')) {
    results.busyBefore.bare = await waitForQuiet('bare');
    results.bare = await runBare(workload);
    log(`bare: ${results.bare.rate.toFixed(0)} events/s, ${results.bare.cpuMicrosPerEvent.toFixed(1)} µs CPU/event`);
    await sleep(1000);
  }
  if (PHASES.has('collector')) {
    results.busyBefore.collector = await waitForQuiet('collector');
    results.collector = await runCollectorDrain(workload, dir, 'collector');
    log(`collector: ${results.collector.rate.toFixed(0)} events/s, ${results.collector.cpuMicrosPerEvent.toFixed(1)} µs CPU/event`);
    await sleep(1000);
  }
  if (PHASES.has('redis') && REDIS_RATES.length > 0) {
    results.busyBefore.redis = await waitForQuiet('redis');
    const { runs, note, profilePath } = await runRedisLoss(dir);
    results.redis = runs;
    results.redisNote = note;
    if (profilePath) {
      log(`redis profile (the collector under --cpu-prof): ${profilePath}`);
      process.stdout.write(`\n${formatSummary(summariseCpuProfile(profilePath, REPO, 30), 25)}\n`);
    }
  }

  const amqpMissed = targetChecks(results).slice(0, 2).some((c) => c.met === false);
  if (PROFILE === '1' || (PROFILE === 'auto' && amqpMissed && PHASES.has('collector'))) {
    log('profile: draining the workload again with node --cpu-prof (numbers of this pass are not reported)');
    const profDir = join(dir, 'cpuprofile');
    await runCollectorDrain(workload, dir, 'profile', ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    // One profile per thread (main, SQLite writer, WAL checkpointer): report the busiest in full.
    const summaries = readdirSync(profDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ file: f, summary: summariseCpuProfile(join(profDir, f), REPO, 30) }))
      .sort((a, b) => b.summary.busyMs - a.summary.busyMs);
    const busiest = summaries[0];
    if (busiest) {
      results.profilePath = join(profDir, busiest.file);
      const summary: ProfileSummary = busiest.summary;
      results.profile = summary;
      results.profileThreads = summaries.map((s) => ({ file: s.file, busyMs: s.summary.busyMs }));
      for (const s of summaries) log(`profile: ${s.file}: ${(s.summary.busyMs / 1000).toFixed(1)} s busy`);
      process.stdout.write(`\n${formatSummary(summary, 25)}\n`);
    } else log('profile: no .cpuprofile was written');
    log('store breakdown: EventStore.append on the same events without brokers, timing each SQL statement');
    try {
      results.busyBefore.breakdown = await waitForQuiet('store breakdown');
      const sync = (env.CM_SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase() === 'NORMAL' ? 'NORMAL' : 'FULL';
      results.storeBreakdown = await storeBreakdown(workload, dir, BATCH_MAX_EVENTS, sync);
    } catch (error) {
      log(`store breakdown failed (skipped): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  results.totalSeconds = (Date.now() - startedMs) / 1000;
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  process.stdout.write(`\n${consoleTable(results)}\n\n`);
  if (WRITE) {
    const path = join(REPO, 'BENCHMARKS.md');
    writeBenchmarksMd(path, markdownSection(results));
    log(`results written to ${path}`);
  }
  // Keep logs and the profile; the databases are large and no longer needed.
  for (const f of readdirSync(dir)) if (/\.db(-wal|-shm)?$/.test(f)) rmSync(join(dir, f), { force: true });
  log(`logs, results.json${results.profilePath ? ' and the CPU profile' : ''} kept in ${dir}`);
}

const overall = setTimeout(() => {
  log(`giving up after ${OVERALL_TIMEOUT_MS / 60_000} min`);
  void cleanup().finally(() => process.exit(1));
}, OVERALL_TIMEOUT_MS);
overall.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`ingest benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanup();
    process.exit(1);
  });
