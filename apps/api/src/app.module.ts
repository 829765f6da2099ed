/** The API application: GraphQL (HTTP + graphql-ws on /graphql), health and metrics. */
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, type DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import type { AppLogger } from '../../../libs/logging/src/logger';
import { ApiMetrics } from './api-metrics';
import type { ApiConfig } from './config';
import { operationsPlugin } from './graphql/operations.plugin';
import { HealthController } from './health.controller';
import { StateModule } from './state.module';
import { WorkersModule } from './workers/workers.module';

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig, logger: AppLogger, metrics: ApiMetrics): DynamicModule {
    const limits = { maxDepth: config.maxDepth, maxComplexity: config.maxComplexity, defaultPageSize: config.defaultPageSize };
    return {
      module: AppModule,
      imports: [
        StateModule.forRoot(config, logger, metrics),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: '/graphql',
          autoSchemaFile: true,
          sortSchema: true,
          // graphql-ws on the same path; the legacy subscriptions-transport-ws protocol stays off.
          subscriptions: { 'graphql-ws': { path: '/graphql' } },
          introspection: true,
          playground: false,
          includeStacktraceInErrorResponses: false,
          plugins: [operationsPlugin(metrics, limits)],
        }),
        WorkersModule,
      ],
      controllers: [HealthController],
    };
  }
}
