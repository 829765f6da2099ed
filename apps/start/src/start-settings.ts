/**
 * What `npm start` must know of the collector's settings, resolved exactly as the collector
 * resolves them (flags win over the environment): where to wait for its /healthz, and which
 * database the API must read, so that `npm start -- --database … --http-port …` keeps both on
 * the same database and waits on the right port.
 */
import { loadConfig, parseCommandLine } from '../../collector/src/config';

export interface StartSettings {
  /** The collector's liveness endpoint, reachable from this machine. */
  healthUrl: string;
  /** Variables the API is started with (the collector's database). */
  apiEnv: Record<string, string>;
}

export class StartSettingsError extends Error {}

/**
 * Null when the collector's configuration is invalid: the collector itself reports why and exits.
 * Throws StartSettingsError for settings the collector takes but `npm start` cannot work with.
 */
export function resolveStartSettings(argv: readonly string[], env: NodeJS.ProcessEnv): StartSettings | null {
  let config;
  try {
    const parsed = parseCommandLine([...argv]);
    if (parsed.flags['help'] === true || parsed.command !== 'run') return null;
    config = loadConfig(env, parsed.flags);
  } catch {
    return null;
  }
  if (config.httpPort === 0) {
    throw new StartSettingsError('npm start waits for the collector on its HTTP port: give it a fixed one (--http-port / CM_HTTP_PORT), not 0');
  }
  return {
    healthUrl: `http://${reachableHost(config.httpHost)}:${config.httpPort}/healthz`,
    // The API reads the collector's database and logs at its level.
    apiEnv: { CM_DATABASE_URL: config.databaseUrl, CM_LOG_LEVEL: config.logLevel },
  };
}

/** A wildcard bind address is reached on loopback; an IPv6 literal needs brackets in a URL. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
