/**
 * Starts real Celery 5.2 workers (Debian's python3-celery, run as `/usr/bin/python3 -m celery`)
 * for integration and end-to-end tests, and makes sure none of them outlives the test process.
 */
import { onProcessExit } from './exit-cleanup';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/** The only interpreter on this machine that has Celery installed. */
export const CELERY_PYTHON = '/usr/bin/python3';

/** Directory holding monitor_test_app.py and client.py (works from sources and from dist/). */
export const CELERY_APP_DIR: string = resolveCeleryAppDir();

function resolveCeleryAppDir(): string {
  const candidates = [
    path.resolve(__dirname, '../celery'),
    path.resolve(__dirname, '../../../test/celery'),
    path.resolve(process.cwd(), 'test/celery'),
  ];
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'monitor_test_app.py'))) return dir;
  }
  // Fall back to the source layout; spawning will then fail with a clear Python error.
  return candidates[0] as string;
}

export type CeleryPool = 'prefork' | 'solo' | 'threads';

export interface CeleryWorkerOptions {
  /** e.g. `amqp://guest:guest@127.0.0.1:5672//` or `redis://127.0.0.1:6379/0`. */
  brokerUrl: string;
  /** Celery node name, e.g. `w1@e2e-3f9a1c` (see {@link uniqueNodeName}). */
  nodeName: string;
  /** Pool size (`-c`); default 1. */
  concurrency?: number;
  /** Pool implementation (`-P`); default prefork. */
  pool?: CeleryPool;
  /** Queues to consume (`-Q`); default Celery's `celery` queue. */
  queues?: string[];
  /** Keep gossip / mingle on (default: both off, i.e. `--without-gossip --without-mingle`). */
  gossip?: boolean;
  mingle?: boolean;
  /** Appended verbatim to the command line. */
  extraArgs?: string[];
  /** Extra environment for the worker process. */
  env?: Record<string, string>;
  /** How long to wait for `<node> ready.`; default 30 s. */
  readyTimeoutMs?: number;
}

export interface CeleryWorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CeleryWorker {
  readonly nodeName: string;
  readonly brokerUrl: string;
  /** PID of the worker's main process (also its process group id). */
  readonly pid: number;
  /** Milliseconds from spawn to the `ready.` log line. */
  readonly startupMs: number;
  /** Resolves when the main process has exited. */
  readonly exited: Promise<CeleryWorkerExit>;
  /** True once the main process has exited. */
  isRunning(): boolean;
  /** Everything the worker has written to stdout and stderr so far. */
  output(): string;
  /** Waits until the log matches `pattern` (checked against the whole log); returns the log. */
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /**
   * Warm shutdown: SIGTERM to the main process, wait for it to exit, SIGKILL the whole group after
   * `timeoutMs` (default 15 s). Safe to call more than once.
   */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL to the whole process group (main process and pool children); waits for exit. */
  kill(): Promise<void>;
}

const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;
const READY_RE = /\S+@\S+ ready\./;

/** Process groups of workers started by this process and not yet known to be dead. */
const liveGroups = new Set<number>();
let cleanupInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function killAllWorkers(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  onProcessExit(killAllWorkers);
}

/** Kills (SIGKILL) every worker group this process started that is still alive. */
export function killAllCeleryWorkers(): void {
  killAllWorkers();
}

/** A fresh node name such as `w1@e2e-1a2b3c4d`. */
export function uniqueNodeName(prefix = 'w1'): string {
  return `${prefix}@e2e-${randomBytes(4).toString('hex')}`;
}

/** A fresh queue name such as `e2e-q-1a2b3c4d` so stale messages from other runs never interfere. */
export function uniqueQueueName(prefix = 'e2e-q'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * Python prelude: ask the kernel to SIGKILL the worker when the spawning Node thread dies (even by
 * SIGKILL, when no 'exit' handler can run), then exec Celery in place so the PID stays the same.
 */
const LAUNCHER = [
  'import ctypes, os, signal, sys',
  'try:',
  '    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)',
  'except Exception:',
  '    pass',
  'os.execv(sys.executable, [sys.executable, "-m", "celery"] + sys.argv[1:])',
].join('\n');

export function buildCeleryWorkerArgs(opts: CeleryWorkerOptions): string[] {
  const args = ['-A', 'monitor_test_app', 'worker', '-E', '-n', opts.nodeName, '-l', 'INFO'];
  args.push('-c', String(opts.concurrency ?? 1));
  args.push('-P', opts.pool ?? 'prefork');
  if (opts.queues && opts.queues.length > 0) args.push('-Q', opts.queues.join(','));
  if (!opts.gossip) args.push('--without-gossip');
  if (!opts.mingle) args.push('--without-mingle');
  if (opts.extraArgs) args.push(...opts.extraArgs);
  return args;
}

export function startCeleryWorker(opts: CeleryWorkerOptions): Promise<CeleryWorker> {
  installCleanup();
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const celeryArgs = buildCeleryWorkerArgs(opts);
  const startedAt = Date.now();

  const child = spawn(CELERY_PYTHON, ['-c', LAUNCHER, ...celeryArgs], {
    cwd: CELERY_APP_DIR,
    env: {
      ...process.env,
      ...opts.env,
      CM_TEST_BROKER_URL: opts.brokerUrl,
      PYTHONPATH: [CELERY_APP_DIR, process.env['PYTHONPATH']].filter(Boolean).join(path.delimiter),
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let log = '';
  const logWaiters = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    if (log.length > MAX_OUTPUT_CHARS) log = log.slice(log.length - MAX_OUTPUT_CHARS);
    for (const wake of [...logWaiters]) wake();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  let running = true;
  const exited = new Promise<CeleryWorkerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) {
        // Pool children may linger after the main process; never leave them behind.
        killGroup(child.pid, 'SIGKILL');
        liveGroups.delete(child.pid);
      }
      // 'close' follows once stdout/stderr are drained, so the captured log is complete; do not
      // wait for it forever in case some descendant escaped the process group with the pipes.
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(fallback);
        running = false;
        for (const wake of [...logWaiters]) wake();
        resolve({ code, signal });
      };
      const fallback = setTimeout(settle, 2_000);
      child.once('close', settle);
    });
  });

  return new Promise<CeleryWorker>((resolve, reject) => {
    child.once('error', (err) => {
      running = false;
      reject(new Error(`could not spawn ${CELERY_PYTHON} -m celery (${opts.nodeName}): ${err.message}`));
    });
    const pid = child.pid;
    if (pid === undefined) return; // the 'error' event follows
    liveGroups.add(pid);

    const waitForLog = (pattern: RegExp | string, timeoutMs = 30_000): Promise<string> =>
      new Promise<string>((res, rej) => {
        const matches = (): boolean =>
          typeof pattern === 'string' ? log.includes(pattern) : pattern.test(log);
        if (matches()) return res(log);
        let timer: NodeJS.Timeout | undefined;
        const check = (): void => {
          if (matches()) {
            logWaiters.delete(check);
            clearTimeout(timer);
            res(log);
          } else if (!running) {
            logWaiters.delete(check);
            clearTimeout(timer);
            rej(new Error(`celery worker ${opts.nodeName} exited before its log matched ${String(pattern)}:\n${log}`));
          }
        };
        timer = setTimeout(() => {
          logWaiters.delete(check);
          rej(new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)} in the log of ${opts.nodeName}:\n${log}`));
        }, timeoutMs);
        logWaiters.add(check);
        check();
      });

    const kill = async (): Promise<void> => {
      if (running) killGroup(pid, 'SIGKILL');
      await exited;
    };

    const stop = async (timeoutMs = 15_000): Promise<void> => {
      if (!running) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((res) => {
        timer = setTimeout(() => res('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') await kill();
    };

    waitForLog(READY_RE, readyTimeoutMs).then(
      () => {
        const worker: CeleryWorker = {
          nodeName: opts.nodeName,
          brokerUrl: opts.brokerUrl,
          pid,
          startupMs: Date.now() - startedAt,
          exited,
          isRunning: () => running,
          output: () => log,
          waitForLog,
          stop,
          kill,
        };
        resolve(worker);
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        void kill().then(() =>
          reject(new Error(`celery worker ${opts.nodeName} did not become ready: ${message}\n--- command: ${CELERY_PYTHON} -m celery ${celeryArgs.join(' ')}`)),
        );
      },
    );
  });
}
