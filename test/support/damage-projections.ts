/**
 * Damages the projections of a store (never the log), so that a rebuild test proves the rebuild
 * restored them from the log: comparing with a snapshot taken before a rebuild that did nothing
 * would pass too.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../libs/state/src/schema';

export async function damageProjections(db: Kysely<DB>): Promise<void> {
  const uuids = (await db.selectFrom('tasks').select('uuid').orderBy('uuid').execute()).map((r) => r.uuid);
  if (uuids.length === 0) throw new Error('damageProjections: no task rows to damage (the test would prove nothing)');
  const half = uuids.slice(0, Math.ceil(uuids.length / 2));
  if (half.length > 0) await db.deleteFrom('tasks').where('uuid', 'in', half).execute();
  await db.updateTable('tasks').set({ state: 'DAMAGED', event_count: 0, merge_meta: '{}', event_positions: '', args: 'damaged' }).execute();
  await db.updateTable('workers').set({ status: 'damaged', task_counts: '{}', processed: -1, merge_meta: '{}' }).execute();
  await db.deleteFrom('projection_checkpoints').execute();
}
