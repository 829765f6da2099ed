/**
 * Migration 0005: tasks_root_received keeps only tasks whose root is another task; a workflow
 * query still finds the root and every descendant, before and after, and `down` restores the
 * index of every rooted task. Both dialects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/test-databases';
import { indexDefinitions } from '../../../test/support/schema-introspection';
import { event, T0 } from '../../../test/support/event-factory';
import type { NewEvent } from './new-event';
import type { Database } from './database';
import { EventStore } from './event-store';
import { migratorFor } from './migrate';
import { TaskQueries } from './read/task-queries';

async function rootIndexDefinition(database: Database): Promise<string> {
  return (await indexDefinitions(database, 'tasks')).get('tasks_root_received')!;
}

/** A root (its own root, as Celery sets it), two children and a grandchild, plus an unrelated task. */
function workflowEvents(): NewEvent[] {
  const task = (uuid: string, t: number, rootId: string, parentId: string | null) => [
    event({ type: 'task-received', hostname: 'celery@w1', uuid, name: 'app.flow', args: '()', kwargs: '{}', root_id: rootId, parent_id: parentId, timestamp: t, clock: 1 }),
    event({ type: 'task-succeeded', hostname: 'celery@w1', uuid, result: 'None', runtime: 0.5, timestamp: t + 0.5, clock: 2 }),
  ];
  return [
    ...task('m5-root', T0, 'm5-root', null),
    ...task('m5-child-1', T0 + 1, 'm5-root', 'm5-root'),
    ...task('m5-child-2', T0 + 2, 'm5-root', 'm5-root'),
    ...task('m5-grandchild', T0 + 3, 'm5-root', 'm5-child-1'),
    ...task('m5-alone', T0 + 4, 'm5-alone', null),
  ];
}

describe.each(DIALECTS)('migration 0005_root_index_children_only on %s', (dialect) => {
  let db: TestDatabase;

  afterEach(async () => {
    await db.drop();
  });

  it('leaves roots out of the index, finds the same workflow, and down puts them back', async () => {
    db = createTestDatabase(dialect);
    const store = await EventStore.open(db.url);
    try {
      await store.append({ events: workflowEvents(), rejected: [] });
      const database = store.database;
      const rows = await database.db.selectFrom('tasks').select(['uuid', 'root_id']).orderBy('uuid').execute();
      expect(rows.find((r) => r.uuid === 'm5-root')?.root_id).toBe('m5-root');
      const workflow = async () =>
        (await new TaskQueries(database.db).list({ filter: { rootId: 'm5-root' }, order: { field: 'received', direction: 'asc' }, first: 10 })).rows.map((r) => r.task.uuid);
      const want = ['m5-root', 'm5-child-1', 'm5-child-2', 'm5-grandchild'];

      expect(await rootIndexDefinition(database)).toMatch(/root_id <> uuid|root_id <> \(?uuid\)?|\(root_id\)::text <> \(uuid\)::text/i);
      expect(await workflow()).toEqual(want);

      const { error } = await (await migratorFor(database)).migrateTo('0004_events_dedup_by_time');
      expect(error).toBeUndefined();
      expect(await rootIndexDefinition(database)).not.toMatch(/<>/);
      const { error: again } = await (await migratorFor(database)).migrateToLatest();
      expect(again).toBeUndefined();
      expect(await workflow()).toEqual(want);
    } finally {
      await store.close();
    }
  });
});
