/**
 * API entry point: GraphQL over the collector's database at /graphql (HTTP and graphql-ws),
 * /healthz, /readyz, /metrics. Exit codes: 0 ok, 1 failure, 2 bad configuration.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger } from '../../libs/logging/src/logger';
import { ApiMetrics } from './src/api-metrics';
import { AppModule } from './src/app.module';
import { ApiConfigError, loadApiConfig } from './src/config';

async function main(): Promise<number> {
  let config;
  try {
    config = loadApiConfig(process.env);
  } catch (error) {
    if (error instanceof ApiConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, 'api');
  const metrics = new ApiMetrics();
  const app = await NestFactory.create(AppModule.forRoot(config, logger, metrics), { logger: ['error', 'warn'] });
  // No enableShutdownHooks(): its own signal listener re-raises the signal after closing, racing
  // the handler below (the process then ended with 143 instead of 0). app.close() runs the hooks.
  await app.listen(config.port, config.host);
  const url = await app.getUrl();
  logger.info({ url: `${url}/graphql`, port: (app.getHttpServer().address() as { port: number }).port }, 'API listening');
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      void app.close().then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'API failed', error: error instanceof Error ? error.stack : String(error) })}\n`);
    process.exit(1);
  },
);
