/**
 * A Kysely dialect for reading a SQLite file from worker threads: each connection of its pool is a
 * thread with its own read-only connection (sqlite-reader-thread.ts). better-sqlite3 runs a
 * statement synchronously; here the calling thread only posts it and awaits the rows, so a slow
 * query (a text search, a count over a million tasks) never stops the API's event loop, and
 * queries on different connections run in parallel. Writes are refused by the threads
 * (`query_only`): they go through the database's own connection.
 *
 * A connection is held by one caller at a time (Kysely acquires it per statement, or for a whole
 * transaction: BEGIN … COMMIT run on the same thread, so a transaction is one read snapshot).
 */
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { Worker } from 'node:worker_threads';
import { compiledThreadEntry } from './thread-entry';
import type { ReaderReady, ReaderRequest, ReaderResponse, ReaderThreadData } from './reader-thread-protocol';

export interface ThreadedReadDialectOptions {
  /** Path of the SQLite file (it must exist: the threads do not create or migrate it). */
  path: string;
  /** Connections (threads) in the pool. */
  threads: number;
  busyTimeoutMs?: number;
}

/** The compiled thread entry: beside this module in dist/, or in dist/ when running from sources. */
export function readerThreadEntry(): string {
  return compiledThreadEntry('sqlite-reader-thread.js', 'SQLite reader thread');
}

export class ThreadedReadDialect implements Dialect {
  constructor(private readonly options: ThreadedReadDialectOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new RangeError(`ThreadedReadDialect needs 1 or more threads, got ${options.threads}`);
  }

  createDriver(): Driver {
    return new ThreadedReadDriver(this.options);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

class ThreadedReadDriver implements Driver {
  private readonly connections: ReaderConnection[] = [];
  private readonly idle: ReaderConnection[] = [];
  private readonly waiting: Array<(connection: ReaderConnection) => void> = [];

  constructor(private readonly options: ThreadedReadDialectOptions) {}

  async init(): Promise<void> {
    for (let i = 0; i < this.options.threads; i++) {
      const connection = new ReaderConnection({ path: this.options.path, busyTimeoutMs: this.options.busyTimeoutMs ?? 10_000 });
      this.connections.push(connection);
      this.idle.push(connection);
    }
    // Fail at start-up, with the reason, rather than on the first query.
    await Promise.all(this.connections.map((c) => c.start()));
  }

  acquireConnection(): Promise<DatabaseConnection> {
    const connection = this.idle.pop();
    if (connection) return Promise.resolve(connection);
    return new Promise((resolveAcquire) => this.waiting.push(resolveAcquire));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const next = this.waiting.shift();
    if (next) next(connection as ReaderConnection);
    else this.idle.push(connection as ReaderConnection);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.stop()));
  }
}

interface Pending {
  resolve: (response: ReaderResponse & { ok: true }) => void;
  reject: (error: Error) => void;
}

/** One reader thread. A thread that dies fails the statement in flight; the next one starts a new thread. */
class ReaderConnection implements DatabaseConnection {
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;

  constructor(private readonly data: ReaderThreadData) {}

  async start(): Promise<void> {
    await this.thread();
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const worker = await this.thread();
    const id = this.nextId++;
    const response = await new Promise<ReaderResponse & { ok: true }>((resolveQuery, reject) => {
      this.pending.set(id, { resolve: resolveQuery, reject });
      worker.ref(); // a statement in flight keeps the process alive until it is answered
      worker.postMessage({ id, sql: compiledQuery.sql, parameters: compiledQuery.parameters } satisfies ReaderRequest);
    });
    if (response.changes === undefined) return { rows: response.rows as R[] };
    return {
      rows: [],
      numAffectedRows: BigInt(response.changes),
      ...(response.lastInsertRowid !== undefined ? { insertId: BigInt(response.lastInsertRowid) } : {}),
    };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // The rows cross the thread boundary in one message: a stream of one chunk.
    yield await this.executeQuery<R>(compiledQuery);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private thread(): Promise<Worker> {
    if (this.stopped) return Promise.reject(new Error(`the SQLite reader pool for ${this.data.path} is closed`));
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= this.spawn().finally(() => (this.starting = null));
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    const worker = new Worker(readerThreadEntry(), { workerData: this.data });
    worker.unref(); // referenced only while a statement is in flight
    return new Promise<Worker>((resolveReady, rejectReady) => {
      let ready = false;
      worker.on('message', (message: ReaderResponse | ReaderReady) => {
        if ('ready' in message) {
          if (message.ready) {
            ready = true;
            this.worker = worker;
            resolveReady(worker);
          } else {
            rejectReady(new Error(`could not open ${this.data.path} for reading in a thread: ${message.error}`));
          }
          return;
        }
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (this.pending.size === 0) worker.unref();
        if (message.ok) pending.resolve(message);
        else pending.reject(Object.assign(new Error(message.error.message), { name: message.error.name }, message.error.code ? { code: message.error.code } : {}));
      });
      worker.once('error', (error) => {
        if (!ready) rejectReady(error);
        this.fail(worker, `the SQLite reader thread failed: ${error.message}`);
      });
      worker.once('exit', (code) => {
        if (!ready) rejectReady(new Error(`the SQLite reader thread exited (code ${code}) before it opened ${this.data.path}`));
        this.fail(worker, `the SQLite reader thread exited (code ${code})`);
      });
    });
  }

  private fail(worker: Worker, reason: string): void {
    if (this.worker === worker) this.worker = null;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(new Error(`${reason} while running a statement on ${this.data.path}; the next statement starts a new thread`));
    }
  }
}
