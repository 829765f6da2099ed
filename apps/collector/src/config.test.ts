import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, loadConfig, parseCommandLine } from './config';

function problems(env: Record<string, string>, flags: Record<string, string | string[]> = {}): string[] {
  try {
    loadConfig(env, flags);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('collector configuration', () => {
  it('has working defaults: local RabbitMQ into SQLite', () => {
    const config = loadConfig({});
    expect(config.brokers).toEqual([{ name: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672//', transport: 'amqp' }]);
    expect(config.databaseUrl).toBe('sqlite:data/celery-monitor.db');
    expect(config.amqp).toEqual({ queue: 'celery-monitor.events', queueMaxLength: null, queueMessageTtlMs: null, prefetch: 2000 });
    expect(config.decode.maxBodyBytes).toBe(1024 * 1024);
    expect(config.liveness).toEqual({ expiryFactor: 2, defaultFreq: 2, checkIntervalMs: 1000 });
    expect(config.redis).toEqual({ globalKeyprefix: '', fanoutPrefix: true, fanoutPatterns: true, wakeWorkers: true });
    expect(config.lostTasks).toEqual({ enabled: true, graceSeconds: 10, drainSeconds: 300 });
  });

  it('turns the lost-task policy off or sets its grace, and names a bad value', () => {
    expect(loadConfig({ CM_LOST_TASKS: 'false' }).lostTasks.enabled).toBe(false);
    expect(loadConfig({}, { 'lost-tasks': 'off' }).lostTasks.enabled).toBe(false);
    expect(loadConfig({ CM_LOST_TASK_GRACE_SECONDS: '0.5' }).lostTasks.graceSeconds).toBe(0.5);
    expect(loadConfig({}, { 'lost-task-drain-seconds': '3600' }).lostTasks.drainSeconds).toBe(3600);
    expect(problems({ CM_LOST_TASKS: 'sometimes' })[0]).toBe('CM_LOST_TASKS / --lost-tasks must be true or false, got "sometimes"');
    expect(problems({ CM_LOST_TASK_GRACE_SECONDS: '-1' })[0]).toMatch(/^CM_LOST_TASK_GRACE_SECONDS \/ --lost-task-grace-seconds must be/);
  });

  it("reads kombu's fanout_prefix as a boolean word in any spelling, else as a prefix of your own", () => {
    for (const yes of ['true', 'True', 'TRUE', '1', 'yes', 'on']) expect(loadConfig({ CM_REDIS_FANOUT_PREFIX: yes }).redis.fanoutPrefix, yes).toBe(true);
    for (const no of ['false', 'False', '0', 'no', 'Off']) expect(loadConfig({ CM_REDIS_FANOUT_PREFIX: no }).redis.fanoutPrefix, no).toBe(false);
    expect(loadConfig({ CM_REDIS_FANOUT_PREFIX: '/custom.' }).redis.fanoutPrefix).toBe('/custom.');
  });

  it('reads several named brokers, and names unnamed ones by transport', () => {
    const config = loadConfig({ CM_BROKERS: 'main=amqp://u:p@rabbit:5672//, cache=redis://redis:6379/2' });
    expect(config.brokers).toEqual([
      { name: 'main', url: 'amqp://u:p@rabbit:5672//', transport: 'amqp' },
      { name: 'cache', url: 'redis://redis:6379/2', transport: 'redis' },
    ]);
    expect(loadConfig({ CM_BROKERS: 'redis://h:6379/0' }).brokers[0]).toMatchObject({ name: 'redis', transport: 'redis' });
  });

  it('lets flags win over the environment, and repeats --broker', () => {
    const config = loadConfig({ CM_HTTP_PORT: '1' }, { 'http-port': '9999', broker: ['a=amqp://h//', 'b=redis://h/1'] });
    expect(config.httpPort).toBe(9999);
    expect(config.brokers.map((b) => b.name)).toEqual(['a', 'b']);
  });

  it('names the setting, the bad value and what is expected', () => {
    expect(problems({ CM_HTTP_PORT: 'eighty' })).toEqual(['CM_HTTP_PORT / --http-port must be an integer from 0 to 65535, got "eighty"']);
    expect(problems({ CM_BROKERS: 'x=kafka://h:9092' })[0]).toMatch(/CM_BROKERS.*"kafka".*use amqp:\/\/ or redis:\/\//);
    expect(problems({ CM_BROKERS: 'a=amqp://h//,a=redis://h/0' })[0]).toMatch(/"a" is used twice/);
    expect(problems({ CM_BROKERS: 'collector=amqp://h//' })[0]).toMatch(/reserved/);
    expect(problems({ CM_DATABASE_URL: 'mysql://h/db' })[0]).toMatch(/CM_DATABASE_URL.*sqlite:<path> or postgres:/);
    expect(problems({ CM_REDIS_FANOUT_PATTERNS: 'maybe' })[0]).toMatch(/true or false, got "maybe"/);
    expect(problems({ CM_SQLITE_SYNCHRONOUS: 'off' })[0]).toMatch(/FULL, NORMAL/);
    expect(problems({ CM_AMQP_QUEUE_MAX_LENGTH: '-5' })[0]).toMatch(/CM_AMQP_QUEUE_MAX_LENGTH/);
  });

  it('checks each broker URL as its source will read it, and bounds the timer settings', () => {
    expect(problems({ CM_BROKERS: 'r=redis://h:6379/abc' })).toEqual(['CM_BROKERS / --broker: broker "r=redis://h:6379/abc": Redis URL path "/abc" must be a database number like /0']);
    expect(problems({ CM_BROKERS: 'a=amqp://u:hunter2@h:99999//' })).toEqual([
      'CM_BROKERS / --broker: broker "a=amqp://u:***@h:99999//": "amqp://u:***@h:99999//" is not a valid AMQP URL: expected amqp://user:password@host:5672/vhost',
    ]);
    // Node fires timers longer than 2^31 - 1 ms after 1 ms: such values would spin or exit at once.
    expect(problems({ CM_SHUTDOWN_TIMEOUT_MS: '3000000000' })[0]).toMatch(/CM_SHUTDOWN_TIMEOUT_MS .*from 100 to 3600000/);
    expect(problems({ CM_LIVENESS_INTERVAL_MS: '3000000000' })[0]).toMatch(/CM_LIVENESS_INTERVAL_MS .*from 100 to 600000/);
    expect(problems({ CM_AMQP_QUEUE_MESSAGE_TTL_MS: '5000000000' })[0]).toMatch(/CM_AMQP_QUEUE_MESSAGE_TTL_MS .*to 4294967295/);
  });

  it('reports every problem at once', () => {
    expect(problems({ CM_HTTP_PORT: '70000', CM_BATCH_MAX_EVENTS: '0', CM_LOG_LEVEL: 'loud' })).toHaveLength(3);
  });

  it('never echoes a broker password in an error', () => {
    expect(problems({ CM_BROKERS: 'x=kafka://user:hunter2@h:9092' }).join()).not.toContain('hunter2');
  });

  it('parses the command and rejects unknown ones or flags', () => {
    expect(parseCommandLine([]).command).toBe('run');
    expect(parseCommandLine(['rebuild', '--database', 'sqlite:x.db'])).toMatchObject({ command: 'rebuild', flags: { database: 'sqlite:x.db' } });
    expect(() => parseCommandLine(['explode'])).toThrow(/unknown command "explode"/);
    expect(() => parseCommandLine(['--no-such-flag'])).toThrow(ConfigError);
    expect(helpText()).toContain('CM_BROKERS');
  });
});
