/** What a writer hands to the state layer: events and rejected messages, not yet stored. */
import { createHash, hash } from 'node:crypto';

export interface NewEvent {
  source: string;
  type: string;
  hostname: string;
  uuid: string | null;
  clock: number | null;
  timestamp: number;
  received_at: number;
  payload: Record<string, unknown>;
  /** JSON text of payload, as stored. */
  payload_json: string;
  dedup_key: string;
}

export interface NewRejection {
  source: string;
  reason: string;
  detail: string;
  routing_key: string | null;
  content_type: string | null;
  raw: Buffer;
  raw_size: number;
  received_at: number;
}

/**
 * The identity of an event is its content: Celery events carry no id, but the same event
 * redelivered (or read by two collectors) has byte-identical fields, while two distinct events of
 * one worker differ at least in timestamp and clock. The source name is not part of the identity,
 * so two collectors that name the same broker differently still store the event once.
 */
export function eventDedupKey(payloadJson: string): string {
  // One-shot hash (Node ≥ 20.12): half the cost of a Hash object per event, same digest.
  return hash('sha1', payloadJson, 'base64url');
}

export function newEvent(
  source: string,
  receivedAt: number,
  event: { type: string; hostname: string; timestamp: number; clock: number | null; uuid: string | null; fields: Record<string, unknown> },
): NewEvent {
  const payloadJson = JSON.stringify(event.fields);
  return {
    source,
    type: event.type,
    hostname: event.hostname,
    uuid: event.uuid,
    clock: event.clock,
    timestamp: event.timestamp,
    received_at: receivedAt,
    payload: event.fields,
    payload_json: payloadJson,
    dedup_key: eventDedupKey(payloadJson),
  };
}

/** Identity of a rejected message: the same bad message redelivered is kept once. */
export function rejectionDedupKey(r: NewRejection): string {
  return createHash('sha1')
    .update(r.source)
    .update('\0')
    .update(r.routing_key ?? '')
    .update('\0')
    .update(r.reason)
    .update('\0')
    .update(r.detail)
    .update('\0')
    .update(String(r.raw_size))
    .update('\0')
    .update(r.raw)
    .digest('base64url');
}
