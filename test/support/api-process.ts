/**
 * Starts the built API (dist/apps/api/main.js) for end-to-end tests and talks GraphQL to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from './collector-process';

/** Ports and Prometheus samples, as the collector harness reads them. */
export { freePort, metricValue } from './collector-process';

/** The built API, whether this file runs from the sources (vitest) or from dist/test/support. */
const MAIN = [resolve(__dirname, '../../dist/apps/api/main.js'), resolve(__dirname, '../../apps/api/main.js')].find(
  (file) => file.includes('/dist/') && existsSync(file),
) ?? resolve(__dirname, '../../dist/apps/api/main.js');
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ApiProcess {
  pid: number;
  port: number;
  url: string;
  wsUrl: string;
  output(): string;
  /** POSTs a GraphQL operation; returns the parsed body (data and errors). */
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: GraphQLErrorBody[]; status: number }>;
  metrics(): Promise<string>;
  /** SIGTERM, then SIGKILL after 10 s; resolves with how it ended. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export async function startApi(opts: { databaseUrl: string; env?: Record<string, string>; readyTimeoutMs?: number }): Promise<ApiProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
  const port = await freePort();
  let log = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, CM_DATABASE_URL: opts.databaseUrl, CM_API_PORT: String(port), CM_API_HOST: '127.0.0.1', CM_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => (running.delete(child), r(code))));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode} before it was ready:\n${log}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the API was not ready within ${opts.readyTimeoutMs ?? 30_000} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    output: () => log,
    async graphql(query, variables) {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as { data?: never; errors?: GraphQLErrorBody[] };
      return { ...body, status: res.status };
    },
    async metrics() {
      return (await fetch(`${url}/metrics`)).text();
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return { code: child.exitCode, signal: child.signalCode };
    },
  };
}
