/**
 * What to do about a failed commit, from the error's code: SQLite's result codes (better-sqlite3's
 * `SqliteError.code`), Postgres SQLSTATEs (pg's `DatabaseError.code`) and Node's system errors,
 * then, for errors without a code, their message. The collector retries whatever the cause; the
 * hint tells the operator what will end the retries.
 */

const DISK_FULL = 'the database\'s disk is full: free space there or move the database to a larger volume';
const READ_ONLY = 'the database refuses writes (read-only file, directory or mount, or a read-only Postgres server or standby): give the collector a writable one';
const LOCKED =
  'another process holds a lock the collector needs for longer than it waits (10 s): a rebuild, a migration, or a tool with an open write transaction (LOCK TABLE, BEGIN IMMEDIATE); let it finish or end it';
const CONFLICT = 'a conflict with another transaction (deadlock or serialization failure): the retry usually succeeds';
const CONNECTION_LOST = 'the server ended the connection (a restart, a failover, an administrator\'s pg_terminate_backend): the collector reconnects and retries';
const UNREACHABLE = 'the database cannot be reached: check that it is running and that CM_DATABASE_URL names it';
const REFUSED_LOGIN = 'the database refused the collector\'s login: check the user and password in CM_DATABASE_URL';
const NO_DATABASE = 'the Postgres database named in CM_DATABASE_URL does not exist (any more): create it, then restart the collector, which migrates a database at start';
const MISSING_TABLE =
  'a table of the collector is missing (the database was recreated, or a table dropped): restart the collector, which migrates a new database at start; restore a damaged one from a backup';
const DAMAGED = 'the SQLite file is damaged or is not a database: stop the collector and restore the file from a backup';
const IO_ERROR = 'the database\'s disk failed a read or a write: check the volume (dmesg, free space, the mount)';
const OTHER = 'check that the database is reachable and writable';

const HINT_BY_CODE: ReadonlyMap<string, string> = new Map([
  ['SQLITE_FULL', DISK_FULL],
  ['53100', DISK_FULL], // disk_full
  ['ENOSPC', DISK_FULL],
  ['25006', READ_ONLY], // read_only_sql_transaction
  ['EROFS', READ_ONLY],
  ['SQLITE_BUSY', LOCKED],
  ['SQLITE_LOCKED', LOCKED],
  ['55P03', LOCKED], // lock_not_available (lock_timeout)
  ['40P01', CONFLICT], // deadlock_detected
  ['40001', CONFLICT], // serialization_failure
  ['57P01', CONNECTION_LOST], // admin_shutdown
  ['57P02', CONNECTION_LOST], // crash_shutdown
  ['57P03', CONNECTION_LOST], // cannot_connect_now (starting up, shutting down)
  ['ECONNRESET', CONNECTION_LOST],
  ['EPIPE', CONNECTION_LOST],
  ['ECONNREFUSED', UNREACHABLE],
  ['ENOTFOUND', UNREACHABLE],
  ['EAI_AGAIN', UNREACHABLE],
  ['ETIMEDOUT', UNREACHABLE],
  ['EHOSTUNREACH', UNREACHABLE],
  ['28P01', REFUSED_LOGIN], // invalid_password
  ['28000', REFUSED_LOGIN], // invalid_authorization_specification
  ['3D000', NO_DATABASE], // invalid_catalog_name
  ['42P01', MISSING_TABLE], // undefined_table
  ['SQLITE_CORRUPT', DAMAGED],
  ['SQLITE_NOTADB', DAMAGED],
]);

/** Errors whose code says too little (or that have none), by message. */
const HINT_BY_MESSAGE: ReadonlyArray<readonly [RegExp, string]> = [
  [/^no such table: /, MISSING_TABLE], // SQLite's SQLITE_ERROR
  [/^Connection terminated/, CONNECTION_LOST], // node-pg, when the socket closes
  [/^Client has encountered a connection error/, CONNECTION_LOST], // node-pg, a query on a dead client
];

/** The code an error carries (`code` of SqliteError, pg's DatabaseError, Node's system errors), if any. */
function codeOf(error: unknown): string | null {
  if (error === null || typeof error !== 'object') return null;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : null;
}

function hintByCode(code: string): string | null {
  const exact = HINT_BY_CODE.get(code);
  if (exact !== undefined) return exact;
  // SQLite's extended codes: SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT, …
  if (code.startsWith('SQLITE_READONLY')) return READ_ONLY;
  if (code.startsWith('SQLITE_IOERR')) return IO_ERROR;
  if (code.startsWith('SQLITE_BUSY')) return LOCKED;
  if (code.startsWith('SQLITE_CORRUPT')) return DAMAGED;
  if (/^08[0-9A-Z]{3}$/.test(code)) return UNREACHABLE; // Postgres connection_exception class
  return null;
}

/** One sentence: the likely cause of a failed commit and what ends it. */
export function commitFailureHint(error: unknown): string {
  const code = codeOf(error);
  const byCode = code === null ? null : hintByCode(code);
  if (byCode !== null) return byCode;
  const message = error instanceof Error ? error.message : '';
  for (const [pattern, hint] of HINT_BY_MESSAGE) if (pattern.test(message)) return hint;
  return OTHER;
}

/** The error's own message followed by its hint: what /readyz and the pipeline report. */
export function describeFailure(error: unknown): string {
  return `${error instanceof Error ? error.message : String(error)} (${commitFailureHint(error)})`;
}
