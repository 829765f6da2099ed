/**
 * The background WAL checkpoint on a real SQLite file: the writer stops checkpointing itself, the
 * worker copies the WAL back, and a failure hands checkpointing back to the writer.
 */
import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../database';
import { AUTO_CHECKPOINT_PAGES, BACKSTOP_PAGES, WalCheckpointer } from './wal-checkpointer';
import { canMountTmpfs, mountTmpfs } from '../../../../test/support/tmpfs';

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
    // Unbounded, the WAL would reach 160 MiB. Past the backstop it overshoots by the commits made
    // while the worker's own checkpoint holds the checkpoint lock (the writer's is skipped as busy):
    // a few MiB on an idle machine, over 25 MiB once on a loaded one.
    expect(peak).toBeLessThan(BACKSTOP_PAGES * 4096 + 40 * 1024 * 1024);
  });

  it('auto (the default) leaves checkpoints to SQLite', () => {
    const { sqlite } = fresh({});
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(AUTO_CHECKPOINT_PAGES);
  });

  it.skipIf(!canMountTmpfs())('a full disk: the worker says so once, keeps trying, and copies the WAL back once there is room', async () => {
    const disk = mountTmpfs(8, 'cm-wal-full-');
    let database: Database | undefined;
    try {
      const file = join(disk.path, 'db.sqlite');
      const failures: string[] = [];
      database = openDatabase(`sqlite:${file}`, { sqliteCheckpoint: 'background', sqliteCheckpointIntervalMs: 20, onCheckpointFailure: (m) => failures.push(m) });
      const sqlite = database.sqlite!;
      sqlite.exec('create table t (id integer primary key, body text)');
      // A reader's snapshot keeps the checkpoints from copying back what is committed after it.
      const reader = new BetterSqlite3(file, { readonly: true });
      reader.exec('begin');
      reader.prepare('select count(*) from t').get();
      const insert = sqlite.prepare('insert into t (body) values (?)');
      sqlite.transaction(() => { for (let k = 0; k < 400; k++) insert.run('z'.repeat(4000)); })(); // 1.6 MB in the WAL
      // Fill the disk: the database file cannot grow to take those pages.
      const filler = join(disk.path, 'filler');
      writeFileSync(filler, Buffer.alloc(disk.freeBytes()));
      reader.exec('commit');
      reader.close();
      const deadline = Date.now() + 10_000;
      while (failures.length === 0) {
        if (Date.now() > deadline) throw new Error('no checkpoint failed on the full disk');
        await sleep(20);
      }
      await sleep(200); // more failed checkpoints: still one message
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatch(/database or disk is full; retrying every 20 ms .*free space/);
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(BACKSTOP_PAGES); // the worker still runs

      rmSync(filler);
      const target = 400 * 4000;
      while (statSync(file).size < target) {
        if (Date.now() > deadline + 10_000) throw new Error(`the WAL was not copied back: database file ${statSync(file).size} bytes`);
        await sleep(20);
      }
      expect(failures).toHaveLength(1);
      expect(sqlite.prepare('select count(*) as n from t').get()).toEqual({ n: 400 });
    } finally {
      await database?.close().catch(() => undefined);
      disk.remove();
    }
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
