/**
 * Seeds the API benchmark's dataset THROUGH THE EVENT LOG (EventStore.append), so the tasks and
 * workers projections are the ones the collector would build: per task task-received,
 * task-started and task-succeeded or task-failed (≈ 3 % fail), ~60 task names (Zipf-like), 8
 * workers, tasks spread evenly over `days` days, plus one worker-heartbeat per worker per minute.
 * Deterministic (seeded PRNG, fixed start time), so a cached file is reusable.
 */
import { newEvent, type NewEvent } from '../../libs/state/src/new-event';
import { EventStore } from '../../libs/state/src/event-store';
import { mulberry32 } from '../support/rng';

/** 2026-11-20T00:00:00Z: the dataset's first task (fixed, so the cache key holds). */
export const SEED_T0 = Date.UTC(2026, 10, 20) / 1000;
export const SEED_WORKERS = Array.from({ length: 8 }, (_, i) => `celery@bench-w${i + 1}`);
export const SEED_NAMES = buildNames();

export interface SeedOptions {
  path: string;
  tasks: number;
  days: number;
  batchEvents: number;
  seed: number;
  onProgress?: (tasksDone: number, eventsDone: number) => void;
}

export interface SeedResult {
  tasks: number;
  events: number;
  seconds: number;
  batches: number;
  /** First and last received time (epoch s). */
  fromEpoch: number;
  toEpoch: number;
}

function buildNames(): string[] {
  const modules = ['orders', 'billing', 'email', 'images', 'reports', 'search', 'sync', 'users', 'notifications', 'exports'];
  const verbs = ['process', 'send', 'refresh', 'cleanup', 'aggregate', 'import'];
  const out: string[] = [];
  for (const m of modules) for (const v of verbs) out.push(`proj.${m}.${v}_${m}`);
  return out; // 60
}


export async function seedTasks(o: SeedOptions): Promise<SeedResult> {
  const rnd = mulberry32(o.seed);
  const hex = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rnd() * 16)];
    return s;
  };
  const uuid = () => {
    const h = hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  };
  // Zipf-like name weights (s = 1) and per-name mean runtimes.
  const weights = SEED_NAMES.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));
  const meanRuntime = SEED_NAMES.map(() => 0.005 + rnd() * rnd() * 4);
  const pickName = () => {
    const r = rnd();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const clocks = new Map<string, number>(SEED_WORKERS.map((w) => [w, 0]));
  const tick = (w: string) => {
    const c = clocks.get(w)! + 1;
    clocks.set(w, c);
    return c;
  };
  const ev = (type: string, hostname: string, timestamp: number, uuidValue: string | null, extra: Record<string, unknown>): NewEvent => {
    const clock = tick(hostname);
    const fields: Record<string, unknown> = { hostname, utcoffset: 0, pid: 4242, clock, ...(uuidValue ? { uuid: uuidValue } : {}), ...extra, timestamp, type };
    return newEvent('rabbitmq', timestamp + 0.002 + rnd() * 0.01, { type, hostname, timestamp, clock, uuid: uuidValue, fields });
  };

  const span = o.days * 86_400;
  const spacing = span / o.tasks;
  const store = await EventStore.open(`sqlite:${o.path}`, { sqliteSynchronous: 'NORMAL' });
  const started = process.hrtime.bigint();
  let events = 0;
  let batches = 0;
  let nextHeartbeat = SEED_T0;
  let processed = 0;
  try {
    const tasksPerBatch = Math.max(1, Math.floor(o.batchEvents / 3));
    for (let first = 0; first < o.tasks; first += tasksPerBatch) {
      const last = Math.min(o.tasks, first + tasksPerBatch);
      const batch: NewEvent[] = [];
      for (let i = first; i < last; i++) {
        const t = SEED_T0 + i * spacing + rnd() * spacing;
        const worker = SEED_WORKERS[Math.floor(rnd() * SEED_WORKERS.length)]!;
        const n = pickName();
        const name = SEED_NAMES[n]!;
        const id = uuid();
        const wait = -Math.log(1 - rnd()) * 0.05;
        const runtime = -Math.log(1 - rnd()) * meanRuntime[n]!;
        const failed = rnd() < 0.03;
        batch.push(
          ev('task-received', worker, t, id, {
            name, args: `(${Math.floor(rnd() * 100000)}, 'user${Math.floor(rnd() * 99999)}@example.com')`, kwargs: "{'locale': 'en'}",
            root_id: id, parent_id: null, retries: 0, eta: null, expires: null,
          }),
          ev('task-started', worker, t + wait, id, {}),
          failed
            ? ev('task-failed', worker, t + wait + runtime, id, {
                exception: "ConnectionError('Read timed out')",
                traceback: 'Traceback (most recent call last):\n  File "tasks.py", line 42, in run\nConnectionError: Read timed out\n',
              })
            : ev('task-succeeded', worker, t + wait + runtime, id, { result: String(Math.floor(rnd() * 2000)), runtime }),
        );
        processed += 1;
        while (nextHeartbeat <= t) {
          for (const w of SEED_WORKERS) {
            batch.push(ev('worker-heartbeat', w, nextHeartbeat, null, { freq: 60, active: 1, processed, loadavg: [0.5, 0.4, 0.3], sw_ident: 'py-celery', sw_ver: '5.3.6', sw_sys: 'Linux' }));
          }
          nextHeartbeat += 60;
        }
      }
      batch.sort((a, b) => a.timestamp - b.timestamp);
      await store.append({ events: batch, rejected: [] });
      events += batch.length;
      batches += 1;
      o.onProgress?.(last, events);
    }
    // Checkpoint the WAL into the file so the cached copy is self-contained.
    store.database.sqlite?.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    await store.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { tasks: o.tasks, events, seconds, batches, fromEpoch: SEED_T0, toEpoch: SEED_T0 + span };
}

export interface CachedSeed extends SeedResult {
  path: string;
  /** True when this run reused a file seeded earlier (seeding figures are from that run). */
  reused: boolean;
  seededAt: string;
  fileBytes: number;
  loadAvgBefore: number[];
  loadAvgAfter: number[];
}

/**
 * The seeded database for these parameters: reused from the cache directory when `reuse` is set
 * and a complete file exists (written under a .partial name and renamed when done, with the
 * seeding figures in a .json beside it), else seeded afresh.
 */
export async function ensureSeeded(dir: string, o: Omit<SeedOptions, 'path'>, reuse: boolean, log: (s: string) => void): Promise<CachedSeed> {
  const { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = await import('node:fs');
  const { loadavg } = await import('node:os');
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/tasks-${o.tasks}-d${o.days}-b${o.batchEvents}-s${o.seed}-v1.db`;
  if (reuse && existsSync(path) && existsSync(`${path}.json`)) {
    const meta = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as CachedSeed;
    log(`reusing ${path} (seeded ${meta.seededAt} in ${meta.seconds.toFixed(1)} s)`);
    return { ...meta, path, reused: true };
  }
  const partial = `${path}.partial`;
  for (const f of [path, `${path}.json`, partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
  const loadAvgBefore = loadavg();
  let lastLog = Date.now();
  const result = await seedTasks({
    ...o,
    path: partial,
    onProgress: (t, e) => {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  seeded ${t.toLocaleString('en-US')} tasks (${e.toLocaleString('en-US')} events)`);
      }
    },
  });
  for (const f of [`${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
  renameSync(partial, path);
  const meta: CachedSeed = { ...result, path, reused: false, seededAt: new Date().toISOString(), fileBytes: statSync(path).size, loadAvgBefore, loadAvgAfter: loadavg() };
  writeFileSync(`${path}.json`, JSON.stringify(meta, null, 2));
  return meta;
}
