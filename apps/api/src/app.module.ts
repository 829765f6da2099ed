/** The API application: GraphQL (HTTP + graphql-ws on /graphql), health and metrics. */
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, type DynamicModule } from '@nestjs/common';
import type { subscribe } from 'graphql';
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
import { sharedSubscribe } from './live/shared-execution';
import { SubscriptionLimits } from './live/subscription-limits';
import { StateModule } from './state.module';
import { StatsModule } from './stats/stats.module';
import { TasksModule } from './tasks/tasks.module';
import { WorkersModule } from './workers/workers.module';

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig, logger: AppLogger, metrics: ApiMetrics): DynamicModule {
    const limits = { maxDepth: config.maxDepth, maxComplexity: config.maxComplexity, defaultPageSize: config.defaultPageSize, maxPageSize: config.maxPageSize };
    const wsLimits = new SubscriptionLimits(limits, metrics);
    // graphql-ws on the same path, with the depth/cost limits in onSubscribe; the legacy
    // subscriptions-transport-ws protocol stays off. Nest hands `subscribe` to graphql-ws: one
    // execution per event and operation, shared by its subscribers (not in Nest's config type).
    const subscriptions = {
      'graphql-ws': { path: '/graphql', onSubscribe: wsLimits.onSubscribe },
      subscribe: sharedSubscribe as unknown as typeof subscribe,
    };
    return {
      module: AppModule,
      imports: [
        StateModule.forRoot(config, logger, metrics),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: '/graphql',
          autoSchemaFile: true,
          sortSchema: true,
          subscriptions,
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
