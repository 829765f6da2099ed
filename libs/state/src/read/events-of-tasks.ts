/**
 * Every stored event that carries one of some task uuids, as a subquery the caller filters and
 * orders like the `events` table itself.
 *
 * The log has no index by uuid (migration 0006): a task event is found through its task's row,
 * whose `event_positions` lists it, then by primary key; an event with a uuid that is not a task
 * event (no row takes it) through the small partial index `events_uuid_not_task`, whose predicate
 * the second branch repeats word for word so that both databases use it. The two branches never
 * hold the same event.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect';
import type { DB } from '../schema';

/** `substr(type, 1, 5) <> 'task-'`, exactly as the partial index's predicate spells it. */
const NOT_TASK_EVENT = sql<boolean>`substr(type, 1, 5) <> 'task-'`;

/** The events of `uuids` (not empty), a subquery to select from `as('events')`. */
export function eventsOfTasks(db: Kysely<DB>, uuids: readonly string[]) {
  if (uuids.length === 0) throw new Error('eventsOfTasks: no uuids');
  const list = sql.join(uuids);
  const positions =
    dialectOf(db as Kysely<unknown>) === 'postgres'
      ? sql<number>`(select unnest(string_to_array(t.event_positions, ','))::bigint from tasks t where t.uuid in (${list}))`
      : sql<number>`(select j.value from tasks t, json_each('[' || t.event_positions || ']') j where t.uuid in (${list}))`;
  return db
    .selectFrom('events')
    .selectAll()
    .where('position', 'in', positions)
    .unionAll(db.selectFrom('events').selectAll().where('uuid', 'in', [...uuids]).where(NOT_TASK_EVENT));
}

/** Where to select events from: the whole log, or only the events of `uuid` when one is given. */
export function eventsSource(db: Kysely<DB>, uuid: string | undefined) {
  return uuid === undefined ? db.selectFrom('events') : db.selectFrom(eventsOfTasks(db, [uuid]).as('events'));
}
