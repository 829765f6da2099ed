/**
 * Opens the one Kysely handle the state layer works through, on SQLite (better-sqlite3, WAL) or
 * Postgres (pg). Everything dialect-specific about connecting lives here.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import * as pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DB } from './schema';
import { PreparedStatements, withPreparedStatements } from './sqlite/prepared-statements';
import { openReadOnlyConnection } from './sqlite/read-only-connection';
import { ThreadedReadDialect } from './sqlite/threaded-read-dialect';
import { WalCheckpointer } from './sqlite/wal-checkpointer';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  readonly db: Kysely<DB>;
  readonly dialect: DialectName;
  /** Where the data lives, with any password removed: safe to log. */
  readonly description: string;
  /** The raw better-sqlite3 handle (SQLite only): used by the SQLite fast paths of repositories. */
  readonly sqlite: BetterSqlite3.Database | null;
  /** SQLite only: the prepared statements of that handle, shared by Kysely and the repositories' fast paths. */
  readonly sqliteStatements: PreparedStatements | null;
  /**
   * SQLite file only: opens another connection to the same file that only reads, for a long scan
   * that must not hold the shared connection (everything else would wait for it). The caller
   * closes it. Null on Postgres (its pool already has other connections) and for `:memory:`.
   */
  openSqliteReader(): BetterSqlite3.Database | null;
  /**
   * A Kysely for reads only. On a SQLite file: a pool of `threads` connections, each in a worker
   * thread (sqlite/threaded-read-dialect.ts), so a slow read never holds the caller's event loop
   * and reads run in parallel; its close() ends the threads. On Postgres and `:memory:`: `db`
   * itself (close() does nothing; the database's close() ends it).
   */
  openReadPool(threads: number): ReadPool;
  /** Postgres schema named in the URL (created by the migrator), or null for the default. */
  readonly pgSchema: string | null;
  /** Postgres only: the URL without its `schema` parameter, for a connection of one's own (LISTEN). */
  readonly pgConnectionString: string | null;
  close(): Promise<void>;
}

export interface ReadPool {
  readonly db: Kysely<DB>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** SQLite `synchronous` pragma. FULL (default) survives power loss; NORMAL survives process crashes. */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  /**
   * SQLite WAL checkpoints: `auto` (SQLite's, in the writer's thread after commits; default) or
   * `background` (a worker thread every `sqliteCheckpointIntervalMs`: for the collector, the one
   * writer, so its event loop never stops to copy the WAL back; see sqlite/wal-checkpointer.ts).
   */
  sqliteCheckpoint?: 'auto' | 'background';
  sqliteCheckpointIntervalMs?: number;
  /** Told when the background checkpoint fails and SQLite's own takes over (log it). */
  onCheckpointFailure?: (message: string) => void;
  /** Postgres pool size (default 4). */
  poolSize?: number;
  /**
   * Told when an idle Postgres connection of the pool fails (server restart, failover, an
   * administrator's kill, idle_session_timeout): the pool drops it and opens another when needed.
   * Without a listener such an error would end the process. Default: a JSON line on stderr.
   */
  onConnectionError?: (message: string) => void;
  /** Called after every SQL statement with its duration (ms): for metrics and N+1 tests. */
  onQuery?: (durationMs: number, sql: string) => void;
}

export class DatabaseUrlError extends Error {}

/**
 * Accepted URLs: `sqlite:relative/or/absolute/path.db`, `sqlite:///abs/path.db`, `sqlite::memory:`,
 * `postgres://user@host:5432/db` (or `postgresql://`), optionally with `?schema=name` to use a
 * Postgres schema other than `public` (created if missing).
 */
export function openDatabase(url: string, options: OpenDatabaseOptions = {}): Database {
  if (url.startsWith('sqlite:')) return openSqlite(url, options);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url, options);
  throw new DatabaseUrlError(
    `unsupported database URL "${redactUrl(url)}": use sqlite:<path> (e.g. sqlite:data/celery-monitor.db) or postgres://user@host:5432/db`,
  );
}

/** The file an `sqlite:` URL names (`:memory:` for an in-memory database). */
export function sqlitePath(url: string): string {
  let path = url.slice('sqlite:'.length);
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '') throw new DatabaseUrlError(`database URL "${url}" names no file: use sqlite:data/celery-monitor.db`);
  return path;
}

function openSqlite(url: string, options: OpenDatabaseOptions): Database {
  const path = sqlitePath(url);
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.sqliteSynchronous ?? 'FULL'}`);
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  const statements = new PreparedStatements(sqlite);
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withPreparedStatements(statements) }), log: queryLogger(options) });
  let checkpointer: WalCheckpointer | null = null;
  if (options.sqliteCheckpoint === 'background' && !inMemory) {
    checkpointer = new WalCheckpointer(sqlite, resolve(path), {
      intervalMs: options.sqliteCheckpointIntervalMs ?? 250,
      synchronous: options.sqliteSynchronous ?? 'FULL',
      onFailure: options.onCheckpointFailure,
    });
    checkpointer.start();
  }
  return {
    db,
    dialect: 'sqlite',
    description: `sqlite:${inMemory ? path : resolve(path)}`,
    sqlite,
    sqliteStatements: statements,
    pgSchema: null,
    pgConnectionString: null,
    openSqliteReader: () => (inMemory ? null : openReadOnlyConnection(path)),
    openReadPool: (threads) => {
      if (inMemory) return { db, close: async () => undefined };
      const reads = new Kysely<DB>({ dialect: new ThreadedReadDialect({ path: resolve(path), threads }), log: queryLogger(options) });
      return { db: reads, close: () => reads.destroy() };
    },
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

const INT8_OID = 20;

function openPostgres(url: string, options: OpenDatabaseOptions): Database {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema !== null && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new DatabaseUrlError(`schema "${schema}" in the database URL must match [a-z_][a-z0-9_]*`);
  }
  const types = {
    // bigint columns (positions, counters) fit in a double; return numbers, not strings.
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: options.poolSize ?? 4,
    types: types as pg.CustomTypesConfig,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const report =
    options.onConnectionError ??
    ((message: string) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: message })}\n`));
  pool.on('error', (error) => {
    report(`an idle connection to ${redactUrl(url)} failed and was dropped (the next query opens another): ${error.message}`);
  });
  // A connection in use that fails (the server ended it) rejects its query, and the caller reports
  // that; its 'error' event needs a listener all the same, or it would end the process (the pool
  // listens only while the connection is idle).
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log: queryLogger(options) });
  return {
    db,
    dialect: 'postgres',
    description: redactUrl(url),
    sqlite: null,
    sqliteStatements: null,
    pgSchema: schema,
    pgConnectionString: parsed.toString(),
    openSqliteReader: () => null,
    openReadPool: () => ({ db, close: async () => undefined }),
    close: () => db.destroy(),
  };
}

function queryLogger(options: OpenDatabaseOptions): ((event: LogEvent) => void) | undefined {
  const onQuery = options.onQuery;
  if (!onQuery) return undefined;
  return (event) => onQuery(event.queryDurationMillis, event.query.sql);
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
