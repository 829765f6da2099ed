/** Builds the configured broker sources. */
import { AmqpEventSource, RedisEventSource, type EventSource, type Logger } from '../../../libs/broker/src';
import type { CollectorConfig } from './config';

export function createEventSources(config: CollectorConfig, logger: Logger): EventSource[] {
  return config.brokers.map((broker) =>
    broker.transport === 'amqp'
      ? new AmqpEventSource({
          name: broker.name,
          url: broker.url,
          queue: config.amqp.queue,
          queueMaxLength: config.amqp.queueMaxLength,
          queueMessageTtlMs: config.amqp.queueMessageTtlMs,
          prefetch: config.amqp.prefetch,
          decode: config.decode,
          logger,
        })
      : new RedisEventSource({
          name: broker.name,
          url: broker.url,
          globalKeyprefix: config.redis.globalKeyprefix,
          fanoutPrefix: config.redis.fanoutPrefix,
          fanoutPatterns: config.redis.fanoutPatterns,
          wakeWorkers: config.redis.wakeWorkers,
          decode: config.decode,
          logger,
        }),
  );
}
