/**
 * What to do about a failed commit, from the error's code: SQLite's result codes (better-sqlite3's
 * `SqliteError.code`), Postgres SQLSTATEs (pg's `DatabaseError.code`) and Node's system errors.
 * The collector retries whatever the cause; the hint tells the operator what will end the retries.
 */

const DISK_FULL = 'the database\'s disk is full: free space there or move the database to a larger volume';
const READ_ONLY = 'the database refuses writes (read-only file, directory or mount, or a read-only Postgres server or standby): give the collector a writable one';
const LOCKED = 'another process holds the database\'s write lock for longer than the busy timeout (a rebuild, or a tool with an open write transaction): let it finish';
const UNREACHABLE = 'the database cannot be reached: check that it is running and that CM_DATABASE_URL names it';
const REFUSED_LOGIN = 'the database refused the collector\'s login: check the user and password in CM_DATABASE_URL';
const NO_DATABASE = 'the Postgres database named in CM_DATABASE_URL does not exist (any more): create it, the collector migrates it';
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
  ['ECONNREFUSED', UNREACHABLE],
  ['ENOTFOUND', UNREACHABLE],
  ['EAI_AGAIN', UNREACHABLE],
  ['ETIMEDOUT', UNREACHABLE],
  ['EHOSTUNREACH', UNREACHABLE],
  ['57P01', UNREACHABLE], // admin_shutdown
  ['57P03', UNREACHABLE], // cannot_connect_now
  ['28P01', REFUSED_LOGIN], // invalid_password
  ['28000', REFUSED_LOGIN], // invalid_authorization_specification
  ['3D000', NO_DATABASE], // invalid_catalog_name
  ['SQLITE_CORRUPT', DAMAGED],
  ['SQLITE_NOTADB', DAMAGED],
]);

/** The code an error carries (`code` of SqliteError, pg's DatabaseError, Node's system errors), if any. */
function codeOf(error: unknown): string | null {
  if (error === null || typeof error !== 'object') return null;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : null;
}

/** One sentence: the likely cause of a failed commit and what ends it. */
export function commitFailureHint(error: unknown): string {
  const code = codeOf(error);
  if (code === null) return OTHER;
  const exact = HINT_BY_CODE.get(code);
  if (exact !== undefined) return exact;
  // SQLite's extended codes: SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT, …
  if (code.startsWith('SQLITE_READONLY')) return READ_ONLY;
  if (code.startsWith('SQLITE_IOERR')) return IO_ERROR;
  if (code.startsWith('SQLITE_BUSY')) return LOCKED;
  if (code.startsWith('SQLITE_CORRUPT')) return DAMAGED;
  if (code.startsWith('08')) return UNREACHABLE; // Postgres connection_exception class
  return OTHER;
}
