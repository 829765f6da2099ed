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
