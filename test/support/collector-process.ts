/**
 * Runs the BUILT collector (`node dist/apps/collector/main.js`) as a real child process for
 * end-to-end tests: picks a free HTTP port, waits for /readyz, scrapes /metrics, stops it
 * gracefully (SIGTERM, exit code 0 expected) or kills it (SIGKILL), and makes sure no collector
 * outlives the test process — not even when the test process itself is SIGKILLed.
 */
import { onProcessExit } from './exit-cleanup';
export { metricSamples, metricValue } from './prometheus-text';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { EventStore } from '../../libs/state/src';

/** The interpreter used as a tiny launcher (it is on every machine that runs the Celery tests). */
const LAUNCHER_PYTHON = '/usr/bin/python3';

/**
 * Python prelude: ask the kernel to SIGKILL the collector when the spawning thread dies (even by
 * SIGKILL, when no 'exit' handler can run), then exec node in place so the PID stays the same.
 */
const LAUNCHER = [
  'import ctypes, os, signal, sys',
  'try:',
  '    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)',
  'except Exception:',
  '    pass',
  'if os.getppid() != int(os.environ.get("CM_TEST_PARENT_PID", "0")):',
  '    sys.exit(70)  # the test process died before prctl took effect',
  'os.execv(sys.argv[1], sys.argv[1:])',
].join('\n');

/** Where `npm run build` puts the collector's entry point (works from sources and from dist/). */
export const COLLECTOR_MAIN: string = resolveCollectorMain();

function resolveCollectorMain(): string {
  // For experiments (e.g. a deliberately broken build, to prove a test can fail): an explicit file.
  const override = process.env['CM_TEST_COLLECTOR_MAIN'];
  if (override) return path.resolve(override);
  const candidates = [
    path.resolve(process.cwd(), 'dist/apps/collector/main.js'),
    path.resolve(__dirname, '../../dist/apps/collector/main.js'),
    path.resolve(__dirname, '../../apps/collector/main.js'), // running from dist/test/support
  ];
  for (const file of candidates) if (file.endsWith(path.join('dist', 'apps', 'collector', 'main.js')) && existsSync(file)) return file;
  return candidates[0] as string;
}

function assertBuilt(): void {
  if (!existsSync(COLLECTOR_MAIN)) {
    throw new Error(
      `the collector is not built: ${COLLECTOR_MAIN} is missing — run npm run build (cd ${path.resolve(path.dirname(COLLECTOR_MAIN), '../../..')} && npm run build) before the end-to-end tests`,
    );
  }
}

export interface StartCollectorOptions {
  /** CM_BROKERS, e.g. `rabbitmq=amqp://guest:guest@127.0.0.1:5672//,redis=redis://127.0.0.1:6379/0`. */
  brokers: string;
  /** CM_DATABASE_URL: `sqlite:/path.db` or `postgres://…?schema=…`. */
  databaseUrl: string;
  /** CM_AMQP_QUEUE (use a unique one per test, and delete it afterwards). */
  amqpQueue?: string;
  /** Further CM_* settings (they win over the ones above). */
  env?: Record<string, string>;
  /** How long to wait for /readyz 200 (default 20 s). */
  readyTimeoutMs?: number;
  /** CM_LOG_LEVEL (default `info`). */
  logLevel?: string;
}

export interface CollectorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CollectorProcess {
  readonly pid: number;
  /** HTTP port of /healthz, /readyz, /metrics on 127.0.0.1. */
  readonly port: number;
  readonly baseUrl: string;
  readonly amqpQueue: string | undefined;
  readonly databaseUrl: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<CollectorExit>;
  isRunning(): boolean;
  /** Everything written to stdout and stderr so far (JSON log lines). */
  output(): string;
  /** The JSON log lines parsed (lines that are not JSON are skipped). */
  logs(): Record<string, unknown>[];
  /** Waits until the output matches `pattern`. */
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** GET /metrics: the Prometheus text. */
  metrics(): Promise<string>;
  /** GET /readyz: status code and the parsed JSON body. */
  readiness(): Promise<{ status: number; body: ReadinessBody }>;
  /** SIGTERM, waits for the exit (SIGKILL after `timeoutMs`, default 20 s), throws unless it exited 0. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL, waits for the exit. */
  kill(): Promise<void>;
  /** Sends a signal and returns at once (watch `exited`). */
  signal(signal: NodeJS.Signals): void;
}

export interface ReadinessBody {
  status: string;
  checks: { name: string; ok: boolean; detail: string }[];
}

const MAX_OUTPUT_CHARS = 8 * 1024 * 1024;

/** Collector PIDs started by this process and not yet known to be dead. */
const livePids = new Set<number>();
let cleanupInstalled = false;

function killAllCollectors(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  livePids.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  onProcessExit(killAllCollectors);
}

/** SIGKILLs every collector this process started that is still alive. */
export function killAllCollectorProcesses(): void {
  killAllCollectors();
}

/** A port nobody listens on right now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tail(text: string, chars = 6_000): string {
  return text.length > chars ? `…${text.slice(text.length - chars)}` : text;
}

interface Spawned {
  pid: number;
  exited: Promise<CollectorExit>;
  isRunning(): boolean;
  output(): string;
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  signal(signal: NodeJS.Signals): void;
}

function spawnCollector(args: string[], env: Record<string, string>, describeRun: string): Spawned {
  assertBuilt();
  installCleanup();
  const child = spawn(LAUNCHER_PYTHON, ['-c', LAUNCHER, process.execPath, COLLECTOR_MAIN, ...args], {
    cwd: process.cwd(),
    env: { ...process.env, ...env, CM_TEST_PARENT_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('error', () => undefined); // reported through `exited` / the thrown error below
  let log = '';
  let running = true;
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    if (log.length > MAX_OUTPUT_CHARS) log = log.slice(log.length - MAX_OUTPUT_CHARS);
    for (const wake of [...waiters]) wake();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn the collector (${describeRun})`);
  livePids.add(pid);
  const exited = new Promise<CollectorExit>((resolve) => {
    let settled = false;
    const settle = (exit: CollectorExit): void => {
      if (settled) return;
      settled = true;
      livePids.delete(pid);
      running = false;
      for (const wake of [...waiters]) wake();
      resolve(exit);
    };
    child.once('error', (err) => {
      log += `\n[spawn error] ${err.message}\n`;
      settle({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      livePids.delete(pid);
      // 'close' follows once stdout/stderr are drained, so the captured log is complete; do not
      // wait for it forever in case a descendant kept the pipes open.
      const fallback = setTimeout(() => settle({ code, signal }), 2_000);
      child.once('close', () => {
        clearTimeout(fallback);
        settle({ code, signal });
      });
    });
  });
  const waitForLog = (pattern: RegExp | string, timeoutMs = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const matches = (): boolean => (typeof pattern === 'string' ? log.includes(pattern) : pattern.test(log));
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        if (matches()) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(log);
        } else if (!running) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`collector (${describeRun}) exited before its log matched ${String(pattern)}:\n${tail(log)}`));
        }
      };
      timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)} in the collector log (${describeRun}):\n${tail(log)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    pid,
    exited,
    isRunning: () => running,
    output: () => log,
    waitForLog,
    signal: (signal) => {
      if (!running) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
  };
}

/** Starts `node dist/apps/collector/main.js` and resolves once /readyz answers 200. */
export async function startCollector(options: StartCollectorOptions): Promise<CollectorProcess> {
  assertBuilt();
  let lastError: Error | undefined;
  // A port picked by freePort() can be taken by someone else before the collector binds it: retry.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    try {
      return await startOnPort(options, port);
    } catch (error) {
      lastError = error as Error;
      if (!/EADDRINUSE/.test(lastError.message)) throw lastError;
    }
  }
  throw lastError;
}

async function startOnPort(options: StartCollectorOptions, port: number): Promise<CollectorProcess> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const env: Record<string, string> = {
    CM_BROKERS: options.brokers,
    CM_DATABASE_URL: options.databaseUrl,
    CM_HTTP_HOST: '127.0.0.1',
    CM_HTTP_PORT: String(port),
    CM_LOG_LEVEL: options.logLevel ?? 'info',
    ...(options.amqpQueue !== undefined ? { CM_AMQP_QUEUE: options.amqpQueue } : {}),
    ...options.env,
  };
  const describeRun = `brokers ${options.brokers}, database ${options.databaseUrl}, port ${port}`;
  const proc = spawnCollector([], env, describeRun);
  const baseUrl = `http://127.0.0.1:${port}`;

  const readiness = async (): Promise<{ status: number; body: ReadinessBody }> => {
    const { status, body } = await httpGet(`${baseUrl}/readyz`);
    return { status, body: JSON.parse(body) as ReadinessBody };
  };

  const kill = async (): Promise<void> => {
    proc.signal('SIGKILL');
    await proc.exited;
  };

  const stop = async (timeoutMs = 20_000): Promise<void> => {
    if (!proc.isRunning()) {
      const exit = await proc.exited;
      if (exit.code !== 0) throw new Error(`collector had already exited with ${JSON.stringify(exit)}:\n${tail(proc.output())}`);
      return;
    }
    proc.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const outcome = await Promise.race([proc.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      await kill();
      throw new Error(`collector did not exit within ${timeoutMs} ms of SIGTERM (killed it):\n${tail(proc.output())}`);
    }
    if (outcome.code !== 0) {
      throw new Error(`collector exited with ${JSON.stringify(outcome)} after SIGTERM, expected code 0:\n${tail(proc.output())}`);
    }
  };

  // Wait for /readyz 200, failing early (with the log) when the process exits.
  const deadline = Date.now() + readyTimeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (!proc.isRunning()) {
      const exit = await proc.exited;
      throw new Error(`collector exited with ${JSON.stringify(exit)} before it became ready (${describeRun}):\n${tail(proc.output())}`);
    }
    try {
      const { status, body } = await httpGet(`${baseUrl}/readyz`, 2_000);
      if (status === 200) break;
      last = `${status} ${body}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`collector not ready within ${readyTimeoutMs} ms (${describeRun}); last /readyz: ${last}\n${tail(proc.output())}`);
    }
    await sleep(50);
  }

  return {
    pid: proc.pid,
    port,
    baseUrl,
    amqpQueue: options.amqpQueue,
    databaseUrl: options.databaseUrl,
    exited: proc.exited,
    isRunning: proc.isRunning,
    output: proc.output,
    signal: proc.signal,
    logs: () => parseLogLines(proc.output()),
    waitForLog: proc.waitForLog,
    metrics: async () => {
      const { status, body } = await httpGet(`${baseUrl}/metrics`);
      if (status !== 200) throw new Error(`GET /metrics answered ${status}: ${body}`);
      return body;
    },
    readiness,
    stop,
    kill,
  };
}

/**
 * Runs a one-shot collector command (`rebuild`, `migrate`) to completion with the given database;
 * resolves with its exit code and output (does not throw on a non-zero exit).
 */
export async function runCollectorCommand(
  command: 'rebuild' | 'migrate',
  options: { databaseUrl: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const env = { CM_DATABASE_URL: options.databaseUrl, CM_LOG_LEVEL: 'info', ...options.env };
  const proc = spawnCollector([command], env, `${command} on ${options.databaseUrl}`);
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
  const outcome = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    proc.signal('SIGKILL');
    await proc.exited;
    throw new Error(`collector ${command} did not finish within ${timeoutMs} ms:\n${tail(proc.output())}`);
  }
  return { code: outcome.code, signal: outcome.signal, output: proc.output() };
}

export function parseLogLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line, or not JSON
    }
  }
  return out;
}

/**
 * Opens the collector's database for assertions. It does not migrate (the collector did that at
 * start-up), so it only ever reads — close it when done.
 */
export function openStoreForAssertions(databaseUrl: string): Promise<EventStore> {
  return EventStore.open(databaseUrl, { migrate: false });
}
