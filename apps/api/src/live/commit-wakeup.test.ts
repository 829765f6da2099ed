/**
 * The live tail on Postgres with the collector's commit notifications: with a polling interval no
 * test run reaches, every page still arrives, because each commit wakes the tail; a commit
 * announced while a poll runs is read by the next poll at once; SQLite has no listener.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStore, LiveQueries, openDatabase, type CommitListener, type Database, type LiveBatch, type LiveBatchOptions, type LiveReadNeeds } from '../../../../libs/state/src';
import { createLogger } from '../../../../libs/logging/src/logger';
import { heartbeat, T0 } from '../../../../test/support/event-factory';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-databases';
import { waitFor } from '../../../../test/support/wait-for';
import { listenForCommits } from './commit-wakeup';
import { LogTailer, type TailPage } from './log-tailer';

/** Real reads; a poll can be held open by the test to announce a commit in the middle of it. */
class HeldQueries extends LiveQueries {
  /** A poll has read and waits for releaseHeld() before handing its page out. */
  waiting = false;
  private hold: Promise<void> | null = null;
  private release: (() => void) | null = null;
  holdNext(): void {
    this.hold = new Promise((resolve) => (this.release = resolve));
  }
  releaseHeld(): void {
    this.release?.();
    this.hold = null;
  }
  override async batch(after: number, limit: number, needs: LiveReadNeeds, options?: LiveBatchOptions): Promise<LiveBatch> {
    const result = await super.batch(after, limit, needs, options);
    if (this.hold) {
      this.waiting = true;
      await this.hold;
      this.waiting = false;
    }
    return result;
  }
}

const NEVER_MS = 60_000;

describe('live tail woken by commit notifications (Postgres)', () => {
  let testDb: TestDatabase;
  let store: EventStore;
  let reader: Database;
  let queries: HeldQueries;
  let tailer: LogTailer;
  let listener: CommitListener | null;
  let pages: TailPage[];

  beforeEach(async () => {
    testDb = createTestDatabase('postgres');
    store = await EventStore.open(testDb.url);
    reader = openDatabase(testDb.url);
    queries = new HeldQueries(reader);
    tailer = new LogTailer(queries, { intervalMs: NEVER_MS, notifiedIntervalMs: NEVER_MS });
    pages = [];
    await tailer.start();
    tailer.add({ needs: { tasks: false, workers: false }, offer: (page) => pages.push(page) });
    listener = listenForCommits(reader, tailer, createLogger('silent', 'api'));
    listener!.start();
    await waitFor(() => listener!.listening || undefined, { timeoutMs: 10_000, description: 'LISTEN in place' });
  });

  afterEach(async () => {
    await listener?.stop();
    await tailer.stop();
    await reader.close();
    await store.close();
    await testDb.drop();
  });

  const positions = () => pages.flatMap((p) => p.events.map((e) => e.position));

  it('hands out each commit at once, although the next poll is a minute away', async () => {
    for (let i = 0; i < 3; i++) {
      const { stored } = await store.append({ events: [heartbeat('celery@a', T0 + i, i + 1)], rejected: [] });
      await waitFor(() => positions().includes(stored[0]!.position) || undefined, { timeoutMs: 10_000, description: `commit ${i + 1} handed out` });
    }
    expect(positions()).toHaveLength(3);
  });

  it('polls again at once for a commit announced while a poll was running', async () => {
    const first = await store.append({ events: [heartbeat('celery@a', T0, 1)], rejected: [] });
    await waitFor(() => positions().length === 1 || undefined, { timeoutMs: 10_000, description: 'the first commit handed out' });

    queries.holdNext();
    tailer.logGrew(); // a poll starts, reads nothing new, and is held
    await waitFor(() => queries.waiting || undefined, { timeoutMs: 10_000, description: 'the held poll' });
    const second = await store.append({ events: [heartbeat('celery@a', T0 + 1, 2)], rejected: [] });
    await new Promise((resolve) => setTimeout(resolve, 100)); // its notification arrives during the held poll
    queries.releaseHeld();
    await waitFor(() => positions().includes(second.stored[0]!.position) || undefined, { timeoutMs: 10_000, description: 'the second commit handed out' });
    expect(positions()).toEqual([first.stored[0]!.position, second.stored[0]!.position]);
  });
});

describe('live tail on SQLite', () => {
  it('has no commit listener: it polls', async () => {
    const testDb = createTestDatabase('sqlite');
    const database = openDatabase(testDb.url);
    try {
      const tailer = new LogTailer(new LiveQueries(database), { intervalMs: 10 });
      expect(listenForCommits(database, tailer, createLogger('silent', 'api'))).toBeNull();
    } finally {
      await database.close();
      await testDb.drop();
    }
  });
});
