/**
 * What the collector writes through: append + project in one transaction, and the few reads its
 * policies need. `EventStore` is one (in the caller's thread); `ThreadedEventWriter` runs an
 * EventStore on SQLite in a worker thread, so the collector's event loop keeps reading its brokers
 * while a batch commits.
 */
import type { NewEvent, NewRejection } from './new-event';
import type { StoredEvent } from './stored-event';
import type { SourceCheckpoint } from './repositories/checkpoint.repository';
import type { WorkerRecord } from './repositories/worker.repository';
import type { StrandedTask } from './repositories/task.repository';

export interface AppendInput {
  events: readonly NewEvent[];
  rejected: readonly NewRejection[];
}

/** What a writer says of one stored event: enough for metrics, without the payload. */
export type StoredEventReceipt = Pick<StoredEvent, 'position' | 'dedup_key' | 'source' | 'type' | 'timestamp'>;

export interface AppendReceipt {
  /** Events new to the log, with their positions, in position order. */
  stored: StoredEventReceipt[];
  /** Events already in the log (redelivered or stored by another collector). */
  duplicates: number;
  /** Indexes in the input's `rejected` of the messages new to the rejected table (a redelivered one is kept once). */
  rejectedNew: number[];
}

export interface EventWriter {
  /** Where the data lives, with any password removed: safe to log. */
  readonly description: string;
  /** Appends and projects in one transaction: when it resolves, everything is durable. */
  append(input: AppendInput): Promise<AppendReceipt>;
  /** Proves the database accepts writes: takes and releases the write lock. */
  probeWritable(): Promise<void>;
  sourceCheckpoint(source: string): Promise<SourceCheckpoint | undefined>;
  /** Online workers whose heartbeat expiry has passed at `now`. */
  expiredWorkers(now: number): Promise<WorkerRecord[]>;
  /**
   * Tasks still STARTED on a worker that went offline or reported running no task since
   * (TaskRepository.findStranded), by uuid after `afterUuid` (a page's last), at most `limit`.
   */
  strandedTasks(limit: number, afterUuid?: string | null): Promise<StrandedTask[]>;
  /** Database size on disk (SQLite: file + WAL), bytes. */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
  /**
   * For a forced exit: stops at once, committing nothing more (what was not committed is not
   * acknowledged either). Ends a writer thread, waiting for SQLite to hand it back first: exiting
   * the process while that thread is inside SQLite (waiting out a lock) aborts Node.
   */
  abort?(): Promise<void>;
}
