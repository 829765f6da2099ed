/**
 * An EventWriter that runs the SQLite EventStore in a worker thread.
 *
 * better-sqlite3 is synchronous: appending and projecting a batch holds the thread that runs it
 * for the whole transaction (tens of milliseconds under load). In the collector's own thread that
 * stops the event loop, so no broker socket is read meanwhile: Redis pub/sub buffers for us on the
 * server and drops the connection past its output-buffer limit, and AMQP deliveries wait. Here the
 * transaction runs on the other core while the collector keeps reading, decoding and batching.
 *
 * Requests are served one at a time in the order they were made, so appends stay in order. If the
 * thread dies, every request in flight fails (the ingest pipeline retries its batch: nothing was
 * acknowledged) and the next request starts a new thread on the same database.
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { sqlitePath } from '../database';
import type { AppendInput, AppendReceipt, EventWriter } from '../event-writer';
import type { SourceCheckpoint } from '../repositories/checkpoint.repository';
import type { WorkerRecord } from '../repositories/worker.repository';
import type { StrandedTask } from '../repositories/task.repository';
import { compiledThreadEntry } from './thread-entry';
import {
  fromWireError, isNotice, toWireEvents,
  type WriterNotice, type WriterRequest, type WriterResponse, type WriterThreadData, type WriterThreadOptions,
} from './writer-thread-protocol';

export interface ThreadedEventWriterOptions extends WriterThreadOptions {
  /** Told when the background WAL checkpoint fails and SQLite's own takes over (log it). */
  onCheckpointFailure?: (message: string) => void;
  /** Told when the writer thread stops unexpectedly (log it); the next request starts a new one. */
  onThreadExit?: (message: string) => void;
}

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;
type RequestBody = Distribute<WriterRequest>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The compiled worker entry: beside this module in dist/, or in dist/ when running from sources. */
export function writerThreadEntry(): string {
  return compiledThreadEntry('sqlite-writer-thread.js', 'SQLite writer thread');
}

export class ThreadedEventWriter implements EventWriter {
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Answers not yet received (abort() waits for them). */
  private readonly inflight = new Set<Promise<unknown>>();
  /** Set by close(): the thread stays referenced until it has exited. */
  private closing = false;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly url: string,
    private readonly options: ThreadedEventWriterOptions,
    private descriptionText: string,
  ) {}

  /** Starts the thread and opens (and by default migrates) the database; rejects with the open error. */
  static async open(url: string, options: ThreadedEventWriterOptions = {}): Promise<ThreadedEventWriter> {
    if (!url.startsWith('sqlite:')) throw new Error(`ThreadedEventWriter serves SQLite databases only, not "${url.split(':')[0]}:"`);
    const writer = new ThreadedEventWriter(url, options, url);
    await writer.thread();
    return writer;
  }

  get description(): string {
    return this.descriptionText;
  }

  async append(input: AppendInput): Promise<AppendReceipt> {
    return (await this.request({ op: 'append', events: toWireEvents(input.events), rejected: [...input.rejected] })) as AppendReceipt;
  }

  async probeWritable(): Promise<void> {
    await this.request({ op: 'probeWritable' });
  }

  async sourceCheckpoint(source: string): Promise<SourceCheckpoint | undefined> {
    return (await this.request({ op: 'sourceCheckpoint', source })) as SourceCheckpoint | undefined;
  }

  async expiredWorkers(now: number): Promise<WorkerRecord[]> {
    return (await this.request({ op: 'expiredWorkers', now })) as WorkerRecord[];
  }

  async strandedTasks(limit: number, afterUuid: string | null = null): Promise<StrandedTask[]> {
    return (await this.request({ op: 'strandedTasks', limit, afterUuid })) as StrandedTask[];
  }

  /**
   * The database file and its WAL, read from the file system in this thread: the writer thread
   * may be waiting for SQLite's write lock for seconds (busy_timeout), and /metrics must answer.
   */
  async sizeBytes(): Promise<number> {
    const path = sqlitePath(this.url);
    if (path === ':memory:') return (await this.request({ op: 'sizeBytes' })) as number;
    return fileSize(path) + fileSize(`${path}-wal`);
  }

  /** Lets the requests made so far finish, closes the database and ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Referenced until it exits: otherwise a process with nothing else to do could end before
    // the thread has closed the database (and before the caller's code after close() runs).
    this.closing = true;
    this.worker?.ref();
    if (this.worker) await this.request({ op: 'close' }).catch(() => undefined);
    this.closed = true;
    await this.exited;
  }

  /**
   * Takes no more requests, waits for the one in flight to come back (SQLite hands the thread
   * back after its busy timeout at worst: terminating a thread inside SQLite aborts Node, in
   * better-sqlite3's error path), then ends the thread.
   */
  async abort(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    await this.terminateThread();
  }

  /** Ends the thread abruptly, as a crash would (for tests, and abort()). */
  async terminateThread(): Promise<void> {
    await this.worker?.terminate();
    await this.exited;
  }

  private async request(body: RequestBody): Promise<unknown> {
    if (this.closed) throw new Error(`the event writer for ${this.descriptionText} is closed`);
    const worker = await this.thread();
    const id = this.nextId++;
    const answer = new Promise((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise, reject });
      worker.ref(); // a request in flight keeps the process alive until it is answered
      worker.postMessage({ ...body, id } as WriterRequest);
    });
    this.inflight.add(answer);
    const settled = () => void this.inflight.delete(answer);
    answer.then(settled, settled);
    return answer;
  }

  private thread(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= this.spawn().finally(() => (this.starting = null));
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    const data: WriterThreadData = { url: this.url, options: stripCallbacks(this.options) };
    const worker = new Worker(writerThreadEntry(), { workerData: data });
    let ready = false;
    let lastError: string | null = null;
    this.exited = new Promise<void>((resolveExit) => worker.once('exit', () => resolveExit()));
    return new Promise<Worker>((resolveReady, rejectReady) => {
      worker.on('message', (message: WriterResponse | WriterNotice) => {
        if (isNotice(message)) {
          if (message.notice === 'ready') {
            ready = true;
            this.descriptionText = message.description;
            this.worker = worker;
            worker.unref();
            resolveReady(worker);
          } else if (message.notice === 'open-failed') {
            rejectReady(fromWireError(message.error));
          } else {
            this.options.onCheckpointFailure?.(message.message);
          }
          return;
        }
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (this.pending.size === 0 && !this.closing) worker.unref();
        if (message.ok) pending.resolve(message.value);
        else pending.reject(fromWireError(message.error));
      });
      worker.on('error', (error) => {
        lastError = error.message;
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = null;
        if (!ready) {
          rejectReady(new Error(`the SQLite writer thread for ${this.url} stopped while opening the database (exit code ${code})${lastError ? `: ${lastError}` : ''}`));
          return;
        }
        if (this.closed || (code === 0 && this.pending.size === 0)) return;
        const message = `the SQLite writer thread for ${this.descriptionText} stopped (exit code ${code})${lastError ? `: ${lastError}` : ''}; requests in flight failed, the next one starts a new thread`;
        this.options.onThreadExit?.(message);
        for (const pending of this.pending.values()) pending.reject(new Error(message));
        this.pending.clear();
      });
    });
  }
}

function stripCallbacks(options: ThreadedEventWriterOptions): WriterThreadOptions {
  const { onCheckpointFailure: _checkpoint, onThreadExit: _exit, ...rest } = options;
  return rest;
}

/** Bytes of a file; 0 when there is none (no WAL yet, or checkpointed and removed). */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
