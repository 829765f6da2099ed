/**
 * Minimal raw Celery event taps (no collector code involved) and broker cleanup, for tests that
 * need to see exactly what real workers put on the wire.
 */
import * as amqp from 'amqplib';
import { Redis } from 'ioredis';

export interface RawCeleryEvent {
  /** AMQP routing key, or the part of the Redis channel after `celeryev/`. */
  routingKey: string;
  /** True when the event was one element of a JSON array body (`task.multi`). */
  batched: boolean;
  /** Index of this message among all messages seen by the tap. */
  messageIndex: number;
  /** The message headers (AMQP properties.headers / kombu envelope headers). */
  headers: Record<string, unknown>;
  /** The decoded event. */
  event: Record<string, unknown> & { type?: string; uuid?: string; hostname?: string };
}

export interface RawEventTap {
  readonly events: RawCeleryEvent[];
  /** Messages whose body was not valid JSON (with the reason). */
  readonly undecodable: { routingKey: string; reason: string }[];
  /** Number of broker messages received (an array body counts once). */
  messageCount(): number;
  find(predicate: (e: RawCeleryEvent) => boolean): RawCeleryEvent | undefined;
  close(): Promise<void>;
}

export function isRedisUrl(url: string): boolean {
  return url.startsWith('redis://') || url.startsWith('rediss://');
}

function redisDb(url: string): number {
  const db = new URL(url).pathname.replace(/^\//, '');
  return db === '' ? 0 : Number(db);
}

function createSink(): {
  events: RawCeleryEvent[];
  undecodable: { routingKey: string; reason: string }[];
  count: () => number;
  push: (routingKey: string, headers: Record<string, unknown>, text: string) => void;
} {
  const events: RawCeleryEvent[] = [];
  const undecodable: { routingKey: string; reason: string }[] = [];
  let messages = 0;
  const push = (routingKey: string, headers: Record<string, unknown>, text: string): void => {
    const messageIndex = messages++;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      undecodable.push({ routingKey, reason: err instanceof Error ? err.message : String(err) });
      return;
    }
    const list = Array.isArray(body) ? body : [body];
    for (const item of list) {
      if (item && typeof item === 'object' && !Array.isArray(item)) {
        events.push({ routingKey, batched: Array.isArray(body), messageIndex, headers, event: item as RawCeleryEvent['event'] });
      } else {
        undecodable.push({ routingKey, reason: `not an event object: ${JSON.stringify(item)}` });
      }
    }
  };
  return { events, undecodable, count: () => messages, push };
}

/** Binds an exclusive auto-delete queue to `celeryev` with `#` (RabbitMQ). */
async function openAmqpTap(url: string): Promise<RawEventTap> {
  const sink = createSink();
  const connection = await amqp.connect(url);
  connection.on('error', () => undefined); // surfaced through close() / missing events instead
  const channel = await connection.createChannel();
  await channel.assertExchange('celeryev', 'topic', { durable: true, autoDelete: false });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await channel.bindQueue(queue, 'celeryev', '#');
  await channel.consume(
    queue,
    (msg) => {
      if (!msg) return;
      sink.push(msg.fields.routingKey, (msg.properties.headers ?? {}) as Record<string, unknown>, msg.content.toString('utf8'));
    },
    { noAck: true },
  );
  return {
    events: sink.events,
    undecodable: sink.undecodable,
    messageCount: sink.count,
    find: (p) => sink.events.find(p),
    close: async () => {
      await connection.close().catch(() => undefined);
    },
  };
}

interface KombuEnvelope {
  body?: string;
  headers?: Record<string, unknown>;
  properties?: { body_encoding?: string; delivery_info?: { routing_key?: string } };
}

/** `PSUBSCRIBE /<db>.celeryev/*` and unwraps kombu envelopes (Redis). */
async function openRedisTap(url: string): Promise<RawEventTap> {
  const sink = createSink();
  const db = redisDb(url);
  const prefix = `/${db}.celeryev/`;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  redis.on('pmessage', (_pattern: string, channel: string, message: string) => {
    let routingKey = channel.startsWith(prefix) ? channel.slice(prefix.length) : channel;
    let envelope: KombuEnvelope;
    try {
      envelope = JSON.parse(message) as KombuEnvelope;
    } catch (err) {
      sink.undecodable.push({ routingKey, reason: `envelope: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    routingKey = envelope.properties?.delivery_info?.routing_key ?? routingKey;
    const raw = envelope.body ?? '';
    const text = envelope.properties?.body_encoding === 'base64' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    sink.push(routingKey, envelope.headers ?? {}, text);
  });
  await redis.psubscribe(`${prefix}*`);
  return {
    events: sink.events,
    undecodable: sink.undecodable,
    messageCount: sink.count,
    find: (p) => sink.events.find(p),
    close: async () => {
      redis.disconnect();
    },
  };
}

/** Starts receiving every Celery event published on the broker (before starting workers!). */
export function openRawEventTap(brokerUrl: string): Promise<RawEventTap> {
  return isRedisUrl(brokerUrl) ? openRedisTap(brokerUrl) : openAmqpTap(brokerUrl);
}

/**
 * Removes a (test-only) task queue that Celery declared: the durable AMQP queue, or the Redis lists
 * (all priority variants) and the kombu binding set of its direct exchange.
 */
export async function deleteTestQueue(brokerUrl: string, queue: string): Promise<void> {
  if (isRedisUrl(brokerUrl)) {
    const redis = new Redis(brokerUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      const sep = '\x06\x16';
      await redis.del(queue, `${queue}${sep}3`, `${queue}${sep}6`, `${queue}${sep}9`, `_kombu.binding.${queue}`);
    } finally {
      redis.disconnect();
    }
    return;
  }
  const connection = await amqp.connect(brokerUrl);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined); // a failed delete closes the channel; do not crash
    await channel.deleteQueue(queue);
    await channel.deleteExchange(queue).catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
