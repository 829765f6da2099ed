/**
 * Migration 0008: `workers.last_started_at` (newest worker-online counting no running task), `last_idle_at` (newest report of
 * the worker itself with `active` 0) and `last_goodbye_at` (newest worker-offline of the worker
 * itself). Upgrading a database whose workers already have events fills them with exactly what
 * the projection writes; `down` drops them. Both dialects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/test-databases';
import { event, heartbeat, T0 } from '../../../test/support/event-factory';
import type { Database } from './database';
import { EventStore } from './event-store';
import { migratorFor } from './migrate';

async function workerColumns(database: Database): Promise<string[]> {
  const tables = await database.db.introspection.getTables();
  return tables.find((t) => t.name === 'workers' && (database.pgSchema === null || t.schema === database.pgSchema))!.columns.map((c) => c.name);
}

const COLUMNS = ['last_started_at', 'last_idle_at', 'last_goodbye_at'] as const;

async function newColumnsByWorker(database: Database): Promise<Record<string, Array<number | null>>> {
  const rows = await database.db.selectFrom('workers').select(['hostname', ...COLUMNS]).orderBy('hostname').execute();
  return Object.fromEntries(rows.map((r) => [r.hostname, COLUMNS.map((c) => r[c])]));
}

describe.each(DIALECTS)('migration 0008_worker_lost_task_evidence on %s', (dialect) => {
  let db: TestDatabase;

  afterEach(async () => {
    await db.drop();
  });

  it('fills the three columns on upgrade as the projection does, and down drops them', async () => {
    db = createTestDatabase(dialect);
    const store = await EventStore.open(db.url);
    try {
      const online = (hostname: string, t: number, clock: number, active: unknown = 0) => event({ type: 'worker-online', hostname, timestamp: t, clock, freq: 2, active });
      const bye = (hostname: string, t: number, clock: number, active: unknown) => event({ type: 'worker-offline', hostname, timestamp: t, clock, active });
      await store.append({ events: [online('celery@w1', T0, 1), heartbeat('celery@w1', T0 + 2, 2, { active: 1 }), online('celery@w2', T0 + 1, 1, 2)], rejected: [] });
      // w1 restarted (its newest worker-online arrives after a later heartbeat); w3 was never seen
      // starting; w2 idles once, says false and "0" (not counts), and says
      // goodbye while busy; w3 is timed out by the liveness policy (whose payload says active 0).
      await store.append({
        events: [
          heartbeat('celery@w1', T0 + 9, 3, { active: 1 }),
          online('celery@w1', T0 + 5, 1),
          heartbeat('celery@w3', T0 + 3, 7, { active: 3 }),
          event({ type: 'worker-online', hostname: 'celery@w3', timestamp: T0 + 2, clock: 6 }), // no active: a start
          heartbeat('celery@w2', T0 + 4, 2, { active: 0, sw_sys: 'Linux\u0000x' }), // a NUL, kept as sent
          event({ type: 'worker-status', hostname: 'celery@w2', timestamp: T0 + 5, clock: 9, active: 0 }), // not the heart's
          heartbeat('celery@w2', T0 + 6, 3, { active: false }),
          heartbeat('celery@w2', T0 + 7, 4, { active: '0' }),
          bye('celery@w2', T0 + 8, 5, 1),
          event({ type: 'worker-offline', hostname: 'celery@w3', timestamp: T0 + 9, reason: 'heartbeat-timeout', active: 0 }, 'collector:liveness'),
        ],
        rejected: [],
      });
      const database = store.database;
      const projected = await newColumnsByWorker(database);
      expect(projected).toEqual({
        'celery@w1': [T0 + 5, T0 + 5, null],
        'celery@w2': [null, T0 + 4, T0 + 8], // its worker-online counted 2 running tasks: no start
        'celery@w3': [T0 + 2, null, null],
      });

      const { error } = await (await migratorFor(database)).migrateTo('0007_drop_tasks_worker_state');
      expect(error).toBeUndefined();
      for (const column of COLUMNS) expect(await workerColumns(database)).not.toContain(column);

      const { error: again } = await (await migratorFor(database)).migrateToLatest();
      expect(again).toBeUndefined();
      for (const column of COLUMNS) expect(await workerColumns(database)).toContain(column);
      expect(await newColumnsByWorker(database)).toEqual(projected);
    } finally {
      await store.close();
    }
  });
});
