/**
 * Commit notifications on the real Postgres: an append that stores events tells listeners of its
 * schema its newest position at commit (nothing for a rolled-back or all-duplicate append, nothing
 * across schemas), and a listener whose connection is killed listens again and says so.
 */
import * as pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { heartbeat, T0 } from '../../../../test/support/event-factory';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-databases';
import { waitFor } from '../../../../test/support/wait-for';
import { EventStore } from '../event-store';
import { CommitListener, commitChannel } from './commit-notifications';

describe('Postgres commit notifications', () => {
  const dbs: TestDatabase[] = [];
  const stores: EventStore[] = [];
  const listeners: CommitListener[] = [];

  const open = async () => {
    const db = createTestDatabase('postgres');
    dbs.push(db);
    const store = await EventStore.open(db.url);
    stores.push(store);
    return store;
  };

  const listen = (store: EventStore) => {
    const seen = { positions: [] as number[], listening: 0, errors: [] as string[] };
    const listener = new CommitListener({
      connectionString: store.database.pgConnectionString!,
      channel: commitChannel(store.database.pgSchema),
      onCommit: (p) => seen.positions.push(p),
      onListening: () => (seen.listening += 1),
      onError: (e) => seen.errors.push(e.message),
      retryInitialMs: 20,
    });
    listeners.push(listener);
    listener.start();
    return { listener, seen };
  };

  beforeEach(() => {
    dbs.length = 0;
    stores.length = 0;
    listeners.length = 0;
  });

  afterEach(async () => {
    for (const l of listeners) await l.stop();
    for (const s of stores) await s.close();
    for (const d of dbs) await d.drop();
  });

  it('tells the newest stored position of each commit, and nothing for duplicates or other schemas', async () => {
    const store = await open();
    const other = await open();
    const { seen } = listen(store);
    await waitFor(() => seen.listening === 1 || undefined, { timeoutMs: 10_000, description: 'LISTEN in place' });

    const first = await store.append({ events: [heartbeat('celery@a', T0, 1), heartbeat('celery@a', T0 + 1, 2)], rejected: [] });
    await waitFor(() => seen.positions.length === 1 || undefined, { timeoutMs: 10_000, description: 'the first notification' });
    expect(seen.positions).toEqual([first.stored[1]!.position]);

    await other.append({ events: [heartbeat('celery@b', T0, 3)], rejected: [] }); // another schema: not ours
    expect((await store.append({ events: [heartbeat('celery@a', T0, 1)], rejected: [] })).stored).toEqual([]); // a duplicate
    const last = await store.append({ events: [heartbeat('celery@a', T0 + 2, 5)], rejected: [] });
    await waitFor(() => seen.positions.length >= 2 || undefined, { timeoutMs: 10_000, description: 'the last notification' });
    expect(seen.positions).toEqual([first.stored[1]!.position, last.stored[0]!.position]);
  });

  it('listens again after its connection is killed, and says so', async () => {
    const store = await open();
    const { listener, seen } = listen(store);
    await waitFor(() => seen.listening === 1 || undefined, { timeoutMs: 10_000, description: 'LISTEN in place' });
    expect(listener.listening).toBe(true);

    const admin = new pg.Client({ connectionString: store.database.pgConnectionString! });
    await admin.connect();
    try {
      const channel = commitChannel(store.database.pgSchema);
      const killed = await admin.query(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity
         where pid <> pg_backend_pid() and query = $1`,
        [`LISTEN ${pg.escapeIdentifier(channel)}`],
      );
      expect(killed.rows).toEqual([{ ok: true }]);
    } finally {
      await admin.end();
    }
    await waitFor(() => seen.listening === 2 || undefined, { timeoutMs: 10_000, description: 'LISTEN again after the kill' });
    expect(seen.errors.length).toBeGreaterThanOrEqual(1);

    const after = await store.append({ events: [heartbeat('celery@a', T0 + 5, 6)], rejected: [] });
    await waitFor(() => seen.positions.includes(after.stored[0]!.position) || undefined, { timeoutMs: 10_000, description: 'a notification after the reconnect' });
  });
});
