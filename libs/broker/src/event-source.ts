/** The contract every broker event source fulfils, whatever the transport. */
import type { DecodeResult } from './celery-event';

export type Transport = 'amqp' | 'redis';

/** One broker message, decoded. Acknowledge it only after its contents are durably stored. */
export interface EventDelivery {
  source: string;
  /** Epoch seconds, local clock, when the message arrived. */
  receivedAt: number;
  result: DecodeResult;
  /** Transport-specific handle used by `EventSource.acknowledge`. */
  readonly token: unknown;
  /**
   * The broker delivered this message before (AMQP's redelivered flag: after a crash or a lost
   * connection). Absent or false otherwise; pub/sub never redelivers.
   */
  readonly redelivered?: boolean;
}

export type SourceStatusEvent =
  | { kind: 'connected'; source: string; at: number; attempt: number }
  | { kind: 'disconnected'; source: string; at: number; error: string }
  /**
   * Redis only: pub/sub kept nothing for us between `from` (when we stopped listening; null when
   * unknown, e.g. at start-up) and `to` (when we listen again). Workers are asked for heartbeats
   * (unless the source was told not to).
   */
  | { kind: 'gap'; source: string; from: number | null; to: number };

export interface SourceHandlers {
  onDelivery(delivery: EventDelivery): void;
  onStatus(event: SourceStatusEvent): void;
}

export interface SourceStatus {
  connected: boolean;
  /** Epoch seconds of the last change of `connected`. */
  since: number;
  lastError: string | null;
  reconnectAttempts: number;
}

export interface EventSource {
  readonly name: string;
  readonly transport: Transport;
  /**
   * Deliveries the broker hands over before it waits for acknowledgements (AMQP: the prefetch);
   * null when nothing bounds them (Redis pub/sub). Once that many wait for their commit, the
   * source delivers nothing more until they are acknowledged.
   */
  readonly deliveryWindow: number | null;
  /** Starts consuming; connection failures are retried in the background with backoff. */
  start(handlers: SourceHandlers): void;
  /** Acknowledges deliveries whose contents were committed (in arrival order). */
  acknowledge(deliveries: readonly EventDelivery[]): void;
  /** Stops new deliveries but keeps the connection, so committed deliveries can still be acknowledged. */
  pause(): Promise<void>;
  /**
   * Stops (true) or resumes (false) reading deliveries while the collector holds too many
   * uncommitted ones. Redis stops reading its socket (the server buffers for us, up to its
   * output-buffer limit); AMQP needs nothing: its prefetch already bounds what is in flight.
   */
  throttle(reading: 'pause' | 'resume'): void;
  /** Stops consuming and closes connections. Unacknowledged AMQP messages return to the queue. */
  stop(): Promise<void>;
  status(): SourceStatus;
  /** Messages waiting in the broker for us (AMQP queue depth), or null when unknown. */
  backlog(): Promise<number | null>;
}

export function nowSeconds(): number {
  return Date.now() / 1000;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
