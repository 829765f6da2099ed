/**
 * `npm start`: runs the collector and the API side by side on the same database (the README's
 * start command). The API starts once the collector answers /healthz (its migrations are done);
 * SIGTERM/SIGINT stop both gracefully; if either exits, the other is stopped too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { resolveStartSettings, StartSettingsError, type StartSettings } from './src/start-settings';

const args = process.argv.slice(2);
/** Null: the collector's configuration is invalid (or --help): the collector says so and exits. */
let settings: StartSettings | null;
try {
  settings = resolveStartSettings(args, process.env);
} catch (error) {
  if (!(error instanceof StartSettingsError)) throw error;
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'celery-monitor', msg: error.message })}\n`);
  process.exit(2);
}
const children: ChildProcess[] = [];
let stopping = false;

function start(name: string, script: string): ChildProcess {
  const child = spawn(process.execPath, [resolve(__dirname, script), ...(name === 'collector' ? args : [])], {
    stdio: 'inherit',
    env: { ...process.env, ...(name === 'api' ? settings?.apiEnv : {}) },
  });
  child.on('exit', (code, signal) => {
    if (!stopping && settings === null) {
      stop(code ?? 1); // it reported its invalid configuration (or printed --help) itself
    } else if (!stopping) {
      process.stderr.write(`${JSON.stringify({ level: 'error', service: 'celery-monitor', msg: `${name} exited (${signal ?? code}); stopping the rest` })}\n`);
      stop(code ?? 1);
    }
  });
  children.push(child);
  return child;
}

function stop(code: number): void {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  let remaining = children.filter((c) => c.exitCode === null).length;
  if (remaining === 0) process.exit(code);
  for (const child of children) child.once('exit', () => --remaining === 0 && process.exit(code));
}

async function waitForCollector(url: string): Promise<void> {
  for (let i = 0; i < 600 && !stopping; i += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the collector did not answer ${url} within 60 s`);
}

process.once('SIGTERM', () => stop(0));
process.once('SIGINT', () => stop(0));
start('collector', '../collector/main.js');
if (settings) waitForCollector(settings.healthUrl).then(
  () => start('api', '../api/main.js'),
  (error: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: String(error) })}\n`);
    stop(1);
  },
);
