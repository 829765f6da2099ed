/** The API's Prometheus metrics (served on /metrics). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'celery_monitor_api_requests_total',
    help: 'GraphQL operations (HTTP and WebSocket) by operation (type and sorted root fields, e.g. query:tasks), type and outcome',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly requestSeconds = new Histogram({
    name: 'celery_monitor_api_request_seconds',
    help: 'GraphQL operation latency over HTTP by operation (type and sorted root fields, e.g. query:tasks) and type',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly openSubscriptions = new Gauge({
    name: 'celery_monitor_api_open_subscriptions',
    help: 'Active GraphQL subscriptions by field',
    labelNames: ['field'] as const,
    registers: [this.registry],
  });

  readonly subscribersCutOff = new Counter({
    name: 'celery_monitor_api_subscribers_cut_off_total',
    help: 'Subscriptions ended because the client fell behind its buffer',
    labelNames: ['field'] as const,
    registers: [this.registry],
  });

  readonly dbStatements = new Counter({
    name: 'celery_monitor_api_db_statements_total',
    help: 'SQL statements executed by the API',
    registers: [this.registry],
  });

  readonly dbStatementSeconds = new Histogram({
    name: 'celery_monitor_api_db_statement_seconds',
    help: 'SQL statement latency',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  readonly tailPosition = new Gauge({
    name: 'celery_monitor_api_tail_position',
    help: 'Newest event-log position the subscription tail has read',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'celery_monitor_api_' });
  }

  recordStatement(durationMs: number): void {
    this.dbStatements.inc();
    this.dbStatementSeconds.observe(durationMs / 1000);
  }
}
