/**
 * Live subscriptions: the process's one log tail (started before the server listens, stopped
 * before the database closes), the hub that creates subscriptions on it, their resolver, and
 * TAIL_HEALTH for /readyz. Also attaches the schema to the WebSocket depth/cost limits.
 */
import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { Server as HttpServer } from 'node:http';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { LiveQueries, type CommitListener, type Database } from '../../../../libs/state/src';
import type { AppLogger } from '../../../../libs/logging/src/logger';
import { ApiMetrics } from '../api-metrics';
import type { ApiConfig } from '../config';
import { API_CONFIG, DATABASE, LOGGER, TAIL_HEALTH } from '../tokens';
import { LiveHub } from './live-hub';
import { LiveResolver } from './live.resolver';
import { LogTailer } from './log-tailer';
import { listenForCommits } from './commit-wakeup';
import { SubscriptionLimits } from './subscription-limits';
import { GraphqlWsServer } from './graphql-ws-server';
import { sharedSubscribe } from './shared-execution';

/** Postgres: the collector announces its commits (NOTIFY); the tail polls on each. Null on SQLite. */
const COMMIT_LISTENER = Symbol('COMMIT_LISTENER');

@Module({})
export class LiveModule implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private wsServer: GraphqlWsServer | null = null;

  constructor(
    @Inject(LogTailer) private readonly tailer: LogTailer,
    @Inject(COMMIT_LISTENER) private readonly commits: CommitListener | null,
    @Inject(SubscriptionLimits) private readonly limits: SubscriptionLimits,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  /** `limits` is the object whose onSubscribe the GraphQL module's graphql-ws options use. */
  static forRoot(limits: SubscriptionLimits): DynamicModule {
    return {
      module: LiveModule,
      providers: [
        { provide: SubscriptionLimits, useValue: limits },
        // The tail's reads are short (one bounded page by position) and run every poll: on the main
        // connection they cost less than a trip to a thread, and they never wait behind a slow
        // query, which runs on the reader threads.
        { provide: LiveQueries, inject: [DATABASE], useFactory: (database: Database) => new LiveQueries(database) },
        {
          provide: LogTailer,
          inject: [LiveQueries, API_CONFIG, ApiMetrics, LOGGER],
          useFactory: (queries: LiveQueries, config: ApiConfig, metrics: ApiMetrics, logger: AppLogger) =>
            new LogTailer(queries, {
              intervalMs: config.tailIntervalMs,
              notifiedIntervalMs: config.tailNotifiedIntervalMs,
              onPosition: (p) => metrics.tailPosition.set(p),
              logger,
            }),
        },
        { provide: COMMIT_LISTENER, inject: [DATABASE, LogTailer, LOGGER], useFactory: listenForCommits },
        { provide: TAIL_HEALTH, useExisting: LogTailer },
        {
          provide: LiveHub,
          inject: [LogTailer, API_CONFIG, ApiMetrics, LOGGER],
          useFactory: (tailer: LogTailer, config: ApiConfig, metrics: ApiMetrics, logger: AppLogger) =>
            new LiveHub(tailer, { capacity: config.subscriberBuffer, metrics, logger }),
        },
        LiveResolver,
      ],
      exports: [TAIL_HEALTH],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.tailer.start();
    this.commits?.start();
  }

  /** Serves graphql-ws on /graphql once the schema exists (before the server listens). */
  onApplicationBootstrap(): void {
    const schema = this.moduleRef.get(GraphQLSchemaHost, { strict: false }).schema;
    this.limits.attach(schema);
    const logger = this.moduleRef.get<AppLogger>(LOGGER, { strict: false });
    // One execution per event and operation, shared by its subscribers (shared-execution.ts);
    // depth and cost limits in onSubscribe.
    this.wsServer = new GraphqlWsServer({ path: '/graphql', logger, engine: { schema, onSubscribe: this.limits.onSubscribe, subscribe: sharedSubscribe } });
    this.wsServer.attach(this.moduleRef.get(HttpAdapterHost, { strict: false }).httpAdapter.getHttpServer() as HttpServer);
  }

  async onModuleDestroy(): Promise<void> {
    await this.wsServer?.close();
    await this.commits?.stop();
    await this.tailer.stop();
  }
}
