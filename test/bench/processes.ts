/**
 * Child processes of the benchmark: the collector (spawned from dist/, logs kept in a file and
 * watched for lines) and per-process measurements read from /proc (CPU ticks, peak RSS).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

let clockTicksPerSecond: number | null = null;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
export function clockTicks(): number {
  if (clockTicksPerSecond === null) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** utime + stime of a process, in µs (resolution: one clock tick, usually 10 ms). */
export function cpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after "(comm)": index 0 is field 3 (state); utime is field 14, stime field 15.
    const ticks = Number(rest[11]) + Number(rest[12]);
    return (ticks * 1e6) / clockTicks();
  } catch {
    return null;
  }
}

/** Scheduler state of the process's main thread: R running, S sleeping, D disk wait, … */
export function threadState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return null;
  }
}

/**
 * /proc/<pid>/schedstat of the main thread (the JavaScript thread): time on a CPU and time
 * runnable but waiting for one (CPU contention), both in ns.
 */
export function schedstat(pid: number): { runNs: number; waitNs: number } | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { runNs: run ?? 0, waitNs: wait ?? 0 };
  } catch {
    return null;
  }
}

function statusField(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Peak resident set size (VmHWM), bytes. */
export function peakRssBytes(pid: number): number | null {
  return statusField(pid, 'VmHWM');
}

export function rssBytes(pid: number): number | null {
  return statusField(pid, 'VmRSS');
}

export interface CollectorProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logPath: string;
  readonly exited: Promise<number | null>;
  /** Resolves when a log line containing `text` was written (or rejects after `timeoutMs`). */
  waitForLog(text: string, timeoutMs: number): Promise<void>;
  /** Number of log lines seen so far that contain `text`. */
  countLog(text: string): number;
  /** SIGTERM (graceful: commits what arrived, writes a --cpu-prof profile), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartCollectorOptions {
  repoRoot: string;
  env: Record<string, string>;
  logPath: string;
  nodeArgs?: string[];
}

export function startCollector(options: StartCollectorOptions): CollectorProcess {
  const main = resolve(options.repoRoot, 'dist/apps/collector/main.js');
  // Only the benchmark's own CM_* settings plus any the caller exported (documented in the report).
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('CM_') && v !== undefined) env[k] = v;
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), main], { cwd: options.repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(options.logPath);
  const lines: string[] = [];
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (line.includes(waiters[i]!.text)) {
          waiters[i]!.resolve();
          waiters.splice(i, 1);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolveExit) => {
    child.on('exit', (code) => {
      log.end();
      resolveExit(code);
    });
  });
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  return {
    pid: child.pid!,
    child,
    logPath: options.logPath,
    exited,
    waitForLog(text, timeoutMs) {
      if (lines.some((l) => l.includes(text))) return Promise.resolve();
      return new Promise<void>((resolveWait, reject) => {
        const timer = setTimeout(() => reject(new Error(`collector did not log "${text}" within ${timeoutMs} ms (see ${options.logPath})`)), timeoutMs);
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolveWait();
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`collector exited (code ${String(exitCode)}) before logging "${text}" (see ${options.logPath})`));
        });
      });
    },
    countLog(text) {
      return lines.filter((l) => l.includes(text)).length;
    },
    async stop(graceMs = 30_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Share of all CPUs that was busy over `ms` (from /proc/stat), %. */
export async function systemBusyPct(ms: number): Promise<number> {
  const read = () => {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (line[3] ?? 0) + (line[4] ?? 0);
    const total = line.reduce((a, b) => a + b, 0);
    return { idle, total };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  const total = b.total - a.total;
  return total > 0 ? (100 * (total - (b.idle - a.idle))) / total : 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
