/**
 * Starts the built API (dist/apps/api/main.js) for the API benchmark and exposes its pid (for
 * /proc readings). test/support/api-process.ts's startApi is made for vitest from sources: from
 * dist/ it looks for dist/dist/apps/api/main.js, and it does not expose the pid.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../support/api-process';

export interface BenchApi {
  pid: number;
  url: string;
  wsUrl: string;
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string }[] }>;
  stop(): Promise<void>;
}

export async function startBenchApi(repoRoot: string, databaseUrl: string, logPath: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<BenchApi> {
  const main = resolve(repoRoot, 'dist/apps/api/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
  const port = await freePort();
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [...nodeArgs, main], {
    cwd: repoRoot,
    env: { ...process.env, CM_DATABASE_URL: databaseUrl, CM_API_PORT: String(port), CM_API_HOST: '127.0.0.1', CM_LOG_LEVEL: process.env.CM_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode} before it was ready (see ${logPath})`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the API was not ready within 60 s (see ${logPath})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    async graphql(query, variables) {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      return (await res.json()) as { data?: never; errors?: { message: string }[] };
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      process.removeListener('exit', kill);
    },
  };
}
