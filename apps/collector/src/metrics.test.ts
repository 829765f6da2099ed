import { describe, expect, it } from 'vitest';
import { CollectorMetrics, MAX_CUSTOM_TYPE_LABELS } from './metrics';

describe('CollectorMetrics.typeLabel', () => {
  it('names Celery types and the collector own always, custom types up to the bound, then "other"', () => {
    const metrics = new CollectorMetrics();
    const custom = Array.from({ length: MAX_CUSTOM_TYPE_LABELS + 10 }, (_, i) => `app-type-${i}`);
    const labels = custom.map((t) => metrics.typeLabel(t, 'rabbit'));
    expect(labels.slice(0, MAX_CUSTOM_TYPE_LABELS)).toEqual(custom.slice(0, MAX_CUSTOM_TYPE_LABELS));
    expect(new Set(labels.slice(MAX_CUSTOM_TYPE_LABELS))).toEqual(new Set(['other']));
    // Past the bound: a custom type seen before keeps its label; Celery's and derived ones are named.
    expect(metrics.typeLabel('app-type-3', 'redis')).toBe('app-type-3');
    expect(metrics.typeLabel('task-succeeded', 'rabbit')).toBe('task-succeeded');
    expect(metrics.typeLabel('worker-heartbeat', 'redis')).toBe('worker-heartbeat');
    expect(metrics.typeLabel('collector-gap', 'collector:gap')).toBe('collector-gap');
  });

  it('keeps /metrics bounded whatever types arrive', async () => {
    const metrics = new CollectorMetrics();
    for (let i = 0; i < 5_000; i++) metrics.eventsStored.inc({ source: 'rabbit', type: metrics.typeLabel(`flood-${i}`, 'rabbit') });
    const text = await metrics.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('celery_monitor_events_stored_total{'));
    expect(series).toHaveLength(MAX_CUSTOM_TYPE_LABELS + 1);
    expect(text).toContain(`celery_monitor_events_stored_total{source="rabbit",type="other"} ${5_000 - MAX_CUSTOM_TYPE_LABELS}`);
  });
});
