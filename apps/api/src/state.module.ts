/**
 * Provides the database (opened once, migrated idempotently) and the read-query repositories to
 * every module of the API.
 */
import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { EventQueries, migrateToLatest, openDatabase, StatsQueries, TaskQueries, WorkerQueries, type Database, type ReadPool } from '../../../libs/state/src';
import type { AppLogger } from '../../../libs/logging/src/logger';
import { ApiMetrics } from './api-metrics';
import type { ApiConfig } from './config';
import { API_CONFIG, DATABASE, LOGGER, QUERY_READS } from './tokens';

@Global()
@Module({})
export class StateModule implements OnApplicationShutdown {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(QUERY_READS) private readonly queryReads: ReadPool,
  ) {}

  static forRoot(config: ApiConfig, logger: AppLogger, metrics: ApiMetrics): DynamicModule {
    return {
      module: StateModule,
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: ApiMetrics, useValue: metrics },
        {
          provide: DATABASE,
          useFactory: async () => {
            const database = openDatabase(config.databaseUrl, {
              onQuery: (ms) => metrics.recordStatement(ms),
              onConnectionError: (message) => logger.warn(message),
            });
            await migrateToLatest(database);
            logger.info({ database: database.description }, 'database open');
            return database;
          },
        },
        // Opened after the migration (the reader threads only read an existing file).
        { provide: QUERY_READS, inject: [DATABASE], useFactory: (database: Database) => readPool(database, config.sqliteReaders) },
        { provide: WorkerQueries, inject: [DATABASE], useFactory: (database: Database) => new WorkerQueries(database.db) },
        {
          provide: TaskQueries,
          inject: [DATABASE, QUERY_READS],
          useFactory: (database: Database, reads: ReadPool) => new TaskQueries(database.db, { scans: reads.db }),
        },
        { provide: EventQueries, inject: [QUERY_READS], useFactory: (reads: ReadPool) => new EventQueries(reads.db) },
        { provide: StatsQueries, inject: [DATABASE], useFactory: (database: Database) => new StatsQueries(database) },
      ],
      exports: [API_CONFIG, LOGGER, ApiMetrics, DATABASE, WorkerQueries, TaskQueries, EventQueries, StatsQueries],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queryReads.close();
    await this.database.close();
  }
}

/** `threads` reader threads on a SQLite file; the database's own connection when 0 (and on Postgres: its pool). */
async function readPool(database: Database, threads: number): Promise<ReadPool> {
  if (threads === 0) return { db: database.db, close: async () => undefined };
  const pool = database.openReadPool(threads);
  // Start the threads now: a file they cannot open fails the start-up, with the reason.
  await pool.db.selectFrom('events').select('position').limit(1).execute();
  return pool;
}
