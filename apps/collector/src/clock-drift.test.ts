import { describe, expect, it } from 'vitest';
import type { CeleryEvent, EventDelivery } from '../../../libs/broker/src';
import { ClockDriftMonitor, DRIFT_WARN_SECONDS, HEARTBEATS_JUDGED, MAX_HOSTS, REPEAT_SECONDS } from './clock-drift';

const T0 = 1_795_486_200;

function heartbeat(hostname: string, timestamp: number): CeleryEvent {
  return { type: 'worker-heartbeat', hostname, timestamp, clock: 1, uuid: null, fields: { type: 'worker-heartbeat', hostname, timestamp, freq: 2 } };
}

function delivery(receivedAt: number, events: CeleryEvent[], source = 'rabbitmq'): EventDelivery {
  return { source, receivedAt, result: { events, rejected: [] }, token: null };
}

/** Heartbeats every 2 s from `hostname`, whose clock is `offset` s off (positive: behind), received live. */
function live(monitor: ClockDriftMonitor, hostname: string, offset: number, from: number, count: number) {
  const found = [];
  for (let i = 0; i < count; i++) {
    const at = from + i * 2;
    found.push(...monitor.observe(delivery(at, [heartbeat(hostname, at - offset)])));
  }
  return found;
}

describe('ClockDriftMonitor', () => {
  it('reports a clock ahead at its first heartbeat (no backlog can explain a heartbeat from the future)', () => {
    const monitor = new ClockDriftMonitor();
    const found = monitor.observe(delivery(T0, [heartbeat('celery@fast', T0 + 60)]));
    expect(found).toEqual([{ hostname: 'celery@fast', source: 'rabbitmq', driftSeconds: -60, timestamp: T0 + 60, receivedAt: T0 }]);
  });

  it('reports a clock behind once its heartbeats keep arriving that late at the pace they were sent', () => {
    const monitor = new ClockDriftMonitor();
    const found = live(monitor, 'celery@slow', 30, T0, HEARTBEATS_JUDGED + 3);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ hostname: 'celery@slow', driftSeconds: 30, receivedAt: T0 + (HEARTBEATS_JUDGED - 1) * 2 });
  });

  it('says nothing of a backlog: old heartbeats drained much faster than they were sent', () => {
    const monitor = new ClockDriftMonitor();
    // An hour of heartbeats that waited in the queue, drained in a second.
    const drained = Array.from({ length: 1800 }, (_, i) => heartbeat('celery@w1', T0 - 3600 + i * 2));
    let found = [];
    for (let i = 0; i < drained.length; i += 24) found.push(...monitor.observe(delivery(T0 + i / 2000, drained.slice(i, i + 24))));
    expect(found).toEqual([]);
    // Then live heartbeats, on time: still nothing.
    found = live(monitor, 'celery@w1', 0.05, T0 + 2, 10);
    expect(found).toEqual([]);
  });

  it('says nothing of a collector that stalled and caught up: its heartbeats grew later, then drained', () => {
    const monitor = new ClockDriftMonitor();
    // Heartbeats sent every 2 s on time. The collector stalls (commits failing on a full disk, say):
    // the first three arrive 30 s late in one burst, the next two 20 s after that.
    const found = [];
    for (let i = 0; i < 3; i++) found.push(...monitor.observe(delivery(T0 + 30, [heartbeat('celery@w1', T0 + i * 2)])));
    for (let i = 3; i < 5; i++) found.push(...monitor.observe(delivery(T0 + 50, [heartbeat('celery@w1', T0 + i * 2)])));
    expect(found).toEqual([]);
    // Then it drains the rest faster than they were sent: still nothing.
    for (let i = 5; i < 40; i++) found.push(...monitor.observe(delivery(T0 + 50 + (i - 5) * 0.5, [heartbeat('celery@w1', T0 + i * 2)])));
    expect(found).toEqual([]);
  });

  it('reports a clock behind whose heartbeats arrive with some jitter', () => {
    const monitor = new ClockDriftMonitor();
    const jitter = [0.4, -0.3, 0.8, 0, -0.5, 0.2];
    const found = [];
    for (let i = 0; i < jitter.length; i++) found.push(...monitor.observe(delivery(T0 + i * 2 + 40 + jitter[i]!, [heartbeat('celery@slow', T0 + i * 2)])));
    expect(found).toHaveLength(1);
    expect(Math.abs(found[0]!.driftSeconds - 40)).toBeLessThanOrEqual(1);
  });

  it('stays quiet within the bound, ignores other events, and repeats a host only after REPEAT_SECONDS', () => {
    const monitor = new ClockDriftMonitor();
    expect(live(monitor, 'celery@ok', DRIFT_WARN_SECONDS - 1, T0, 20)).toEqual([]);
    const task: CeleryEvent = { type: 'task-started', hostname: 'celery@x', timestamp: T0 + 600, clock: 1, uuid: 'u', fields: {} };
    expect(monitor.observe(delivery(T0, [task]))).toEqual([]);
    expect(monitor.observe(delivery(T0, [heartbeat('celery@ahead', T0 + 100)]))).toHaveLength(1);
    expect(monitor.observe(delivery(T0 + 10, [heartbeat('celery@ahead', T0 + 110)]))).toEqual([]);
    expect(monitor.observe(delivery(T0 + REPEAT_SECONDS, [heartbeat('celery@ahead', T0 + REPEAT_SECONDS + 100)]))).toHaveLength(1);
  });

  it('follows at most MAX_HOSTS hosts (hostnames come from the wire)', () => {
    const monitor = new ClockDriftMonitor();
    for (let i = 0; i < MAX_HOSTS * 3; i++) monitor.observe(delivery(T0, [heartbeat(`celery@h${i}`, T0)]));
    expect((monitor as unknown as { hosts: Map<string, unknown> }).hosts.size).toBe(MAX_HOSTS);
  });
});
