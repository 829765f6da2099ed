/**
 * Celery-style AMQP URLs to amqplib connection options. Celery writes the default vhost as `//`
 * (`amqp://guest:guest@host:5672//`); an empty path also means `/`.
 */
import type { Options } from 'amqplib';

export class AmqpUrlError extends Error {}

export function parseAmqpUrl(url: string, heartbeatSeconds = 30): Options.Connect {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AmqpUrlError(`"${url}" is not a valid AMQP URL: expected amqp://user:password@host:5672/vhost`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const protocol = scheme === 'amqps' ? 'amqps' : scheme === 'amqp' || scheme === 'pyamqp' || scheme === 'librabbitmq' ? 'amqp' : null;
  if (protocol === null) {
    throw new AmqpUrlError(`unsupported AMQP URL scheme "${scheme}:" in "${redact(parsed)}": use amqp:// or amqps://`);
  }
  const path = parsed.pathname;
  const vhost = path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
  return {
    protocol,
    // An IPv6 literal comes out of URL as `[::1]`; the socket wants it without the brackets.
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: parsed.port ? Number(parsed.port) : protocol === 'amqps' ? 5671 : 5672,
    username: parsed.username ? decodeURIComponent(parsed.username) : 'guest',
    password: parsed.password ? decodeURIComponent(parsed.password) : 'guest',
    vhost,
    heartbeat: heartbeatSeconds,
  };
}

function redact(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password) copy.password = '***';
  return copy.toString();
}
