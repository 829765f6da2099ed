/**
 * Publishes a generated Celery workload (test/bench/workload.ts) to one RabbitMQ queue through a
 * private, auto-deleted topic exchange bound to it with `#`: Celery's routing keys and properties,
 * and no other consumer of `celeryev` on the shared broker sees the traffic.
 */
import * as amqp from 'amqplib';
import type { Workload } from '../bench/workload';

export async function publishWorkload(amqpUrl: string, queue: string, exchange: string, workload: Workload): Promise<void> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
    await channel.bindQueue(queue, exchange, '#');
    for (const m of workload.messages) {
      channel.publish(exchange, m.routingKey, m.body, { contentType: 'application/json', contentEncoding: 'utf-8', headers: { hostname: m.hostname }, deliveryMode: 1 });
    }
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}
