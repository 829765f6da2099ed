/**
 * Messages between ThreadedEventWriter (the collector's thread) and sqlite-writer-thread (the
 * worker that owns the SQLite connection). Structured clone carries them; what would cost a
 * second clone is left out: events travel without their parsed payload (the thread parses
 * `payload_json`, the stored text, exactly as a rebuild reads it back), and receipts without
 * payloads. Buffers arrive as plain Uint8Arrays and are turned back into Buffers.
 */
import type { AppendReceipt } from '../event-writer';
import type { EventStoreOptions } from '../event-store';
import type { NewEvent, NewRejection } from '../new-event';

/** Everything about opening the store that can cross a thread (no callbacks). */
export type WriterThreadOptions = Omit<EventStoreOptions, 'onQuery' | 'onCheckpointFailure' | 'onConnectionError'>;

export interface WriterThreadData {
  url: string;
  options: WriterThreadOptions;
}

export type WireEvent = Omit<NewEvent, 'payload'>;

export type WriterRequest =
  | { id: number; op: 'append'; events: WireEvent[]; rejected: NewRejection[] }
  | { id: number; op: 'probeWritable' }
  | { id: number; op: 'sourceCheckpoint'; source: string }
  | { id: number; op: 'expiredWorkers'; now: number }
  | { id: number; op: 'strandedTasks'; limit: number; afterUuid: string | null }
  | { id: number; op: 'sizeBytes' }
  | { id: number; op: 'close' };

export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type WriterResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

export type WriterNotice =
  | { notice: 'ready'; description: string }
  | { notice: 'open-failed'; error: WireError }
  | { notice: 'checkpoint-failure'; message: string };

export function isNotice(message: WriterResponse | WriterNotice): message is WriterNotice {
  return 'notice' in message;
}

export function toWireEvents(events: readonly NewEvent[]): WireEvent[] {
  return events.map(({ payload: _parsed, ...wire }) => wire);
}

export function fromWireEvents(events: readonly WireEvent[]): NewEvent[] {
  return events.map((e) => ({ ...e, payload: JSON.parse(e.payload_json) as Record<string, unknown> }));
}

export function fromWireRejections(rejected: readonly NewRejection[]): NewRejection[] {
  return rejected.map((r) => {
    const raw = r.raw as Uint8Array;
    return { ...r, raw: Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) };
  });
}

/** The receipt without payloads (what crosses back to the collector's thread). */
export function slimReceipt(result: AppendReceipt): AppendReceipt {
  return {
    stored: result.stored.map((e) => ({ position: e.position, dedup_key: e.dedup_key, source: e.source, type: e.type, timestamp: e.timestamp })),
    duplicates: result.duplicates,
    rejectedNew: result.rejectedNew,
  };
}

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}), ...(error.stack ? { stack: error.stack } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

export function fromWireError(wire: WireError): Error {
  const error = new Error(wire.message) as Error & { code?: string };
  error.name = wire.name;
  if (wire.code !== undefined) error.code = wire.code;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
