/** An event as it stands in the log: what projections fold. */
export interface StoredEvent {
  position: number;
  dedup_key: string;
  source: string;
  type: string;
  hostname: string;
  uuid: string | null;
  clock: number | null;
  /** Epoch seconds as sent. */
  timestamp: number;
  /** Epoch seconds, collector clock. */
  received_at: number;
  /** The full event, parsed. */
  payload: Record<string, unknown>;
}

/** An `events` row as the database returns it. */
export interface EventRow {
  position: number | string;
  dedup_key: string;
  source: string;
  type: string;
  hostname: string;
  uuid: string | null;
  clock: number | string | null;
  timestamp: number;
  received_at: number;
  payload: string;
}

/** An `events` row to a StoredEvent (numbers normalised, payload parsed). */
export function toStoredEvent(r: EventRow): StoredEvent {
  return {
    position: Number(r.position),
    dedup_key: r.dedup_key,
    source: r.source,
    type: r.type,
    hostname: r.hostname,
    uuid: r.uuid,
    clock: r.clock === null ? null : Number(r.clock),
    timestamp: r.timestamp,
    received_at: r.received_at,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
  };
}

/** Whether the collector derived the event itself (a policy's verdict), rather than a worker or client sending it. */
export function isDerivedEvent(e: Pick<StoredEvent, 'source'>): boolean {
  return e.source.startsWith('collector:');
}

/**
 * The broker an event is about: its source, or for a derived event its payload's `broker_source`
 * (the broker of the worker or task it judges), so projected rows always name a broker.
 */
export function brokerSourceOf(e: Pick<StoredEvent, 'source' | 'payload'>): string {
  const named = e.payload['broker_source'];
  return isDerivedEvent(e) && typeof named === 'string' ? named : e.source;
}
