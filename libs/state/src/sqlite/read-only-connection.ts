/** A second connection to a SQLite file that only reads (long scans, reader threads). */
import BetterSqlite3 from 'better-sqlite3';

export function openReadOnlyConnection(path: string, busyTimeoutMs = 10_000): BetterSqlite3.Database {
  const connection = new BetterSqlite3(path, { fileMustExist: true });
  connection.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  connection.pragma('query_only = ON');
  return connection;
}
