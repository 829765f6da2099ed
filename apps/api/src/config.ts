/**
 * API configuration from environment variables, validated at start: each error names the
 * setting, the bad value and what is expected.
 */
export interface ApiConfig {
  databaseUrl: string;
  host: string;
  port: number;
  logLevel: string;
  /** Largest `first` a connection accepts. */
  maxPageSize: number;
  defaultPageSize: number;
  /** Deepest selection accepted. */
  maxDepth: number;
  /** Largest estimated cost (fields × list sizes) accepted. */
  maxComplexity: number;
  /** How often the log tail is polled for new events (ms). */
  tailIntervalMs: number;
  /** Postgres: how often it is polled while the collector's commit notifications arrive (ms). */
  tailNotifiedIntervalMs: number;
  /** Events a subscriber may have waiting before it is told it fell behind. */
  subscriberBuffer: number;
  /** /readyz fails when the tail has not reached the log head for this long (seconds). */
  readyMaxTailLagSeconds: number;
  /** SQLite: worker threads that run long queries (0: on the main thread). */
  sqliteReaders: number;
}

export class ApiConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid API configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export const API_SETTINGS: Record<Exclude<keyof ApiConfig, never>, { env: string; default: string; help: string }> = {
  databaseUrl: { env: 'CM_DATABASE_URL', default: 'sqlite:data/celery-monitor.db', help: 'the collector\'s database: sqlite:<path> or postgres://…' },
  host: { env: 'CM_API_HOST', default: '0.0.0.0', help: 'listen address' },
  port: { env: 'CM_API_PORT', default: '4000', help: 'listen port (GraphQL at /graphql, also WebSocket)' },
  logLevel: { env: 'CM_LOG_LEVEL', default: 'info', help: 'trace, debug, info, warn, error, fatal or silent' },
  maxPageSize: { env: 'CM_API_MAX_PAGE_SIZE', default: '500', help: 'largest `first` accepted' },
  defaultPageSize: { env: 'CM_API_DEFAULT_PAGE_SIZE', default: '50', help: '`first` when not given' },
  maxDepth: { env: 'CM_API_MAX_DEPTH', default: '8', help: 'deepest query accepted' },
  maxComplexity: { env: 'CM_API_MAX_COMPLEXITY', default: '50000', help: 'largest estimated query cost accepted' },
  tailIntervalMs: { env: 'CM_API_TAIL_INTERVAL_MS', default: '10', help: 'event-log polling interval for subscriptions' },
  tailNotifiedIntervalMs: {
    env: 'CM_API_TAIL_NOTIFIED_INTERVAL_MS',
    default: '1000',
    help: "Postgres: event-log polling interval while the collector's commit notifications (LISTEN/NOTIFY) arrive; each notification polls at once",
  },
  subscriberBuffer: { env: 'CM_API_SUBSCRIBER_BUFFER', default: '10000', help: 'events queued per subscriber before it is cut off' },
  readyMaxTailLagSeconds: { env: 'CM_API_READY_MAX_TAIL_LAG_SECONDS', default: '30', help: '/readyz bound on how far the log tail may trail' },
  sqliteReaders: {
    env: 'CM_API_SQLITE_READERS',
    default: '4',
    help: 'SQLite: threads that run queries, so a slow one never stops the API (0: run them on the main thread); the live tail and lookups by key stay on the main connection',
  },
};

export function loadApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const problems: string[] = [];
  const raw = (key: keyof ApiConfig) => {
    const value = env[API_SETTINGS[key].env];
    return value === undefined || value === '' ? API_SETTINGS[key].default : value;
  };
  const int = (key: keyof ApiConfig, min: number, max: number) => {
    const value = raw(key);
    const n = Number(value);
    // Number(' ') is 0: a blank value is not a number.
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${API_SETTINGS[key].env} must be an integer from ${min} to ${max}, got "${value}"`);
      return min;
    }
    return n;
  };
  const databaseUrl = raw('databaseUrl');
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) {
    problems.push(`CM_DATABASE_URL must be sqlite:<path> or postgres://user@host:5432/db, got "${databaseUrl}"`);
  }
  const logLevel = raw('logLevel').toLowerCase();
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    problems.push(`CM_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "${raw('logLevel')}"`);
  }
  const config: ApiConfig = {
    databaseUrl,
    host: raw('host'),
    port: int('port', 0, 65_535),
    logLevel,
    maxPageSize: int('maxPageSize', 1, 10_000),
    defaultPageSize: int('defaultPageSize', 1, 10_000),
    maxDepth: int('maxDepth', 2, 100),
    maxComplexity: int('maxComplexity', 10, 10_000_000),
    tailIntervalMs: int('tailIntervalMs', 5, 60_000),
    tailNotifiedIntervalMs: int('tailNotifiedIntervalMs', 5, 60_000),
    subscriberBuffer: int('subscriberBuffer', 10, 10_000_000),
    readyMaxTailLagSeconds: int('readyMaxTailLagSeconds', 1, 86_400),
    sqliteReaders: int('sqliteReaders', 0, 64),
  };
  if (config.defaultPageSize > config.maxPageSize) {
    problems.push(`CM_API_DEFAULT_PAGE_SIZE (${config.defaultPageSize}) must not exceed CM_API_MAX_PAGE_SIZE (${config.maxPageSize})`);
  }
  if (problems.length > 0) throw new ApiConfigError(problems);
  return config;
}
