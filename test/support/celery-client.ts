/** Drives test/celery/client.py (Celery's own client) to send tasks and control commands. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { CELERY_APP_DIR, CELERY_PYTHON } from './celery-worker';

export const CELERY_CLIENT_SCRIPT = path.join(CELERY_APP_DIR, 'client.py');

export interface TaskSpec {
  /** Task name registered by monitor_test_app: add, fail, flaky, sleep, echo. */
  name: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** Seconds before the task may run (becomes an ETA). */
  countdown?: number;
  /** ISO-8601 ETA. */
  eta?: string;
  /** Seconds from now, or an ISO-8601 date. */
  expires?: number | string;
  /** Queue to route to (default `celery`). */
  queue?: string;
  priority?: number;
  /** Task id to use instead of a random uuid4. */
  id?: string;
}

export interface ClientOptions {
  /** Kill client.py after this long (default 30 s). */
  timeoutMs?: number;
}

/** Runs client.py with one JSON command and returns its parsed JSON output line. */
export function runCeleryClient<T>(brokerUrl: string, command: object, options: ClientOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    execFile(
      CELERY_PYTHON,
      [CELERY_CLIENT_SCRIPT, JSON.stringify(command)],
      {
        cwd: CELERY_APP_DIR,
        env: { ...process.env, CM_TEST_BROKER_URL: brokerUrl, PYTHONDONTWRITEBYTECODE: '1' },
        timeout: options.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const describeRun = `client.py ${JSON.stringify(command)} (broker ${brokerUrl})`;
        if (error) {
          reject(new Error(`${describeRun} failed: ${error.message}\nstderr: ${stderr}\nstdout: ${stdout}`));
          return;
        }
        const lines = stdout.trim().split('\n');
        const last = lines[lines.length - 1] ?? '';
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new Error(`${describeRun} printed no JSON line\nstdout: ${stdout}\nstderr: ${stderr}`));
        }
      },
    );
  });
}

/** Sends the tasks (one connection, in order) and returns their ids in the same order. */
export async function sendTasks(brokerUrl: string, tasks: TaskSpec[], options?: ClientOptions): Promise<string[]> {
  const out = await runCeleryClient<{ ids: string[] }>(brokerUrl, { op: 'send', tasks }, options);
  return out.ids;
}

/** Sends `count` copies of task `name` as fast as Celery can; returns their ids. */
export async function sendBurst(
  brokerUrl: string,
  name: string,
  count: number,
  extra: { args?: unknown[]; kwargs?: Record<string, unknown>; queue?: string } = {},
  options?: ClientOptions,
): Promise<string[]> {
  const out = await runCeleryClient<{ ids: string[] }>(brokerUrl, { op: 'burst', name, count, ...extra }, options);
  return out.ids;
}

/** `app.control.revoke(id, terminate=terminate)`: a broadcast, no reply is awaited. */
export async function revokeTask(
  brokerUrl: string,
  id: string | string[],
  terminate = false,
  signal?: string,
  options?: ClientOptions,
): Promise<void> {
  const command: Record<string, unknown> = { op: 'revoke', id, terminate };
  if (signal !== undefined) command['signal'] = signal;
  await runCeleryClient<{ ok: boolean }>(brokerUrl, command, options);
}
