import { describe, expect, it } from 'vitest';
import { generateWorkload, type Workload } from './workload';

interface Stamped {
  type: string;
  hostname: string;
  timestamp: number;
}

function eventsOf(workload: Workload): Stamped[] {
  return workload.messages.flatMap((m) => {
    const parsed = JSON.parse(m.body.toString('utf8')) as Stamped | Stamped[];
    return Array.isArray(parsed) ? parsed : [parsed];
  });
}

function heartbeatGaps(events: Stamped[]): number[] {
  const last = new Map<string, number>();
  const gaps: number[] = [];
  for (const e of [...events].sort((a, b) => a.timestamp - b.timestamp)) {
    if (e.type !== 'worker-heartbeat') continue;
    const before = last.get(e.hostname);
    if (before !== undefined) gaps.push(e.timestamp - before);
    last.set(e.hostname, e.timestamp);
  }
  return gaps;
}

describe('generateWorkload timelines', () => {
  const base = { totalEvents: 20_000, seed: 7, startTimestamp: 1_800_000_000 };

  it('starts at startTimestamp by default, heartbeats 2 s apart', () => {
    const events = eventsOf(generateWorkload(base));
    const stamps = events.map((e) => e.timestamp);
    // A task-sent may be stamped a few ms before the first lane frees up.
    expect(Math.min(...stamps)).toBeGreaterThan(base.startTimestamp - 0.01);
    expect(Math.min(...stamps)).toBeLessThan(base.startTimestamp + 2);
    for (const gap of heartbeatGaps(events)) expect(gap).toBeCloseTo(2, 1);
  });

  it('endTimestamp moves the whole timeline: nothing after it, the same spacing', () => {
    const plain = eventsOf(generateWorkload(base));
    const end = 1_700_000_000;
    const moved = eventsOf(generateWorkload({ ...base, endTimestamp: end }));
    expect(moved).toHaveLength(plain.length);
    expect(Math.max(...moved.map((e) => e.timestamp))).toBeLessThanOrEqual(end);
    const shift = moved[0]!.timestamp - plain[0]!.timestamp;
    expect(shift).toBeLessThan(-1e8);
    moved.forEach((e, i) => expect(e.timestamp - plain[i]!.timestamp).toBeCloseTo(shift, 3));
  });

  it('spanSeconds squeezes the task timeline into the span and keeps heartbeats 2 s apart', () => {
    const end = 1_800_000_100;
    const events = eventsOf(generateWorkload({ ...base, endTimestamp: end, spanSeconds: 10 }));
    const stamps = events.map((e) => e.timestamp);
    expect(Math.max(...stamps)).toBeLessThanOrEqual(end);
    expect(Math.min(...stamps)).toBeGreaterThan(end - 10 - 0.01);
    // As simulated, these 20,000 events span far more than 10 s.
    const plain = eventsOf(generateWorkload(base)).map((e) => e.timestamp);
    expect(Math.max(...plain) - Math.min(...plain)).toBeGreaterThan(20);
    const gaps = heartbeatGaps(events);
    expect(gaps.length).toBeGreaterThan(0);
    for (const gap of gaps) expect(gap).toBeCloseTo(2, 1);
  });
});
