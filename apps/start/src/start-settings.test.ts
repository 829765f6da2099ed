import { describe, expect, it } from 'vitest';
import { resolveStartSettings } from './start-settings';

describe('resolveStartSettings', () => {
  it('uses the defaults when nothing is set', () => {
    expect(resolveStartSettings([], {})).toEqual({
      healthUrl: 'http://127.0.0.1:9808/healthz',
      apiEnv: { CM_DATABASE_URL: 'sqlite:data/celery-monitor.db' },
    });
  });

  it('follows the environment', () => {
    const settings = resolveStartSettings([], { CM_HTTP_PORT: '9123', CM_DATABASE_URL: 'sqlite:/tmp/x.db' });
    expect(settings?.healthUrl).toBe('http://127.0.0.1:9123/healthz');
    expect(settings?.apiEnv).toEqual({ CM_DATABASE_URL: 'sqlite:/tmp/x.db' });
  });

  it('lets flags win over the environment, as the collector does', () => {
    const settings = resolveStartSettings(['--http-port', '9200', '--database=sqlite:/tmp/flag.db', '--http-host', '127.0.0.2'], {
      CM_HTTP_PORT: '9123',
      CM_DATABASE_URL: 'sqlite:/tmp/env.db',
    });
    expect(settings).toEqual({ healthUrl: 'http://127.0.0.2:9200/healthz', apiEnv: { CM_DATABASE_URL: 'sqlite:/tmp/flag.db' } });
  });

  it('reaches wildcard and IPv6 bind addresses', () => {
    expect(resolveStartSettings(['--http-host', '::'], {})?.healthUrl).toBe('http://[::1]:9808/healthz');
    expect(resolveStartSettings(['--http-host', '::1'], {})?.healthUrl).toBe('http://[::1]:9808/healthz');
  });

  it('returns null for an invalid configuration or --help (the collector reports and exits)', () => {
    expect(resolveStartSettings(['--http-port', 'x'], {})).toBeNull();
    expect(resolveStartSettings(['--no-such-flag'], {})).toBeNull();
    expect(resolveStartSettings(['--help'], {})).toBeNull();
  });
});
