/**
 * Postgres: wakes the log tail on the collector's commit notifications (NOTIFY, see
 * CommitListener), so live subscribers get events without waiting for the next poll, and polls
 * become a safety net. SQLite has no notifications: the tail polls (null here).
 */
import { CommitListener, commitChannel, type Database } from '../../../../libs/state/src';
import type { AppLogger } from '../../../../libs/logging/src/logger';
import type { LogTailer } from './log-tailer';

/** A listener that wakes `tailer` (not started: the caller starts and stops it), or null on SQLite. */
export function listenForCommits(database: Database, tailer: LogTailer, logger: AppLogger): CommitListener | null {
  if (database.pgConnectionString === null) return null;
  return new CommitListener({
    connectionString: database.pgConnectionString,
    channel: commitChannel(database.pgSchema),
    onCommit: () => tailer.logGrew(),
    onListening: () => tailer.commitNotifications(true),
    onError: (error, retryInMs) => {
      tailer.commitNotifications(false);
      logger.warn(
        { err: error.message, database: database.description, retryInMs },
        'listening for commit notifications failed: the live tail polls every CM_API_TAIL_INTERVAL_MS meanwhile (check the database connection)',
      );
    },
  });
}
