/**
 * Events the collector derives itself and appends to the log like any other, so projections
 * change only through events and a rebuild reproduces them. Their payloads are deterministic
 * (no wall-clock fields) so two collectors on one Postgres derive the same event and store it once.
 */
import { hostname as osHostname } from 'node:os';
import { newEvent, type NewEvent, type WorkerRecord } from '../../../libs/state/src';

export const LIVENESS_SOURCE = 'collector:liveness';
export const GAP_SOURCE = 'collector:gap';
export const COLLECTOR_HOSTNAME = `celery-monitor@${osHostname()}`;

/** `worker-offline` with reason `heartbeat-timeout`, timestamped at the expiry instant (worker clock). */
export function heartbeatTimeoutEvent(worker: WorkerRecord, expiryFactor: number, defaultFreq: number, now: number): NewEvent {
  const freq = worker.freq ?? defaultFreq;
  const lastSeenAt = worker.last_seen_at ?? now;
  const fields = {
    type: 'worker-offline',
    hostname: worker.hostname,
    timestamp: lastSeenAt + freq * expiryFactor,
    reason: 'heartbeat-timeout',
    last_seen_at: lastSeenAt,
    heartbeat_freq: freq,
    expiry_factor: expiryFactor,
    broker_source: worker.source,
  };
  return newEvent(LIVENESS_SOURCE, now, { type: fields.type, hostname: worker.hostname, timestamp: fields.timestamp, clock: null, uuid: null, fields });
}

/** `collector-gap`: the interval in which a Redis source was not listening. */
export function gapEvent(brokerSource: string, from: number, to: number, reason: 'resubscribed' | 'collector-started', now: number): NewEvent {
  const fields = {
    type: 'collector-gap',
    hostname: COLLECTOR_HOSTNAME,
    timestamp: to,
    broker_source: brokerSource,
    gap_from: from,
    gap_to: to,
    gap_seconds: Math.max(0, to - from),
    reason,
  };
  return newEvent(GAP_SOURCE, now, { type: fields.type, hostname: COLLECTOR_HOSTNAME, timestamp: to, clock: null, uuid: null, fields });
}
