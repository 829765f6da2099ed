/**
 * The SQLite event store run in a worker thread, against real SQLite files: it writes exactly what
 * the in-thread EventStore writes, keeps the order of requests, carries errors across with their
 * message, and survives the loss of its thread. (Runs the compiled thread entry: `npm test` builds
 * first.)
 */
import BetterSqlite3 from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStore } from '../event-store';
import type { NewEvent, NewRejection } from '../new-event';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-databases';
import { event, heartbeat, successfulTask, T0 } from '../../../../test/support/event-factory';
import { ThreadedEventWriter } from './threaded-event-writer';

const rejection: NewRejection = {
  source: 'rabbitmq', reason: 'not-utf8', detail: 'body is not valid UTF-8', routing_key: 'task.multi', content_type: 'application/json',
  raw: Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]), raw_size: 5, received_at: T0,
};

function workload(): NewEvent[][] {
  const batches: NewEvent[][] = [];
  for (let i = 0; i < 20; i += 1) {
    batches.push([...successfulTask(`tw-${i}`, T0 + i, `celery@w${i % 3}`), heartbeat(`celery@w${i % 3}`, T0 + i + 0.5, 100 + i)]);
  }
  return batches;
}

async function tables(url: string): Promise<unknown> {
  const store = await EventStore.open(url);
  try {
    const events = (await store.readEvents(0, 10_000)).map(({ position: _p, ...rest }) => rest);
    const rejected = await store.database.db.selectFrom('rejected_messages').select(['reason', 'detail', 'raw', 'raw_size']).execute();
    return { events, tasks: await store.allTasks(), workers: await store.allWorkers(), rejected: rejected.map((r) => ({ ...r, raw: Buffer.from(r.raw).toString('hex') })) };
  } finally {
    await store.close();
  }
}

describe('ThreadedEventWriter', () => {
  let db: TestDatabase;
  let writer: ThreadedEventWriter | null;

  beforeEach(() => {
    db = createTestDatabase('sqlite');
    writer = null;
  });

  afterEach(async () => {
    await writer?.close();
    await db.drop();
  });

  it('writes the same log, tasks, workers and rejected bytes as the EventStore in this thread', async () => {
    const inline = createTestDatabase('sqlite');
    try {
      const store = await EventStore.open(inline.url);
      writer = await ThreadedEventWriter.open(db.url);
      expect(writer.description).toBe(store.description.replace(inline.url.slice('sqlite:'.length), db.url.slice('sqlite:'.length)));
      for (const batch of workload()) {
        const [a, b] = [await store.append({ events: batch, rejected: [] }), await writer.append({ events: batch, rejected: [] })];
        expect(b.stored.map((e) => e.dedup_key)).toEqual(a.stored.map((e) => e.dedup_key));
        expect(b.stored.map((e) => e.position)).toEqual(a.stored.map((e) => e.position));
      }
      await store.append({ events: [], rejected: [rejection] });
      expect(await writer.append({ events: [], rejected: [rejection] })).toEqual({ stored: [], duplicates: 0, rejectedNew: [0] });
      await store.close();
      await writer.close();
      writer = null;
      const [expected, actual] = [await tables(inline.url), await tables(db.url)];
      expect(actual).toEqual(expected);
      expect(JSON.stringify(actual)).toContain('7bfffe007d');
    } finally {
      await inline.drop();
    }
  });

  it('answers a receipt without payloads, and counts duplicates', async () => {
    writer = await ThreadedEventWriter.open(db.url);
    const events = successfulTask('tw-receipt', T0);
    const first = await writer.append({ events, rejected: [] });
    expect(first.duplicates).toBe(0);
    expect(first.stored).toHaveLength(4);
    expect(Object.keys(first.stored[0]!).sort()).toEqual(['dedup_key', 'position', 'source', 'timestamp', 'type']);
    const again = await writer.append({ events, rejected: [] });
    expect(again).toEqual({ stored: [], duplicates: 4, rejectedNew: [] });
  });

  it('serves requests in the order they were made, without waiting between them', async () => {
    writer = await ThreadedEventWriter.open(db.url);
    const batches = workload();
    const receipts = await Promise.all(batches.map((events) => writer!.append({ events, rejected: [] })));
    const positions = receipts.flatMap((r) => r.stored.map((e) => e.position));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(receipts.map((r) => r.stored[0]!.dedup_key)).toEqual(batches.map((b) => b[0]!.dedup_key));
  });

  it('answers the reads the collector needs', async () => {
    writer = await ThreadedEventWriter.open(db.url);
    await writer.append({ events: [heartbeat('celery@quiet', T0, 1)], rejected: [] });
    await writer.probeWritable();
    expect(await writer.sourceCheckpoint('rabbitmq')).toMatchObject({ source: 'rabbitmq', last_received_at: T0 + 0.01 });
    expect(await writer.sourceCheckpoint('nowhere')).toBeUndefined();
    expect((await writer.expiredWorkers(T0 + 60)).map((w) => w.hostname)).toEqual(['celery@quiet']);
    expect(await writer.expiredWorkers(T0 + 1)).toEqual([]);
    expect(await writer.sizeBytes()).toBeGreaterThan(0);
  });

  it('tells the database size at once while the thread waits for a write lock held elsewhere', async () => {
    writer = await ThreadedEventWriter.open(db.url);
    await writer.append({ events: [heartbeat('celery@sized', T0, 1)], rejected: [] });
    const path = db.url.slice('sqlite:'.length);
    const locker = new BetterSqlite3(path);
    try {
      locker.exec('begin immediate');
      const waiting = writer.append({ events: [heartbeat('celery@sized', T0 + 2, 2)], rejected: [] }); // waits out the busy timeout
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      const size = await writer.sizeBytes();
      expect(Date.now() - started).toBeLessThan(500);
      expect(size).toBe(statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0));
      expect(size).toBeGreaterThan(0);
      locker.exec('rollback');
      await waiting;
    } finally {
      locker.close();
    }
  });

  it('fails a request with the database error message, and goes on', async () => {
    writer = await ThreadedEventWriter.open(db.url);
    const broken = { ...event({ type: 'worker-heartbeat', timestamp: T0 }), hostname: null as unknown as string };
    await expect(writer.append({ events: [broken], rejected: [] })).rejects.toThrow(/NOT NULL constraint failed: events\.hostname/);
    const ok = await writer.append({ events: successfulTask('tw-after-error', T0), rejected: [] });
    expect(ok.stored).toHaveLength(4);
  });

  it('fails requests in flight when its thread dies, and starts a new one for the next', async () => {
    const exits: string[] = [];
    writer = await ThreadedEventWriter.open(db.url, { onThreadExit: (message) => exits.push(message) });
    await writer.append({ events: successfulTask('tw-before', T0), rejected: [] });
    const inFlight = writer.append({ events: successfulTask('tw-lost', T0 + 1), rejected: [] });
    await writer.terminateThread();
    await expect(inFlight).rejects.toThrow(/SQLite writer thread .* stopped/);
    expect(exits).toHaveLength(1);
    // The batch was not acknowledged: the pipeline retries it, on a new thread.
    const retried = await writer.append({ events: successfulTask('tw-lost', T0 + 1), rejected: [] });
    const replayed = (await writer.append({ events: successfulTask('tw-before', T0), rejected: [] })).duplicates;
    expect(replayed).toBe(4);
    expect(retried.stored.length + retried.duplicates).toBe(4);
    await writer.close();
    writer = null;
    const { tasks } = (await tables(db.url)) as { tasks: Array<{ uuid: string; state: string }> };
    expect(tasks.map((t) => [t.uuid, t.state])).toEqual([['tw-before', 'SUCCESS'], ['tw-lost', 'SUCCESS']]);
  });

  it('keeps a process with nothing else to do alive until close() has finished', async () => {
    // A script whose only handle is the writer: the code after close() must still run.
    const entry = resolve(__dirname, '../../../../dist/libs/state/src/sqlite/threaded-event-writer.js');
    const script = `
      const { ThreadedEventWriter } = require(${JSON.stringify(entry)});
      (async () => {
        const writer = await ThreadedEventWriter.open(${JSON.stringify(db.url)});
        await writer.append({ events: [], rejected: [] });
        await writer.close();
        process.stdout.write('closed cleanly');
      })();`;
    for (let run = 0; run < 5; run += 1) {
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 30_000 });
      expect(stdout).toBe('closed cleanly');
    }
  });

  it('refuses requests once closed', async () => {
    writer = await ThreadedEventWriter.open(db.url);
    await writer.close();
    await expect(writer.probeWritable()).rejects.toThrow(/is closed/);
  });

  it('rejects opening with the reason when the database cannot be opened', async () => {
    // A path through a regular file: no directory can be made there, whoever runs the test.
    const file = join(dirname(db.url.slice('sqlite:'.length)), 'plain-file');
    writeFileSync(file, 'not a directory');
    await expect(ThreadedEventWriter.open(`sqlite:${file}/x.db`)).rejects.toThrow(/(EEXIST|ENOTDIR).*plain-file/);
    await expect(ThreadedEventWriter.open('postgres://127.0.0.1/test')).rejects.toThrow(/SQLite databases only/);
  });
});
