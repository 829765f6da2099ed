/** An AMQP (RabbitMQ) event message → events and rejections. */
import type { DecodeOptions, DecodeResult } from '../celery-event';
import { decodeEventBody } from './event-body';

/** What the consumer hands over from an amqplib message (content + properties + routing key). */
export interface AmqpEventMessage {
  content: Buffer;
  contentType?: string | null;
  contentEncoding?: string | null;
  headers?: Record<string, unknown> | null;
  routingKey: string;
}

export function decodeAmqpMessage(msg: AmqpEventMessage, opts: DecodeOptions): DecodeResult {
  const headers = msg.headers;
  return decodeEventBody(
    msg.content,
    {
      contentType: msg.contentType ?? null,
      contentEncoding: msg.contentEncoding ?? null,
      routingKey: msg.routingKey,
      compressed: headers !== null && headers !== undefined && typeof headers === 'object' && Boolean(headers.compression),
    },
    opts,
  );
}
