/**
 * A worker thread holding one SQLite connection that only reads (`query_only`): it runs the
 * statements its connection (threaded-read-dialect.ts) sends, one at a time, and answers with the
 * rows. better-sqlite3 is synchronous, so a statement that reads a million rows runs here instead
 * of holding the API's event loop. Statements are prepared once per SQL text (bounded cache).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { openReadOnlyConnection } from './read-only-connection';
import { PreparedStatements } from './prepared-statements';
import type { ReaderReady, ReaderRequest, ReaderResponse, ReaderThreadData } from './reader-thread-protocol';

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('sqlite-reader-thread.js runs as a worker thread');
  const data = workerData as ReaderThreadData;
  let db: BetterSqlite3.Database;
  try {
    db = openReadOnlyConnection(data.path, data.busyTimeoutMs);
  } catch (error) {
    port.postMessage({ ready: false, error: error instanceof Error ? error.message : String(error) } satisfies ReaderReady);
    return;
  }
  const statements = new PreparedStatements(db);
  port.on('message', (request: ReaderRequest) => {
    let response: ReaderResponse;
    try {
      const statement = statements.get(request.sql);
      const parameters = request.parameters.map(fromWire);
      if (statement.reader) {
        response = { id: request.id, ok: true, rows: statement.all(parameters) as Record<string, unknown>[] };
      } else {
        const info = statement.run(parameters);
        response = { id: request.id, ok: true, rows: [], changes: info.changes, lastInsertRowid: info.lastInsertRowid };
      }
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      const code = (e as { code?: unknown }).code;
      response = { id: request.id, ok: false, error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) } };
    }
    port.postMessage(response);
  });
  port.once('close', () => db.close());
  port.postMessage({ ready: true } satisfies ReaderReady);
}

/** Buffers arrive as plain Uint8Arrays (structured clone): better-sqlite3 binds Buffers as blobs. */
function fromWire(value: unknown): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

main();
