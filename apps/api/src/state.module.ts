/**
 * Provides the database (opened once, migrated idempotently) and the read-query repositories to
 * every module of the API.
 */
import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { EventQueries, migrateToLatest, openDatabase, StatsQueries, TaskQueries, WorkerQueries, type Database } from '../../../libs/state/src';
import type { AppLogger } from '../../../libs/logging/src/logger';
import { ApiMetrics } from './api-metrics';
import type { ApiConfig } from './config';
import { API_CONFIG, DATABASE, LOGGER } from './tokens';

@Global()
@Module({})
export class StateModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

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
            const database = openDatabase(config.databaseUrl, { onQuery: (ms) => metrics.recordStatement(ms) });
            await migrateToLatest(database);
            logger.info({ database: database.description }, 'database open');
            return database;
          },
        },
        { provide: WorkerQueries, inject: [DATABASE], useFactory: (database: Database) => new WorkerQueries(database.db) },
        { provide: TaskQueries, inject: [DATABASE], useFactory: (database: Database) => new TaskQueries(database.db) },
        { provide: EventQueries, inject: [DATABASE], useFactory: (database: Database) => new EventQueries(database.db) },
        { provide: StatsQueries, inject: [DATABASE], useFactory: (database: Database) => new StatsQueries(database) },
      ],
      exports: [API_CONFIG, LOGGER, ApiMetrics, DATABASE, WorkerQueries, TaskQueries, EventQueries, StatsQueries],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
