/**
 * The collector's command line, as an operator runs it (built output in dist/).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../libs/state/src';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/test-databases';
import { successfulTask, T0 } from '../support/event-factory';

const run = promisify(execFile);
const MAIN = resolve(__dirname, '../../dist/apps/collector/main.js');

async function collector(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
});

describe('collector CLI', () => {
  let db: TestDatabase | null = null;
  afterEach(async () => {
    await db?.drop();
    db = null;
  });

  it('prints every setting with --help', async () => {
    const { code, stdout } = await collector(['--help']);
    expect(code).toBe(0);
    for (const name of ['CM_BROKERS', 'CM_DATABASE_URL', 'CM_AMQP_QUEUE', 'CM_HEARTBEAT_EXPIRY_FACTOR', 'rebuild', 'migrate']) expect(stdout).toContain(name);
  });

  it('refuses bad settings with exit code 2, naming each one', async () => {
    const { code, stderr } = await collector(['migrate'], { CM_HTTP_PORT: 'x', CM_BROKERS: 'q=kafka://h:1' });
    expect(code).toBe(2);
    expect(stderr).toContain('CM_HTTP_PORT / --http-port must be an integer from 0 to 65535, got "x"');
    expect(stderr).toContain('unsupported scheme "kafka"');
  });

  it('refuses to rebuild a SQLite file that does not exist (a mistyped path), creating nothing', async () => {
    const missing = `/tmp/cm-no-such-db-${process.pid}-${Date.now()}.db`;
    const { code, stderr } = await collector(['rebuild', '--database', `sqlite:${missing}`]);
    expect(code).toBe(2);
    expect(stderr).toContain(`rebuild: no database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  it.each(DIALECTS)('refuses to rebuild a %s database without an event log (a mistyped schema), creating no tables', async (dialect) => {
    db = createTestDatabase(dialect);
    // The database exists (an empty SQLite file; a Postgres schema nobody migrated) but holds no log.
    await (await EventStore.open(db.url, { migrate: false })).close();
    const { code, stderr } = await collector(['rebuild'], { CM_DATABASE_URL: db.url });
    expect(code).toBe(2);
    expect(stderr).toMatch(/rebuild: no event log in .*point it at the collector's database/);
    const store = await EventStore.open(db.url, { migrate: false });
    try {
      expect(await store.hasEventLog()).toBe(false);
    } finally {
      await store.close();
    }
  });

  it.each(DIALECTS)('migrates a fresh %s database, then finds it up to date', async (dialect) => {
    db = createTestDatabase(dialect);
    const first = await collector(['migrate'], { CM_DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/"applied":\["0001_initial"[^\]]*\].*migrations applied/);
    const second = await collector(['migrate', '--database', db.url]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('database already up to date');
  });

  it.each(DIALECTS)('rebuilds %s projections from the log, reporting progress', async (dialect) => {
    db = createTestDatabase(dialect);
    const store = await EventStore.open(db.url);
    for (let i = 0; i < 30; i += 1) await store.append({ events: successfulTask(`cli-${i}`, T0 + i), rejected: [] });
    const before = { tasks: await store.allTasks(), workers: await store.allWorkers() };
    // Damage the projection: the rebuild must restore it from the log alone.
    await store.database.db.deleteFrom('tasks').where('uuid', '<', 'cli-2').execute();
    await store.database.db.updateTable('workers').set({ status: 'offline', task_counts: '{}' }).execute();
    await store.close();

    const { code, stdout } = await collector(['rebuild'], { CM_DATABASE_URL: db.url });
    expect(code).toBe(0);
    expect(stdout).toContain('"percent":100');
    expect(stdout).toMatch(/"events":120.*projections rebuilt from the event log/);

    const reopened = await EventStore.open(db.url);
    try {
      expect(await reopened.allTasks()).toEqual(before.tasks);
      expect(await reopened.allWorkers()).toEqual(before.workers);
    } finally {
      await reopened.close();
    }
  });
});
