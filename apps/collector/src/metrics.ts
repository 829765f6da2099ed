/** The collector's Prometheus metrics (served on /metrics). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CELERY_EVENT_TYPES } from '../../../libs/broker/src';
import { DRIFT_WARN_SECONDS } from './clock-drift';

/**
 * Event types other than Celery's own (and the collector's) that get a `type` label of their own;
 * later ones are counted as `type="other"`. The type comes from the wire: without a bound, a
 * client sending many distinct types would grow /metrics and the collector's memory without end.
 */
export const MAX_CUSTOM_TYPE_LABELS = 50;

export class CollectorMetrics {
  readonly registry = new Registry();
  private readonly customTypes = new Set<string>();

  /** The `type` label for an event type: its name, or `other` past MAX_CUSTOM_TYPE_LABELS custom types. */
  typeLabel(type: string, source: string): string {
    if (CELERY_EVENT_TYPES.has(type) || source.startsWith('collector:') || this.customTypes.has(type)) return type;
    if (this.customTypes.size >= MAX_CUSTOM_TYPE_LABELS) return 'other';
    this.customTypes.add(type);
    return type;
  }

  readonly eventsStored = new Counter({
    name: 'celery_monitor_events_stored_total',
    help: `Events appended to the log, by source and event type (custom types past the first ${MAX_CUSTOM_TYPE_LABELS} as "other")`,
    labelNames: ['source', 'type'] as const,
    registers: [this.registry],
  });

  readonly eventsDuplicate = new Counter({
    name: 'celery_monitor_events_duplicate_total',
    help: 'Events received again (redelivery, another collector) and rejected messages redelivered, not stored twice',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'celery_monitor_messages_rejected_total',
    help: 'Messages or task.multi elements received malformed, by source and reason (a bad message sent again counts again; it is kept aside once)',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });

  readonly batchCommitSeconds = new Histogram({
    name: 'celery_monitor_batch_commit_seconds',
    help: 'Time to append and project one batch in one transaction',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly batchEvents = new Histogram({
    name: 'celery_monitor_batch_events',
    help: 'Events per committed batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
    registers: [this.registry],
  });

  readonly commitFailures = new Counter({
    name: 'celery_monitor_batch_commit_failures_total',
    help: 'Batches whose transaction failed (retried; nothing is acknowledged before a commit)',
    registers: [this.registry],
  });

  readonly consumerLagSeconds = new Gauge({
    name: 'celery_monitor_consumer_lag_seconds',
    help: 'Age of the oldest received but not yet committed message, by source (0 when caught up)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly eventDelaySeconds = new Gauge({
    name: 'celery_monitor_event_delay_seconds',
    help: 'Commit time minus the event timestamp of the newest event of the last batch, by source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly brokerBacklog = new Gauge({
    name: 'celery_monitor_broker_backlog_messages',
    help: 'Messages waiting in the collector queue on the broker (RabbitMQ), by source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly sourceConnected = new Gauge({
    name: 'celery_monitor_source_connected',
    help: '1 when the broker source is connected and consuming',
    labelNames: ['source', 'transport'] as const,
    registers: [this.registry],
  });

  readonly clockDriftWarnings = new Counter({
    name: 'celery_monitor_clock_drift_warnings_total',
    help: `Workers reported (logged) because their heartbeats show a clock over ${DRIFT_WARN_SECONDS} s off the collector's, by source`,
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly sourceGaps = new Counter({
    name: 'celery_monitor_source_gaps_total',
    help: 'Intervals in which a Redis source was not listening (events may be missing)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly workersDeclaredOffline = new Counter({
    name: 'celery_monitor_workers_declared_offline_total',
    help: 'Workers declared offline by the collector because their heartbeats stopped',
    registers: [this.registry],
  });

  readonly tasksDeclaredLost = new Counter({
    name: 'celery_monitor_tasks_declared_lost_total',
    help: 'Tasks declared lost by the collector: STARTED on a worker that restarted, went offline or stopped sending heartbeats',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly databaseSizeBytes = new Gauge({
    name: 'celery_monitor_database_size_bytes',
    help: 'Size of the database (SQLite file + WAL, or pg_database_size)',
    registers: [this.registry],
  });

  readonly pendingEvents = new Gauge({
    name: 'celery_monitor_pending_events',
    help: 'Events received and waiting for their transaction',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'celery_monitor_collector_' });
  }
}
