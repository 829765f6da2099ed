export * from './event-store';
export type { AppendInput, AppendReceipt, EventWriter, StoredEventReceipt } from './event-writer';
export { ThreadedEventWriter, type ThreadedEventWriterOptions } from './sqlite/threaded-event-writer';
export * from './new-event';
export type { StoredEvent } from './stored-event';
export type { DB } from './schema';
export { openDatabase, redactUrl, DatabaseUrlError, type Database, type DialectName, type ReadPool } from './database';
export { migrateToLatest, MigrationError } from './migrate';
export { CommitListener, commitChannel, type CommitListenerOptions } from './postgres/commit-notifications';
export type { StrandedTask, TaskRecord } from './repositories/task.repository';
export type { WorkerRecord } from './repositories/worker.repository';
export type { SourceCheckpoint } from './repositories/checkpoint.repository';
export { DEFAULT_LIVENESS, PROJECTION_NAME, type LivenessOptions } from './projections/batch-projector';
export { WorkerQueries, type WorkerListQuery } from './read/worker-queries';
export {
  TaskQueries, TASK_ORDER_FIELDS, isTaskOrderField, isTaskSortKey, substringPattern, type ListOptions as TaskListOptions,
  type TaskListQuery, type TaskListFilter, type TaskPage, type TaskSortKey, type TaskNameCount,
  type TaskOrder as TaskSortOrder, type TaskOrderField as TaskSortField, type SortDirection, type TimeBounds, type NumberBounds,
} from './read/task-queries';
export type { PlanChoice as TaskPlanChoice } from './read/task-plan';
export { EventQueries, SCAN_WINDOW, type EventPageQuery, type EventPage } from './read/event-queries';
export { StatsQueries, MAX_STATS_BUCKETS, statsBucketCount, type StatsQuery, type TaskStats, type TaskNameStats, type ThroughputBucket, type PercentileSummary } from './read/stats-queries';
export { LiveQueries, type LiveBatch, type LiveBatchOptions, type LiveReadNeeds, type LogEventFilter, type RowUpdate } from './read/live-queries';
