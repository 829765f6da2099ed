import { describe, expect, it } from 'vitest';
import { resolveStartSettings, StartSettingsError } from './start-settings';

describe('resolveStartSettings', () => {
  it('uses the defaults when nothing is set', () => {
    expect(resolveStartSettings([], {})).toEqual({
      healthUrl: 'http://127.0.0.1:9808/healthz',
      apiEnv: { CM_DATABASE_URL: 'sqlite:data/celery-monitor.db', CM_LOG_LEVEL: 'info' },
    });
  });

  it('follows the environment', () => {
    const settings = resolveStartSettings([], { CM_HTTP_PORT: '9123', CM_DATABASE_URL: 'sqlite:/tmp/x.db', CM_LOG_LEVEL: 'WARN' });
    expect(settings?.healthUrl).toBe('http://127.0.0.1:9123/healthz');
    expect(settings?.apiEnv).toEqual({ CM_DATABASE_URL: 'sqlite:/tmp/x.db', CM_LOG_LEVEL: 'warn' });
  });

  it('lets flags win over the environment, as the collector does', () => {
    const settings = resolveStartSettings(['--http-port', '9200', '--database=sqlite:/tmp/flag.db', '--http-host', '127.0.0.2', '--log-level', 'error'], {
      CM_HTTP_PORT: '9123',
      CM_DATABASE_URL: 'sqlite:/tmp/env.db',
      CM_LOG_LEVEL: 'debug',
    });
    expect(settings).toEqual({ healthUrl: 'http://127.0.0.2:9200/healthz', apiEnv: { CM_DATABASE_URL: 'sqlite:/tmp/flag.db', CM_LOG_LEVEL: 'error' } });
  });

  it('reaches wildcard and IPv6 bind addresses', () => {
    expect(resolveStartSettings(['--http-host', '::'], {})?.healthUrl).toBe('http://[::1]:9808/healthz');
    expect(resolveStartSettings(['--http-host', '::1'], {})?.healthUrl).toBe('http://[::1]:9808/healthz');
  });

  it('refuses HTTP port 0: npm start must know where to wait for the collector', () => {
    expect(() => resolveStartSettings(['--http-port', '0'], {})).toThrow(StartSettingsError);
    expect(() => resolveStartSettings([], { CM_HTTP_PORT: '0' })).toThrow(/give it a fixed one \(--http-port \/ CM_HTTP_PORT\), not 0/);
  });

  it('returns null for an invalid configuration or --help (the collector reports and exits)', () => {
    expect(resolveStartSettings(['--http-port', 'x'], {})).toBeNull();
    expect(resolveStartSettings(['--no-such-flag'], {})).toBeNull();
    expect(resolveStartSettings(['--help'], {})).toBeNull();
  });
});
