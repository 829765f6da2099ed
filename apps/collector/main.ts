/**
 * Collector entry point: `run` (default) consumes events; `migrate` applies migrations;
 * `rebuild` replays the event log into fresh projections. Exit codes: 0 ok, 1 failure,
 * 2 bad configuration.
 */
import { existsSync } from 'node:fs';
import { EventStore, migrateToLatest } from '../../libs/state/src';
import { Collector } from './src/collector';
import { ConfigError, helpText, loadConfig, parseCommandLine } from './src/config';
import { createLogger } from '../../libs/logging/src/logger';
import { rebuildProgressReporter } from './src/rebuild-progress';

/** Longest wait, after the shutdown timeout, for the writer thread to end before exiting anyway. */
const ABORT_WAIT_MS = 12_000;

async function main(): Promise<number> {
  let command: string;
  let config;
  try {
    const parsed = parseCommandLine(process.argv.slice(2));
    if (parsed.flags.help) {
      process.stdout.write(helpText());
      return 0;
    }
    command = parsed.command;
    config = loadConfig(process.env, parsed.flags);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n\nRun with --help for every setting.\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, 'collector');

  if (command === 'migrate') {
    const store = await EventStore.open(config.databaseUrl, { migrate: false });
    try {
      const results = await migrateToLatest(store.database);
      logger.info({ database: store.description, applied: results.map((r) => r.migrationName) }, results.length ? 'migrations applied' : 'database already up to date');
    } finally {
      await store.close();
    }
    return 0;
  }

  if (command === 'rebuild') {
    // A mistyped path would otherwise create an empty database and "rebuild" nothing.
    const file = /^sqlite:(.+)$/.exec(config.databaseUrl)?.[1];
    if (file !== undefined && file !== ':memory:' && !existsSync(file)) {
      process.stderr.write(`rebuild: no database at ${file} (CM_DATABASE_URL / --database): point it at the collector's SQLite file\n`);
      return 2;
    }
    const store = await EventStore.open(config.databaseUrl, {
      migrate: false,
      sqliteSynchronous: config.sqliteSynchronous,
      liveness: { expiryFactor: config.liveness.expiryFactor, defaultFreq: config.liveness.defaultFreq },
    });
    try {
      // A mistyped Postgres schema (or an empty file) would otherwise get fresh tables and a
      // "rebuild" of nothing.
      if (!(await store.hasEventLog())) {
        process.stderr.write(`rebuild: no event log in ${store.description} (CM_DATABASE_URL / --database): point it at the collector's database\n`);
        return 2;
      }
      await migrateToLatest(store.database);
      const started = Date.now();
      const { done } = await store.rebuildProjections(rebuildProgressReporter(logger));
      logger.info({ database: store.description, events: done, seconds: (Date.now() - started) / 1000 }, 'projections rebuilt from the event log');
    } finally {
      await store.close();
    }
    return 0;
  }

  const collector = await Collector.open(config, logger);
  await collector.start();
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'received signal');
      const guard = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown took too long; exiting (unacknowledged messages will be redelivered)');
        // The SQLite writer thread may be waiting out a lock inside SQLite (up to its 10 s busy
        // timeout): exiting under it aborts Node (exit 134). End it first, within a bound.
        const cap = setTimeout(() => process.exit(1), ABORT_WAIT_MS);
        void collector.abort().finally(() => {
          clearTimeout(cap);
          process.exit(1);
        });
      }, config.shutdownTimeoutMs);
      guard.unref();
      collector.stop().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        resolve();
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'collector failed', error: error instanceof Error ? error.stack : String(error) })}\n`);
    process.exit(1);
  },
);
