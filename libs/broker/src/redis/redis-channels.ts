/**
 * Channel names of kombu's Redis transport (kombu/transport/redis.py): fanout exchanges are
 * PUB/SUB channels named global_keyprefix + fanout prefix + exchange [+ '/' + routing_key].
 * The fanout prefix is `/{db}.` by default (fanout_prefix=True), '' when fanout_prefix=False,
 * or a custom string (formatted with {db}).
 */
export interface KombuRedisOptions {
  /** Redis database number from the URL (default 0). */
  db: number;
  /** kombu transport option `global_keyprefix` (default ''). */
  globalKeyprefix: string;
  /** kombu transport option `fanout_prefix` (default true). */
  fanoutPrefix: boolean | string;
  /** kombu transport option `fanout_patterns` (default true): routing key appended to channels. */
  fanoutPatterns: boolean;
}

export class RedisUrlError extends Error {}

export function redisDbFromUrl(url: string): number {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError(`"${url}" is not a valid Redis URL: expected redis://[:password@]host:6379/0`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisUrlError(`unsupported Redis URL scheme "${parsed.protocol}": use redis:// or rediss://`);
  }
  const path = parsed.pathname.replace(/^\//, '');
  if (path === '') return 0;
  const db = Number(path);
  if (!Number.isInteger(db) || db < 0) throw new RedisUrlError(`Redis URL path "${parsed.pathname}" must be a database number like /0`);
  return db;
}

export function fanoutPrefix(options: KombuRedisOptions): string {
  const template = options.fanoutPrefix === true ? '/{db}.' : options.fanoutPrefix === false ? '' : options.fanoutPrefix;
  return template.replace(/\{db\}/g, String(options.db));
}

/** The channel kombu publishes to for a fanout exchange and routing key. */
export function fanoutChannel(options: KombuRedisOptions, exchange: string, routingKey: string): string {
  const base = options.globalKeyprefix + fanoutPrefix(options) + exchange;
  return routingKey && options.fanoutPatterns ? `${base}/${routingKey}` : base;
}

/**
 * What to subscribe to for Celery events: a PSUBSCRIBE pattern over every routing key, or with
 * fanout_patterns off the exchange's single channel.
 */
export function eventSubscription(options: KombuRedisOptions): { mode: 'pattern' | 'channel'; name: string } {
  const base = options.globalKeyprefix + fanoutPrefix(options) + 'celeryev';
  if (!options.fanoutPatterns) return { mode: 'channel', name: base };
  return { mode: 'pattern', name: `${escapeGlob(base)}/*` };
}

function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}
