/** Stored events to GraphQL events. */
import type { StoredEvent } from '../../../../libs/state/src';
import type { EventModel } from './event.model';

export function toEventModel(e: StoredEvent): EventModel {
  return {
    position: e.position,
    type: e.type,
    source: e.source,
    hostname: e.hostname,
    uuid: e.uuid,
    clock: e.clock,
    timestamp: e.timestamp,
    time: new Date(e.timestamp * 1000),
    receivedAt: new Date(e.received_at * 1000),
    payload: e.payload,
  };
}
