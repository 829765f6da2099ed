/**
 * The background WAL checkpoint on a real SQLite file: the writer stops checkpointing itself, the
 * worker copies the WAL back, and a failure hands checkpointing back to the writer.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database';
import { AUTO_CHECKPOINT_PAGES, BACKSTOP_PAGES, WalCheckpointer } from './wal-checkpointer';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('background WAL checkpoints (SQLite)', () => {
  const dirs: string[] = [];
  const open: Database[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const fresh = (options: Parameters<typeof openDatabase>[1]) => {
    const dir = mkdtempSync(join(tmpdir(), 'cm-wal-'));
    dirs.push(dir);
    const file = join(dir, 'db.sqlite');
    const database = openDatabase(`sqlite:${file}`, options);
    open.push(database);
    return { database, file, sqlite: database.sqlite! };
  };

  it('the writer only checkpoints past the backstop; the worker copies the WAL back into the database file', async () => {
    const { sqlite, file } = fresh({ sqliteCheckpoint: 'background', sqliteCheckpointIntervalMs: 20 });
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(BACKSTOP_PAGES);
    sqlite.exec('create table t (id integer primary key, body text)');
    const insert = sqlite.prepare('insert into t (body) values (?)');
    const sizeBefore = statSync(file).size;
    // Well over SQLite's default auto-checkpoint threshold, but under the backstop, in many commits.
    for (let i = 0; i < 300; i++) sqlite.transaction(() => { for (let k = 0; k < 20; k++) insert.run('x'.repeat(1000)); })();
    const deadline = Date.now() + 10_000;
    while (statSync(file).size <= sizeBefore + 5_000_000) {
      if (Date.now() > deadline) throw new Error(`the database file did not grow: ${statSync(file).size} bytes`);
      await sleep(20);
    }
    // Only a checkpoint writes pages into the database file, and the WAL is under the writer's backstop: the worker did it.
    expect(existsSync(`${file}-wal`)).toBe(true);
  });

  it('the WAL stays bounded while the writer commits back to back', async () => {
    const { sqlite, file } = fresh({ sqliteCheckpoint: 'background', sqliteCheckpointIntervalMs: 20 });
    sqlite.exec('create table t (id integer primary key, body text)');
    const insert = sqlite.prepare('insert into t (body) values (?)');
    let peak = 0;
    // 160 MiB in 1 MiB commits with no pause: more than twice the backstop.
    for (let i = 0; i < 160; i++) {
      sqlite.transaction(() => { for (let k = 0; k < 1024; k++) insert.run('y'.repeat(1024)); })();
      peak = Math.max(peak, statSync(`${file}-wal`).size);
    }
    expect(peak).toBeLessThan((BACKSTOP_PAGES * 4096 + 8 * 1024 * 1024) * 1.1);
  });

  it('auto (the default) leaves checkpoints to SQLite', () => {
    const { sqlite } = fresh({});
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTO_CHECKPOINT_PAGES);
  });

  it('a worker that fails hands checkpointing back to the writer, and says so', async () => {
    const { sqlite } = fresh({});
    const failures: string[] = [];
    // The worker opens the database with fileMustExist: a missing file makes it fail at once.
    const checkpointer = new WalCheckpointer(sqlite, join(dirs[0]!, 'missing.sqlite'), { intervalMs: 20, synchronous: 'FULL', onFailure: (m) => failures.push(m) });
    checkpointer.start();
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(BACKSTOP_PAGES);
    const deadline = Date.now() + 10_000;
    while (failures.length === 0) {
      if (Date.now() > deadline) throw new Error('the worker never reported its failure');
      await sleep(10);
    }
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/WAL checkpoint thread (crashed|exited).*the writer checkpoints the WAL itself/);
    expect(checkpointer.running).toBe(false);
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTO_CHECKPOINT_PAGES);
    await checkpointer.stop();
  });
});
