/** Messages between a SQLite reader thread (sqlite-reader-thread.ts) and its connection (threaded-read-dialect.ts). */

export interface ReaderThreadData {
  /** Path of the SQLite file (never `:memory:`: a thread would open a database of its own). */
  path: string;
  busyTimeoutMs: number;
}

export interface ReaderRequest {
  id: number;
  sql: string;
  parameters: readonly unknown[];
}

export type ReaderResponse =
  | { id: number; ok: true; rows: Record<string, unknown>[]; changes?: number; lastInsertRowid?: number | bigint }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

/** Posted once the thread has opened the database (or failed to: then it exits). */
export type ReaderReady = { ready: true } | { ready: false; error: string };
