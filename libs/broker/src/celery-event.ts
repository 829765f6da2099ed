/**
 * What libs/broker hands to its users: Celery events that passed validation, and messages that
 * did not, kept aside with a reason. Nothing here knows about storage.
 */

/** A validated Celery event, decoded from either transport. */
export interface CeleryEvent {
  /** `task-succeeded`, `worker-heartbeat`, … (unknown types are kept, not dropped). */
  type: string;
  /** Worker nodename (`celery@host`), or the client's `gen<pid>@host` for `task-sent`. */
  hostname: string;
  /** Epoch seconds (float) exactly as sent by the worker. */
  timestamp: number;
  /** Lamport clock, when the event carries one. */
  clock: number | null;
  /** Task id for `task-*` events, else null. */
  uuid: string | null;
  /** Every field of the event as sent, after kombu `__type__` values were decoded. */
  fields: Record<string, unknown>;
}

export type RejectionReason =
  | 'bad-envelope' // Redis: the kombu JSON envelope itself is unreadable
  | 'compressed' // a `compression` header: events are never compressed
  | 'unsupported-content-type' // pickle, yaml, msgpack, … (never deserialized)
  | 'too-large' // body over the configured byte limit
  | 'not-utf8'
  | 'not-json'
  | 'not-an-object' // body (or an element of a task.multi array) is not a JSON object
  | 'missing-field' // type / hostname / timestamp / uuid (task events) absent
  | 'wrong-field-type'
  | 'bad-timestamp' // NaN, infinite, negative or absurd
  | 'decoder-error'; // the decoder itself failed on the body (kept with the error: a bug to report)

/** A message (or one element of a `task.multi` array) that could not become an event. */
export interface RejectedMessage {
  reason: RejectionReason;
  /** What failed and where, for a human: `field "clock" must be a non-negative integer up to 9007199254740991, got "x"`. */
  detail: string;
  routingKey: string | null;
  contentType: string | null;
  /** The offending bytes, truncated to the configured bound. */
  raw: Buffer;
  /** Size in bytes of the offending input before truncation. */
  rawSize: number;
}

export interface DecodeResult {
  events: CeleryEvent[];
  rejected: RejectedMessage[];
}

export interface DecodeOptions {
  /** Bodies larger than this are rejected as `too-large` (default 1 MiB). */
  maxBodyBytes: number;
  /** Rejected raw bytes are truncated to this many bytes (default 64 KiB). */
  maxRawBytes: number;
  /** Current time, epoch seconds; timestamps later than now + maxFutureSkewSeconds are absurd. */
  now: number;
  /** Default 86 400 (one day). */
  maxFutureSkewSeconds: number;
  /** Timestamps before this (epoch seconds) are absurd. Default 946 684 800 (2000-01-01). */
  minTimestamp: number;
}

export const DEFAULT_DECODE_OPTIONS: Omit<DecodeOptions, 'now'> = {
  maxBodyBytes: 1024 * 1024,
  maxRawBytes: 64 * 1024,
  maxFutureSkewSeconds: 86_400,
  minTimestamp: 946_684_800,
};
