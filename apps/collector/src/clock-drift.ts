/**
 * Notices workers whose clock is out of sync with the collector's, from their heartbeats, as
 * Celery's own receiver does (celery/events/state.py warns past HEARTBEAT_DRIFT_MAX, 16 s). Event
 * timestamps from different hosts are compared everywhere (a task's sent, received and started
 * times come from the client and from workers), so a clock that is off is worth a warning.
 *
 * The collector reads a durable queue, so a heartbeat can also arrive late because it waited in
 * the queue (a backlog, a restart): lateness alone proves nothing. So:
 * - a heartbeat stamped more than DRIFT_WARN_SECONDS *after* it arrived proves a clock ahead;
 * - a clock behind is reported only when the host's last HEARTBEATS_JUDGED heartbeats were all
 *   that late *by the same amount* (within LATENESS_SPREAD_SECONDS), over at least
 *   MIN_LIVE_SPAN_SECONDS of arrivals. A clock that is behind makes every heartbeat equally late;
 *   a backlog does not: it drains much faster than it was written (lateness shrinks), and a
 *   collector that stalls (a failing commit, a full disk) and then catches up sees some heartbeats
 *   late and the next ones later still.
 * Each host is reported at most once per REPEAT_SECONDS. Pure bookkeeping: no I/O, no clock of
 * its own (times come from the deliveries).
 */
import type { EventDelivery } from '../../../libs/broker/src';

export const DRIFT_WARN_SECONDS = 16;
export const HEARTBEATS_JUDGED = 5;
export const MIN_LIVE_SPAN_SECONDS = 4;
/** How much the lateness of the judged heartbeats may vary for a clock behind (transit, batching). */
export const LATENESS_SPREAD_SECONDS = 2;
export const REPEAT_SECONDS = 600;
/** Hosts followed at once; the least recently seen is forgotten beyond (hostnames come from the wire). */
export const MAX_HOSTS = 1000;

export interface ClockDrift {
  hostname: string;
  source: string;
  /** Positive: the host's clock is behind the collector's; negative: ahead (seconds). */
  driftSeconds: number;
  /** The heartbeat's own timestamp and when it arrived (epoch seconds). */
  timestamp: number;
  receivedAt: number;
}

interface HostState {
  /** The last heartbeats: [timestamp, receivedAt], oldest first. */
  recent: Array<readonly [number, number]>;
  reportedAt: number | null;
}

export class ClockDriftMonitor {
  private readonly hosts = new Map<string, HostState>();

  /** Looks at the heartbeats of a delivery; returns the drifts worth reporting now. */
  observe(delivery: EventDelivery): ClockDrift[] {
    const found: ClockDrift[] = [];
    for (const event of delivery.result.events) {
      if (event.type !== 'worker-heartbeat') continue;
      const drift = this.observeHeartbeat(event.hostname, event.timestamp, delivery.receivedAt);
      if (drift !== null) found.push({ hostname: event.hostname, source: delivery.source, driftSeconds: drift, timestamp: event.timestamp, receivedAt: delivery.receivedAt });
    }
    return found;
  }

  private observeHeartbeat(hostname: string, timestamp: number, receivedAt: number): number | null {
    let host = this.hosts.get(hostname);
    if (host === undefined) {
      host = { recent: [], reportedAt: null };
      if (this.hosts.size >= MAX_HOSTS) this.hosts.delete(this.hosts.keys().next().value as string);
    } else {
      this.hosts.delete(hostname); // re-inserted below: the map's order is the order last seen
    }
    this.hosts.set(hostname, host);
    host.recent.push([timestamp, receivedAt]);
    if (host.recent.length > HEARTBEATS_JUDGED) host.recent.shift();
    if (host.reportedAt !== null && receivedAt - host.reportedAt < REPEAT_SECONDS) return null;

    const drift = receivedAt - timestamp;
    const ahead = drift < -DRIFT_WARN_SECONDS;
    if (!ahead && !this.behindWhileLive(host.recent)) return null;
    host.reportedAt = receivedAt;
    return drift;
  }

  private behindWhileLive(recent: ReadonlyArray<readonly [number, number]>): boolean {
    if (recent.length < HEARTBEATS_JUDGED) return false;
    const lateness = recent.map(([ts, at]) => at - ts);
    if (!lateness.every((late) => late > DRIFT_WARN_SECONDS)) return false;
    if (Math.max(...lateness) - Math.min(...lateness) > LATENESS_SPREAD_SECONDS) return false;
    return recent[recent.length - 1]![1] - recent[0]![1] >= MIN_LIVE_SPAN_SECONDS;
  }
}
