/**
 * Collector configuration from environment variables and command-line flags (flags win),
 * validated at start: every error names the setting, the bad value and what is expected.
 */
import { parseArgs } from 'node:util';
import { parseAmqpUrl, redisDbFromUrl } from '../../../libs/broker/src';

export interface BrokerConfig {
  name: string;
  url: string;
  transport: 'amqp' | 'redis';
}

export interface CollectorConfig {
  brokers: BrokerConfig[];
  databaseUrl: string;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  sqliteCheckpoint: 'auto' | 'background';
  sqliteWriter: 'thread' | 'inline';
  httpHost: string;
  httpPort: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  amqp: { queue: string; queueMaxLength: number | null; queueMessageTtlMs: number | null; prefetch: number };
  redis: { globalKeyprefix: string; fanoutPrefix: boolean | string; fanoutPatterns: boolean; wakeWorkers: boolean };
  decode: { maxBodyBytes: number; maxRawBytes: number; maxFutureSkewSeconds: number; minTimestamp: number };
  batch: { maxEvents: number; maxDelayMs: number; maxPendingEvents: number };
  liveness: { expiryFactor: number; defaultFreq: number; checkIntervalMs: number };
  /** The lost-task policy: whether it runs (every liveness.checkIntervalMs), and how long verdicts must hold. */
  lostTasks: { enabled: boolean; graceSeconds: number; drainSeconds: number };
  ready: { maxLagSeconds: number; maxBacklog: number };
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid collector configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

interface Setting {
  env: string;
  flag: string;
  help: string;
  default?: string;
}

/** Every setting, its environment variable, its flag and its default: also the --help text. */
export const SETTINGS = {
  brokers: { env: 'CM_BROKERS', flag: 'broker', default: 'rabbitmq=amqp://guest:guest@127.0.0.1:5672//', help: 'comma-separated name=url broker list (amqp:// or redis://); the flag may repeat' },
  databaseUrl: { env: 'CM_DATABASE_URL', flag: 'database', default: 'sqlite:data/celery-monitor.db', help: 'sqlite:<path> or postgres://user@host:5432/db' },
  sqliteSynchronous: { env: 'CM_SQLITE_SYNCHRONOUS', flag: 'sqlite-synchronous', default: 'FULL', help: 'FULL (survives power loss) or NORMAL (survives crashes)' },
  sqliteCheckpoint: { env: 'CM_SQLITE_CHECKPOINT', flag: 'sqlite-checkpoint', default: 'background', help: 'WAL checkpoints: background (a worker thread) or auto (SQLite, in the ingest thread)' },
  sqliteWriter: { env: 'CM_SQLITE_WRITER', flag: 'sqlite-writer', default: 'thread', help: 'where SQLite transactions run: thread (a worker thread: brokers are read while a batch commits) or inline (the ingest thread)' },
  httpHost: { env: 'CM_HTTP_HOST', flag: 'http-host', default: '0.0.0.0', help: 'address of /healthz, /readyz, /metrics' },
  httpPort: { env: 'CM_HTTP_PORT', flag: 'http-port', default: '9808', help: 'port of /healthz, /readyz, /metrics (0 = any free port)' },
  logLevel: { env: 'CM_LOG_LEVEL', flag: 'log-level', default: 'info', help: 'trace, debug, info, warn, error or fatal' },
  amqpQueue: { env: 'CM_AMQP_QUEUE', flag: 'amqp-queue', default: 'celery-monitor.events', help: 'named durable queue bound to celeryev' },
  amqpQueueMaxLength: { env: 'CM_AMQP_QUEUE_MAX_LENGTH', flag: 'amqp-queue-max-length', help: 'optional x-max-length of the queue (oldest dropped past it)' },
  amqpQueueMessageTtlMs: { env: 'CM_AMQP_QUEUE_MESSAGE_TTL_MS', flag: 'amqp-queue-message-ttl-ms', help: 'optional x-message-ttl of the queue, ms' },
  amqpPrefetch: { env: 'CM_AMQP_PREFETCH', flag: 'amqp-prefetch', default: '2000', help: 'unacknowledged messages in flight' },
  redisGlobalKeyprefix: { env: 'CM_REDIS_GLOBAL_KEYPREFIX', flag: 'redis-global-keyprefix', default: '', help: "kombu transport option global_keyprefix" },
  redisFanoutPrefix: { env: 'CM_REDIS_FANOUT_PREFIX', flag: 'redis-fanout-prefix', default: 'true', help: 'kombu fanout_prefix: true, false (any case, 1/0, yes/no, on/off) or a custom prefix' },
  redisFanoutPatterns: { env: 'CM_REDIS_FANOUT_PATTERNS', flag: 'redis-fanout-patterns', default: 'true', help: 'kombu fanout_patterns: true or false' },
  redisWakeWorkers: { env: 'CM_REDIS_WAKE_WORKERS', flag: 'redis-wake-workers', default: 'true', help: 'broadcast heartbeat after each Redis (re)subscription' },
  maxBodyBytes: { env: 'CM_MAX_BODY_BYTES', flag: 'max-body-bytes', default: String(1024 * 1024), help: 'bodies larger than this are rejected' },
  maxRejectedRawBytes: { env: 'CM_MAX_REJECTED_RAW_BYTES', flag: 'max-rejected-raw-bytes', default: String(64 * 1024), help: 'raw bytes kept per rejected message' },
  maxFutureSkewSeconds: { env: 'CM_MAX_FUTURE_SKEW_SECONDS', flag: 'max-future-skew-seconds', default: '86400', help: 'event timestamps further in the future are rejected' },
  minTimestamp: { env: 'CM_MIN_TIMESTAMP', flag: 'min-timestamp', default: '946684800', help: 'event timestamps before this epoch second are rejected' },
  batchMaxEvents: { env: 'CM_BATCH_MAX_EVENTS', flag: 'batch-max-events', default: '25000', help: 'events per transaction at most (batches only grow this large while events are queued)' },
  maxPendingEvents: { env: 'CM_MAX_PENDING_EVENTS', flag: 'max-pending-events', default: '100000', help: 'received events waiting for their commit at most: past this, Redis sources stop reading until half are committed (AMQP is bounded by its prefetch)' },
  batchMaxDelayMs: { env: 'CM_BATCH_MAX_DELAY_MS', flag: 'batch-max-delay-ms', default: '20', help: 'longest wait of an event before its partial batch is committed (live latency)' },
  heartbeatExpiryFactor: { env: 'CM_HEARTBEAT_EXPIRY_FACTOR', flag: 'heartbeat-expiry-factor', default: '2', help: 'worker offline after freq × this without a sign of life' },
  defaultHeartbeatFreq: { env: 'CM_DEFAULT_HEARTBEAT_FREQ', flag: 'default-heartbeat-freq', default: '2', help: 'heartbeat interval assumed until a worker reports its own' },
  livenessIntervalMs: { env: 'CM_LIVENESS_INTERVAL_MS', flag: 'liveness-interval-ms', default: '1000', help: 'how often expired workers and lost tasks are looked for' },
  lostTasks: { env: 'CM_LOST_TASKS', flag: 'lost-tasks', default: 'true', help: 'declare LOST the tasks STARTED on a worker that went offline, or reported running no task, before reporting their end (true or false)' },
  lostTaskGraceSeconds: { env: 'CM_LOST_TASK_GRACE_SECONDS', flag: 'lost-task-grace-seconds', default: '10', help: 'how long the evidence must stand before a task is declared lost (a reconnecting worker goes offline and online again)' },
  lostTaskDrainSeconds: { env: 'CM_LOST_TASK_DRAIN_SECONDS', flag: 'lost-task-drain-seconds', default: '300', help: 'how long a task still running when its worker said goodbye (a warm shutdown finishes it) may take before it is declared lost' },
  readyMaxLagSeconds: { env: 'CM_READY_MAX_LAG_SECONDS', flag: 'ready-max-lag-seconds', default: '30', help: '/readyz fails when uncommitted events are older than this' },
  readyMaxBacklog: { env: 'CM_READY_MAX_BACKLOG', flag: 'ready-max-backlog', default: '100000', help: '/readyz fails when the RabbitMQ queue holds more messages' },
  shutdownTimeoutMs: { env: 'CM_SHUTDOWN_TIMEOUT_MS', flag: 'shutdown-timeout-ms', default: '15000', help: 'longest graceful shutdown before exiting anyway' },
} as const satisfies Record<string, Setting>;

type Key = keyof typeof SETTINGS;

export function helpText(): string {
  const lines = Object.values(SETTINGS).map(
    (s: Setting) => `  --${s.flag.padEnd(28)} ${s.env.padEnd(30)} ${s.help}${s.default !== undefined && s.default !== '' ? ` (default ${s.default})` : ''}`,
  );
  return `usage: collector [run|migrate|rebuild] [options]\n\n  run (default)  consume events, store and project them\n  migrate        apply database migrations and exit\n  rebuild        replay the event log into fresh projections\n\noptions (flag, environment variable):\n${lines.join('\n')}\n`;
}

export function parseCommandLine(argv: string[]): { command: string; flags: Record<string, string | string[] | boolean | undefined> } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const s of Object.values(SETTINGS) as Setting[]) options[s.flag] = { type: 'string', ...(s.flag === 'broker' ? { multiple: true } : {}) };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if (positionals.length > 1) throw new ConfigError([`expected at most one command (run, migrate, rebuild), got "${positionals.join(' ')}"`]);
    const command = positionals[0] ?? 'run';
    if (!['run', 'migrate', 'rebuild'].includes(command)) throw new ConfigError([`unknown command "${command}": use run, migrate or rebuild`]);
    return { command, flags: values as Record<string, string | string[] | boolean | undefined> };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([`${(error as Error).message} (see --help)`]);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv, flags: Record<string, string | string[] | boolean | undefined> = {}): CollectorConfig {
  const problems: string[] = [];
  const raw = (key: Key): string | undefined => {
    const s: Setting = SETTINGS[key];
    const flag = flags[s.flag];
    if (Array.isArray(flag)) return flag.join(',');
    if (typeof flag === 'string') return flag;
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return s.default;
  };
  const name = (key: Key) => `${SETTINGS[key].env} / --${SETTINGS[key].flag}`;

  const int = (key: Key, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = raw(key) ?? '';
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name(key)} must be an integer from ${min} to ${max}, got "${value}"`);
      return min;
    }
    return n;
  };
  const optionalInt = (key: Key, min: number, max?: number): number | null => (raw(key) === undefined ? null : int(key, min, max));
  const num = (key: Key, min: number): number => {
    const value = raw(key) ?? '';
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min) {
      problems.push(`${name(key)} must be a number ≥ ${min}, got "${value}"`);
      return min;
    }
    return n;
  };
  const bool = (key: Key): boolean => {
    const value = (raw(key) ?? '').toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    problems.push(`${name(key)} must be true or false, got "${raw(key)}"`);
    return false;
  };
  const oneOf = <T extends string>(key: Key, allowed: readonly T[], normalise: (v: string) => string = (v) => v): T => {
    const value = normalise(raw(key) ?? '');
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${name(key)} must be one of ${allowed.join(', ')}, got "${raw(key)}"`);
    return allowed[0]!;
  };

  const brokers = parseBrokers(raw('brokers') ?? '', name('brokers'), problems);
  const databaseUrl = raw('databaseUrl') ?? '';
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(databaseUrl)) {
    problems.push(`${name('databaseUrl')} must be sqlite:<path> or postgres://user@host:5432/db, got "${databaseUrl}"`);
  }
  // kombu's fanout_prefix: True (the '/{db}.' prefix), False, or a prefix of your own. Boolean
  // words are read as the other boolean settings are (any case, 1/0, yes/no, on/off).
  const fanoutPrefixRaw = raw('redisFanoutPrefix') ?? 'true';
  const fanoutWord = fanoutPrefixRaw.trim().toLowerCase();
  const fanoutPrefix = ['true', '1', 'yes', 'on'].includes(fanoutWord)
    ? true
    : ['false', '0', 'no', 'off', ''].includes(fanoutWord)
      ? false
      : fanoutPrefixRaw;

  const config: CollectorConfig = {
    brokers,
    databaseUrl,
    sqliteSynchronous: oneOf('sqliteSynchronous', ['FULL', 'NORMAL'] as const, (v) => v.toUpperCase()),
    sqliteCheckpoint: oneOf('sqliteCheckpoint', ['auto', 'background'] as const, (v) => v.toLowerCase()),
    sqliteWriter: oneOf('sqliteWriter', ['thread', 'inline'] as const, (v) => v.toLowerCase()),
    httpHost: raw('httpHost') ?? '0.0.0.0',
    httpPort: int('httpPort', 0, 65_535),
    logLevel: oneOf('logLevel', ['info', 'trace', 'debug', 'warn', 'error', 'fatal'] as const, (v) => v.toLowerCase()),
    amqp: {
      queue: raw('amqpQueue') ?? 'celery-monitor.events',
      queueMaxLength: optionalInt('amqpQueueMaxLength', 1),
      queueMessageTtlMs: optionalInt('amqpQueueMessageTtlMs', 1, MAX_AMQP_TTL_MS),
      prefetch: int('amqpPrefetch', 1, 65_535),
    },
    redis: {
      globalKeyprefix: raw('redisGlobalKeyprefix') ?? '',
      fanoutPrefix,
      fanoutPatterns: bool('redisFanoutPatterns'),
      wakeWorkers: bool('redisWakeWorkers'),
    },
    decode: {
      maxBodyBytes: int('maxBodyBytes', 1024),
      maxRawBytes: int('maxRejectedRawBytes', 0),
      maxFutureSkewSeconds: num('maxFutureSkewSeconds', 0),
      minTimestamp: num('minTimestamp', 0),
    },
    batch: { maxEvents: int('batchMaxEvents', 1, 100_000), maxDelayMs: int('batchMaxDelayMs', 0, 60_000), maxPendingEvents: int('maxPendingEvents', 1_000, 10_000_000) },
    liveness: {
      expiryFactor: num('heartbeatExpiryFactor', 1),
      defaultFreq: num('defaultHeartbeatFreq', 0.1),
      checkIntervalMs: int('livenessIntervalMs', 100, 600_000),
    },
    lostTasks: { enabled: bool('lostTasks'), graceSeconds: num('lostTaskGraceSeconds', 0), drainSeconds: num('lostTaskDrainSeconds', 0) },
    ready: { maxLagSeconds: num('readyMaxLagSeconds', 1), maxBacklog: int('readyMaxBacklog', 0) },
    shutdownTimeoutMs: int('shutdownTimeoutMs', 100, 3_600_000),
  };
  if ((raw('amqpQueue') ?? '').trim() === '') problems.push(`${name('amqpQueue')} must not be empty`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** RabbitMQ's largest x-message-ttl (an unsigned 32-bit number of ms). */
const MAX_AMQP_TTL_MS = 4_294_967_295;

function parseBrokers(value: string, setting: string, problems: string[]): BrokerConfig[] {
  const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0) problems.push(`${setting} must name at least one broker, e.g. rabbitmq=amqp://guest:guest@127.0.0.1:5672//`);
  const brokers: BrokerConfig[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const schemeAt = entry.indexOf('://');
    const hasName = eq > 0 && (schemeAt === -1 || eq < schemeAt);
    const url = hasName ? entry.slice(eq + 1) : entry;
    const scheme = url.split('://')[0]?.toLowerCase() ?? '';
    const transport = ['amqp', 'amqps', 'pyamqp'].includes(scheme) ? 'amqp' : ['redis', 'rediss'].includes(scheme) ? 'redis' : null;
    const name = hasName ? entry.slice(0, eq) : (transport ?? 'broker');
    if (transport === null) {
      problems.push(`${setting}: broker "${redact(entry)}" has unsupported scheme "${scheme}": use amqp:// or redis://`);
      continue;
    }
    // The URL itself, as the source will read it (a bad port or Redis db would otherwise fail at
    // every connection attempt, retried for ever).
    try {
      if (transport === 'amqp') parseAmqpUrl(url);
      else redisDbFromUrl(url);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      problems.push(`${setting}: broker "${redact(entry)}": ${message.replaceAll(url, redact(url))}`);
      continue;
    }
    if (!SOURCE_NAME.test(name)) problems.push(`${setting}: source name "${name}" must match ${SOURCE_NAME.source}`);
    if (name.startsWith('collector')) problems.push(`${setting}: source name "${name}" is reserved for derived events (collector:*)`);
    if (brokers.some((b) => b.name === name)) problems.push(`${setting}: source name "${name}" is used twice; name each broker (name=url)`);
    brokers.push({ name, url, transport });
  }
  return brokers;
}

function redact(text: string): string {
  return text.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}
