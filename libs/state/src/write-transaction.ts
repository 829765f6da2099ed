/**
 * The one way to write: a transaction that serialises writers, so that positions become visible
 * in commit order (a reader tailing by position never skips a late-committed event).
 * SQLite: BEGIN IMMEDIATE takes the write lock up front (waiting up to busy_timeout).
 * Postgres: a transaction-scoped advisory lock shared by every collector on the database.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './database';
import type { DB } from './schema';

/** Arbitrary constant naming the event-log append lock in pg_advisory_xact_lock. */
const APPEND_LOCK_KEY = 7_346_100_001;

/**
 * Postgres: how long a write transaction waits for any lock (the append lock included) before it
 * fails with 55P03 and is retried, as SQLite's busy_timeout: a session that holds a table lock, or
 * a rebuild, shows in the logs and in /readyz instead of stalling ingestion without a word.
 */
export const POSTGRES_LOCK_TIMEOUT_MS = 10_000;

export async function withWriteTransaction<T>(database: Database, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (database.dialect === 'postgres') {
    // Kysely rolls back on failure; on a connection the server ended, the rollback fails too and
    // its error would replace the one that tells what happened: keep the first.
    let failure: { error: unknown } | null = null;
    try {
      return await database.db.transaction().execute(async (trx) => {
        try {
          await sql.raw(`set local lock_timeout = ${POSTGRES_LOCK_TIMEOUT_MS}`).execute(trx);
          await sql`select pg_advisory_xact_lock(${APPEND_LOCK_KEY})`.execute(trx);
          return await work(trx);
        } catch (error) {
          failure = { error };
          throw error;
        }
      });
    } catch (error) {
      throw failure === null ? error : (failure as { error: unknown }).error;
    }
  }
  return database.db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
