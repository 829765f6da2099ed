/** Every migration, in order. Applied by `collector migrate` and at collector start-up. */
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial';
import * as m0002 from './0002_api_indexes';
import * as m0003 from './0003_task_name_runtime_index';
import * as m0004 from './0004_events_dedup_by_time';
import * as m0005 from './0005_root_index_children_only';
import * as m0006 from './0006_task_event_positions';
import * as m0007 from './0007_drop_tasks_worker_state';
import * as m0008 from './0008_worker_lost_task_evidence';

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_api_indexes': m0002,
  '0003_task_name_runtime_index': m0003,
  '0004_events_dedup_by_time': m0004,
  '0005_root_index_children_only': m0005,
  '0006_task_event_positions': m0006,
  '0007_drop_tasks_worker_state': m0007,
  '0008_worker_lost_task_evidence': m0008,
};
