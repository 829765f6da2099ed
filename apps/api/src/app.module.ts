/** The API application: GraphQL (HTTP + graphql-ws on /graphql), health and metrics. */
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { GraphQLErrorFilter } from './graphql/graphql-error.filter';
import type { AppLogger } from '../../../libs/logging/src/logger';
import { ApiMetrics } from './api-metrics';
import type { ApiConfig } from './config';
import { operationsPlugin } from './graphql/operations.plugin';
import { EventsModule } from './events/events.module';
import { HealthController } from './health.controller';
import { LiveModule } from './live/live.module';
import { SubscriptionLimits } from './live/subscription-limits';
import { StateModule } from './state.module';
import { StatsModule } from './stats/stats.module';
import { TasksModule } from './tasks/tasks.module';
import { WorkersModule } from './workers/workers.module';
import { SCHEMA_OPTIONS } from './schema-options';

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig, logger: AppLogger, metrics: ApiMetrics): DynamicModule {
    const limits = { maxDepth: config.maxDepth, maxComplexity: config.maxComplexity, defaultPageSize: config.defaultPageSize, maxPageSize: config.maxPageSize };
    const wsLimits = new SubscriptionLimits(limits, metrics);
    // Subscriptions: graphql-ws on the same path, served by LiveModule's own endpoint (see
    // live/graphql-ws-server.ts), not by Nest's `subscriptions` option; the legacy
    // subscriptions-transport-ws protocol is refused there.
    return {
      module: AppModule,
      imports: [
        StateModule.forRoot(config, logger, metrics),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: '/graphql',
          autoSchemaFile: true,
          buildSchemaOptions: SCHEMA_OPTIONS,
          sortSchema: true,
          introspection: true,
          playground: false,
          includeStacktraceInErrorResponses: false,
          plugins: [operationsPlugin(metrics, limits)],
        }),
        WorkersModule,
        TasksModule,
        EventsModule,
        StatsModule,
        LiveModule.forRoot(wsLimits),
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: GraphQLErrorFilter }],
    };
  }
}
