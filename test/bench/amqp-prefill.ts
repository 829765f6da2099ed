/**
 * Fills a RabbitMQ queue with the workload before its consumer starts.
 *
 * Messages go through a private, auto-deleted topic exchange bound to the queue with `#`, with
 * Celery's routing keys and properties (application/json, utf-8, headers {hostname},
 * delivery_mode 1, priority 0). Nothing is published to `celeryev`, so no other consumer on this
 * broker sees the benchmark's traffic.
 */
import * as amqp from 'amqplib';
import type { WorkloadMessage } from './workload';

export const CELERY_EVENT_EXCHANGE = 'celeryev';

export interface PrefillOptions {
  url: string;
  queue: string;
  benchExchange: string;
  /** Also declare celeryev and bind the queue to it with `#`, exactly as the collector does. */
  asCollector: boolean;
}

export async function prefillQueue(options: PrefillOptions, messages: readonly WorkloadMessage[]): Promise<{ messages: number; seconds: number }> {
  const started = Date.now();
  const connection = await amqp.connect(options.url);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(options.benchExchange, 'topic', { durable: false, autoDelete: true });
    if (options.asCollector) {
      await channel.assertExchange(CELERY_EVENT_EXCHANGE, 'topic', { durable: true, autoDelete: false });
      await channel.assertQueue(options.queue, { durable: true, autoDelete: false, exclusive: false, arguments: {} });
      await channel.bindQueue(options.queue, CELERY_EVENT_EXCHANGE, '#');
    } else {
      await channel.assertQueue(options.queue, { durable: true, autoDelete: false, exclusive: false });
    }
    await channel.bindQueue(options.queue, options.benchExchange, '#');
    const before = (await channel.checkQueue(options.queue)).messageCount;
    for (const m of messages) {
      const ok = channel.publish(options.benchExchange, m.routingKey, m.body, {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: { hostname: m.hostname },
        deliveryMode: 1,
        priority: 0,
      });
      if (!ok) await new Promise((r) => channel.once('drain', r));
    }
    await channel.waitForConfirms();
    const after = (await channel.checkQueue(options.queue)).messageCount;
    if (after - before < messages.length) {
      throw new Error(`queue ${options.queue} holds ${after - before} new messages after publishing ${messages.length}`);
    }
    await channel.close();
    return { messages: messages.length, seconds: (Date.now() - started) / 1000 };
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export async function deleteQueue(url: string, queue: string): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.deleteQueue(queue).catch(() => undefined);
    await channel.close().catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
