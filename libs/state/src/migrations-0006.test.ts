/**
 * Migration 0006: a task's events are listed in its row (`event_positions`), the log's uuid index
 * is replaced by a partial one for events that are not task events. Upgrading a database that has
 * tasks fills the column with exactly what the projection writes; `down` restores the old index.
 * Both dialects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/test-databases';
import { indexDefinitions } from '../../../test/support/schema-introspection';
import { event, heartbeat, successfulTask, T0 } from '../../../test/support/event-factory';
import type { Database } from './database';
import { EventStore } from './event-store';
import { migratorFor } from './migrate';
import { TaskQueries } from './read/task-queries';

async function eventIndexes(database: Database): Promise<string[]> {
  return [...(await indexDefinitions(database, 'events')).keys()];
}

async function positionsByTask(database: Database): Promise<Record<string, string>> {
  const rows = await database.db.selectFrom('tasks').select(['uuid', 'event_positions']).orderBy('uuid').execute();
  return Object.fromEntries(rows.map((r) => [r.uuid, r.event_positions]));
}

describe.each(DIALECTS)('migration 0006_task_event_positions on %s', (dialect) => {
  let db: TestDatabase;

  afterEach(async () => {
    await db.drop();
  });

  it('fills event_positions on upgrade as the projection does, keeps timelines whole, and down restores the uuid index', async () => {
    db = createTestDatabase(dialect);
    const store = await EventStore.open(db.url);
    try {
      const a = successfulTask('m6-a', T0);
      const b = successfulTask('m6-b', T0 + 1, 'celery@w2');
      // Interleaved over three transactions, with a heartbeat and a custom event naming m6-a.
      await store.append({ events: [a[0]!, b[0]!, heartbeat('celery@w1', T0 + 1.5, 9)], rejected: [] });
      await store.append({ events: [a[1]!, b[1]!, a[2]!], rejected: [] });
      await store.append({ events: [event({ type: 'app-progress', uuid: 'm6-a', timestamp: T0 + 2, clock: 7 }), b[2]!, b[3]!, a[3]!], rejected: [] });

      const database = store.database;
      const log = await store.readEvents(0, 100);
      const taskEventPositions = (uuid: string) => log.filter((e) => e.uuid === uuid && e.type.startsWith('task-')).map((e) => e.position).join(',');
      const projected = await positionsByTask(database);
      expect(projected).toEqual({ 'm6-a': taskEventPositions('m6-a'), 'm6-b': taskEventPositions('m6-b') });
      expect(await eventIndexes(database)).toEqual(['events_dedup', 'events_hostname_position', 'events_uuid_not_task']);
      const timeline = async () => (await new TaskQueries(database.db).eventsOf(['m6-a'])).map((e) => e.type);
      const wantTimeline = log.filter((e) => e.uuid === 'm6-a').map((e) => e.type);
      expect(wantTimeline).toContain('app-progress');
      expect(await timeline()).toEqual(wantTimeline);

      const { error } = await (await migratorFor(database)).migrateTo('0005_root_index_children_only');
      expect(error).toBeUndefined();
      expect(await eventIndexes(database)).toEqual(['events_dedup', 'events_hostname_position', 'events_uuid_position']);
      const columns = await database.db.introspection.getTables();
      expect(columns.find((t) => t.name === 'tasks' && (database.pgSchema === null || t.schema === database.pgSchema))!.columns.map((c) => c.name)).not.toContain('event_positions');

      const { error: again } = await (await migratorFor(database)).migrateToLatest();
      expect(again).toBeUndefined();
      expect(await positionsByTask(database)).toEqual(projected);
      expect(await eventIndexes(database)).toEqual(['events_dedup', 'events_hostname_position', 'events_uuid_not_task']);
      expect(await timeline()).toEqual(wantTimeline);

      // And the projection goes on from the backfilled value.
      await store.append({ events: [event({ type: 'task-retried', uuid: 'm6-b', hostname: 'celery@w2', timestamp: T0 + 9, clock: 20 })], rejected: [] });
      const last = (await store.readEvents(0, 100)).at(-1)!;
      expect((await positionsByTask(database))['m6-b']).toBe(`${taskEventPositions('m6-b')},${last.position}`);
    } finally {
      await store.close();
    }
  });
});
