/**
 * Runs SQLite's WAL checkpoints in a worker thread, on a connection of its own, instead of in the
 * writer's thread after a commit (SQLite's auto-checkpoint).
 *
 * A checkpoint copies committed pages from the WAL back into the database file and syncs it. With
 * the auto-checkpoint (every 1000 pages) that copy runs inside the writer's commit: the collector's
 * event loop stops for it, several times a second under load, and copies hot pages (task rows,
 * index leaves) again at every checkpoint. Here this thread runs PASSIVE checkpoints every
 * `intervalMs`: they never wait for, nor block, the writer or readers, and run on another core.
 *
 * The WAL only restarts from its beginning when a write transaction finds it entirely copied back,
 * which a writer committing back to back (a backlog) never does while the worker trails it: the
 * WAL would grow without bound. So the writer keeps a backstop auto-checkpoint at
 * BACKSTOP_PAGES: past that size it copies back the few frames the worker has not yet copied, and
 * the WAL restarts. `journal_size_limit` then truncates the file.
 *
 * If the worker cannot start or fails, the writer's auto-checkpoint is switched back on (the
 * database stays correct either way: checkpointing only decides when the WAL is copied back).
 * A full disk is not a failure of the worker: it says so once and keeps trying.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface WalCheckpointerOptions {
  /** Time between checkpoints (ms). */
  intervalMs: number;
  /** The writer's `synchronous` setting: the checkpoint syncs the database file likewise. */
  synchronous: 'FULL' | 'NORMAL';
  /**
   * Told when checkpoints fail: the worker stopped and the auto-checkpoint is back on, or (a full
   * disk) it keeps trying; the message says which.
   */
  onFailure?: (message: string) => void;
}

/** The writer's auto-checkpoint interval when the worker is not running (SQLite's default). */
export const AUTO_CHECKPOINT_PAGES = 1000;
/** The writer's own checkpoint threshold while the worker runs (64 MiB of 4 KiB pages). */
export const BACKSTOP_PAGES = 16384;
/** The WAL is truncated to this size when it is reset after a checkpoint. */
export const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

// Plain CommonJS evaluated in the worker (no build step or file path needed, in tests or in dist).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = ' + workerData.synchronous);
let full = false;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    full = false;
  } catch (error) {
    const code = String(error && error.code);
    if (code.startsWith('SQLITE_BUSY')) return;
    if (code === 'SQLITE_FULL') {
      // The disk is full: the pages stay in the WAL, and the next checkpoints try again.
      if (!full) parentPort.postMessage({ retrying: String(error && error.message || error) });
      full = true;
      return;
    }
    clearInterval(timer);
    parentPort.postMessage({ failed: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
    db.close();
    parentPort.close();
  }
});
`;

function driverPath(): string {
  // Resolve the driver the writer itself uses, wherever the process was started from.
  const base = typeof __filename === 'string' ? __filename : join(process.cwd(), 'package.json');
  return createRequire(base).resolve('better-sqlite3');
}

export class WalCheckpointer {
  private worker: Worker | null = null;
  private exited: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    private readonly writer: BetterSqlite3.Database,
    private readonly file: string,
    private readonly options: WalCheckpointerOptions,
  ) {}

  start(): void {
    this.writer.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    this.writer.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    try {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { driver: driverPath(), file: this.file, synchronous: this.options.synchronous, intervalMs: this.options.intervalMs },
      });
      worker.unref();
      this.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.on('message', (m: { failed?: string; retrying?: string }) => {
        if (m.failed) this.fail(`WAL checkpoint failed: ${m.failed}`);
        else if (m.retrying) {
          this.options.onFailure?.(
            `WAL checkpoint failed: ${m.retrying}; retrying every ${this.options.intervalMs} ms (the WAL keeps the pages meanwhile): free space on the database's disk`,
          );
        }
      });
      worker.on('error', (error) => this.fail(`WAL checkpoint thread crashed: ${error.message}`));
      worker.on('exit', (code) => code !== 0 && this.fail(`WAL checkpoint thread exited with code ${code}`));
      this.worker = worker;
    } catch (error) {
      this.fail(`WAL checkpoint thread did not start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Whether checkpoints run in the worker (false once it failed: the writer checkpoints itself). */
  get running(): boolean {
    return this.worker !== null && !this.failed;
  }

  /** Stops the worker after a last checkpoint; the writer's own checkpoint on close does the rest. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    // Unreferenced while running (it must not keep a process alive); referenced again so that the
    // process waits for the last checkpoint instead of exiting under it.
    worker.ref();
    worker.postMessage('stop');
    await this.exited;
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    try {
      this.writer.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    } catch {
      // the writer is closing
    }
    this.options.onFailure?.(`${message}; the writer checkpoints the WAL itself from now on`);
    void this.worker?.terminate();
  }
}
