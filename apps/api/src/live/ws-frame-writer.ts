/**
 * Writes WebSocket text frames for fan-out.
 *
 * A message given as parts (its own prefix, then a payload shared by many messages) is framed
 * here and queued per socket; each socket's queue leaves in ONE write at the end of the current
 * turn of the event loop. So everything one subscriber receives from one poll of the log tail is
 * one buffer, one syscall, one read for the client, instead of one of each per message. A send
 * returns at once unless the socket is backed up (HIGH_WATER_BYTES queued): then the queue is
 * written at once and the send waits for it, so a slow client backs up into its subscription's
 * bounded buffer, which ends it with a clear error (live-subscription.ts), and not into memory.
 *
 * Frames are written straight to the TCP socket only when no extension is in use (the server
 * does not offer permessage-deflate): then ws writes each of its own frames whole and at once.
 * Any other message (a string: acknowledgements, errors, completions) first flushes the socket's
 * queue and then goes through ws, so messages keep their order.
 */
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';

/** Queued bytes on a socket beyond which a send waits for its write. */
export const HIGH_WATER_BYTES = 1024 * 1024;

/** A text message as a prefix and a payload (the payload shared by many messages). */
export interface TextParts {
  prefix: Buffer;
  payload: Buffer;
}

/** FIN + text opcode. */
const FIN_TEXT = 0x81;

interface Queue {
  raw: Duplex;
  chunks: Buffer[];
  bytes: number;
}

const queues = new Map<Duplex, Queue>();
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  for (const queue of queues.values()) flush(queue);
  queues.clear();
}

function flush(queue: Queue, done?: (error?: Error | null) => void): void {
  if (queue.chunks.length === 0) {
    done?.();
    return;
  }
  const data = Buffer.concat(queue.chunks, queue.bytes);
  queue.chunks = [];
  queue.bytes = 0;
  if (queue.raw.destroyed || !queue.raw.writable) {
    done?.();
    return;
  }
  queue.raw.write(data, done);
}

/** The TCP socket under a ws WebSocket (ws keeps it as `_socket`; it has no public handle). */
function rawSocket(socket: WebSocket): Duplex | undefined {
  return (socket as unknown as { _socket?: Duplex })._socket;
}

/** An unmasked server frame header (RFC 6455 §5.2) for a text message of `length` bytes, then `prefix`. */
export function textFrameStart(length: number, prefix: Buffer): Buffer {
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const start = Buffer.allocUnsafe(headerLength + prefix.length);
  start[0] = FIN_TEXT;
  if (headerLength === 2) start[1] = length;
  else if (headerLength === 4) {
    start[1] = 126;
    start.writeUInt16BE(length, 2);
  } else {
    start[1] = 127;
    start.writeBigUInt64BE(BigInt(length), 2);
  }
  prefix.copy(start, headerLength);
  return start;
}

function whenWritten(write: (done: (error?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => write((error) => (error ? reject(error) : resolve())));
}

/** Sends one text message; returns a promise only when the socket is backed up. */
export function sendText(socket: WebSocket, data: string | TextParts): Promise<void> | undefined {
  if (socket.readyState !== WebSocket.OPEN) return undefined;
  const raw = rawSocket(socket);
  if (typeof data !== 'string' && raw && socket.extensions === '') {
    let queue = queues.get(raw);
    if (!queue) {
      queues.set(raw, (queue = { raw, chunks: [], bytes: 0 }));
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
    const start = textFrameStart(data.prefix.length + data.payload.length, data.prefix);
    queue.chunks.push(start, data.payload);
    queue.bytes += start.length + data.payload.length;
    if (socket.bufferedAmount + queue.bytes < HIGH_WATER_BYTES) return undefined;
    const full = queue;
    return whenWritten((done) => flush(full, done));
  }
  // In order: whatever is queued for this socket leaves first.
  const queue = raw ? queues.get(raw) : undefined;
  if (queue) flush(queue);
  const message = typeof data === 'string' ? data : Buffer.concat([data.prefix, data.payload]);
  if (socket.bufferedAmount < HIGH_WATER_BYTES) {
    socket.send(message, { binary: false });
    return undefined;
  }
  return whenWritten((done) => socket.send(message, { binary: false }, done));
}
