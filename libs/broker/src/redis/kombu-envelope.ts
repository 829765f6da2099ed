/** kombu's Redis message envelope, for what we publish (control broadcasts). */
import { randomUUID } from 'node:crypto';

export function kombuEnvelope(body: unknown, exchange: string, routingKey: string, headers: Record<string, unknown>, deliveryMode = 2): string {
  return JSON.stringify({
    body: Buffer.from(JSON.stringify(body), 'utf8').toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers,
    properties: {
      delivery_mode: deliveryMode,
      delivery_info: { exchange, routing_key: routingKey },
      priority: 0,
      body_encoding: 'base64',
      delivery_tag: randomUUID(),
    },
  });
}
