/**
 * Consumes Celery events from RabbitMQ into a named durable queue bound to `celeryev` with `#`,
 * so nothing is lost while the collector is down, slow or restarting. Messages are acknowledged
 * only through `acknowledge()`, which the collector calls after their transaction committed.
 * Reconnects forever with capped, jittered exponential backoff, logging every attempt.
 */
import * as amqp from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { DecodeOptions } from '../celery-event';
import { decodeAmqpMessage } from '../decode';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../backoff';
import { errorMessage, nowSeconds, type EventDelivery, type EventSource, type SourceHandlers, type SourceStatus } from '../event-source';
import type { Logger } from '../logger';
import { InterruptibleSleep, waitAtMost } from '../sleep';
import { parseAmqpUrl } from './amqp-url';

export const CELERY_EVENT_EXCHANGE = 'celeryev';
export const DEFAULT_EVENT_QUEUE = 'celery-monitor.events';
/** A connection that stayed up this long resets the backoff: losing it later reconnects at once. */
export const STABLE_CONNECTION_SECONDS = 10;
/** Longest wait in stop() for a connection attempt in flight. */
const STOP_CONNECT_WAIT_MS = 5_000;

export interface AmqpEventSourceOptions {
  name: string;
  url: string;
  /** Named durable queue (default `celery-monitor.events`). */
  queue?: string;
  /** Optional bound on the queue (x-max-length; the oldest messages are dropped past it). */
  queueMaxLength?: number | null;
  /** Optional bound on message age in the queue (x-message-ttl, ms). */
  queueMessageTtlMs?: number | null;
  /**
   * Unacknowledged messages in flight (the channel's prefetch). The collector always passes
   * CM_AMQP_PREFETCH (default 2000, apps/collector/src/config.ts); left out here, 1000.
   */
  prefetch?: number;
  decode: Omit<DecodeOptions, 'now'>;
  backoff?: BackoffOptions;
  logger: Logger;
}

interface AmqpToken {
  channel: Channel;
  message: ConsumeMessage;
}

export class AmqpEventSource implements EventSource {
  readonly transport = 'amqp' as const;
  get deliveryWindow(): number {
    return this.prefetch;
  }
  readonly name: string;
  readonly queue: string;
  private readonly prefetch: number;
  private connection: ChannelModel | null = null;
  private channel: Channel | null = null;
  private consumerTag: string | null = null;
  private handlers: SourceHandlers | null = null;
  private stopping = false;
  private paused = false;
  private connecting = false;
  /** Failed or short-lived connections since the last one that stayed up STABLE_CONNECTION_SECONDS. */
  private attempt = 0;
  /** When the current connection was established (collector clock). */
  private connectedAt = 0;
  private readonly backoffSleep = new InterruptibleSleep();
  private state: SourceStatus = { connected: false, since: nowSeconds(), lastError: null, reconnectAttempts: 0 };

  constructor(private readonly options: AmqpEventSourceOptions) {
    this.name = options.name;
    this.queue = options.queue ?? DEFAULT_EVENT_QUEUE;
    this.prefetch = options.prefetch ?? 1000;
  }

  start(handlers: SourceHandlers): void {
    this.handlers = handlers;
    void this.connectLoop();
  }

  status(): SourceStatus {
    return { ...this.state };
  }

  acknowledge(deliveries: readonly EventDelivery[]): void {
    // Deliveries are committed in arrival order, so acking the newest of each channel with
    // allUpTo covers the rest. A delivery from a closed channel needs nothing: RabbitMQ already
    // requeued it, and the log de-duplicates the redelivery.
    const newest = new Map<Channel, ConsumeMessage>();
    for (const d of deliveries) {
      const token = d.token as AmqpToken;
      const prev = newest.get(token.channel);
      if (!prev || token.message.fields.deliveryTag > prev.fields.deliveryTag) newest.set(token.channel, token.message);
    }
    for (const [channel, message] of newest) {
      if (channel !== this.channel) continue;
      try {
        channel.ack(message, true);
      } catch (error) {
        this.options.logger.warn({ source: this.name, error: errorMessage(error) }, 'ack failed; RabbitMQ will redeliver and the log will de-duplicate');
      }
    }
  }

  /**
   * Does nothing, on purpose: RabbitMQ hands over at most `prefetch` unacknowledged deliveries,
   * so the collector's pending events from this source are already bounded, and the rest waits in
   * the durable queue until commits acknowledge some. (Redis sources, which nothing bounds, stop
   * reading their socket instead.) The consumer keeps running; `pause()` is what cancels it.
   */
  throttle(_reading: 'pause' | 'resume'): void {
    // Nothing to do: the prefetch is the bound.
  }

  async pause(): Promise<void> {
    this.paused = true;
    const channel = this.channel;
    const tag = this.consumerTag;
    this.consumerTag = null;
    if (channel && tag) await channel.cancel(tag).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.backoffSleep.wake();
    // A connect in flight ends (and closes what it opened) before stop() returns; not waited for
    // longer than STOP_CONNECT_WAIT_MS (an unreachable host can take minutes to refuse).
    if (this.loop) await waitAtMost(this.loop.catch(() => undefined), STOP_CONNECT_WAIT_MS);
    await this.pause();
    const connection = this.connection;
    const channel = this.channel;
    this.connection = null;
    this.channel = null;
    // Close the channel first and wait for RabbitMQ's close-ok: by then it has processed every ack
    // sent on that channel. A connection closed right after an ack (at shutdown, pause() has
    // already cancelled the consumer, so no round trip comes between them) can lose the ack, and
    // the committed messages would be delivered again on the next start.
    if (channel) await channel.close().catch(() => undefined);
    if (connection) await connection.close().catch(() => undefined);
    this.setConnected(false, null);
  }

  async backlog(): Promise<number | null> {
    const connection = this.connection;
    if (!connection) return null;
    // A passive declare of a missing queue closes its channel: use a throwaway one.
    let channel: Channel | null = null;
    try {
      channel = await connection.createChannel();
      channel.on('error', () => undefined);
      const ok = await channel.checkQueue(this.queue);
      return ok.messageCount;
    } catch {
      return null;
    } finally {
      if (channel) await channel.close().catch(() => undefined);
    }
  }

  /** The running connect loop, if any: stop() waits for it, so nothing is declared or opened after stop() returned. */
  private loop: Promise<void> | null = null;

  private connectLoop(): Promise<void> {
    if (this.connecting) return this.loop ?? Promise.resolve();
    this.connecting = true;
    this.loop = this.runConnectLoop();
    return this.loop;
  }

  private async runConnectLoop(): Promise<void> {
    try {
      while (!this.stopping) {
        try {
          await this.connectOnce();
          return;
        } catch (error) {
          if (this.stopping) return;
          this.attempt += 1;
          this.state.reconnectAttempts += 1;
          const delayMs = backoffDelay(this.attempt, this.options.backoff ?? DEFAULT_BACKOFF);
          const message = describeConnectError(error, this.queue);
          this.state.lastError = message;
          this.options.logger.warn(
            { source: this.name, transport: 'amqp', attempt: this.attempt, retryInMs: delayMs, error: message },
            'RabbitMQ connection attempt failed; retrying',
          );
          await this.backoffSleep.sleep(delayMs);
        }
      }
    } finally {
      this.connecting = false;
    }
  }

  private async connectOnce(): Promise<void> {
    const connection = await amqp.connect(parseAmqpUrl(this.options.url), {
      clientProperties: { connection_name: `celery-monitor collector (${this.name})` },
    });
    try {
      connection.on('error', (error: unknown) => {
        this.options.logger.warn({ source: this.name, error: errorMessage(error) }, 'RabbitMQ connection error');
      });
      const channel = await connection.createChannel();
      channel.on('error', (error: unknown) => {
        this.options.logger.warn({ source: this.name, error: errorMessage(error) }, 'RabbitMQ channel error');
      });
      await channel.assertExchange(CELERY_EVENT_EXCHANGE, 'topic', { durable: true, autoDelete: false });
      const args: Record<string, number> = {};
      if (this.options.queueMaxLength) args['x-max-length'] = this.options.queueMaxLength;
      if (this.options.queueMessageTtlMs) args['x-message-ttl'] = this.options.queueMessageTtlMs;
      await channel.assertQueue(this.queue, { durable: true, autoDelete: false, exclusive: false, arguments: args });
      await channel.bindQueue(this.queue, CELERY_EVENT_EXCHANGE, '#');
      await channel.prefetch(this.prefetch);
      if (this.stopping) throw new Error('stopped while connecting');
      connection.on('close', (error?: unknown) => this.onConnectionLost(connection, error));
      channel.on('close', () => {
        // A channel closed under us (e.g. by a broker error): drop the connection and start over.
        if (this.channel === channel) void connection.close().catch(() => undefined);
      });
      this.connection = connection;
      this.channel = channel;
      if (!this.paused) {
        const { consumerTag } = await channel.consume(this.queue, (message) => this.onMessage(channel, message), { noAck: false });
        this.consumerTag = consumerTag;
      }
      // stop() ran while the consumer was being set up: it has closed (or is closing) this connection.
      if (this.stopping) return;
      // Lost while the consumer was being set up (onConnectionLost could not start a new loop: this
      // one is still running): fail this attempt, so the loop tries again.
      if (this.connection !== connection) throw new Error('connection lost while starting to consume');
      this.connectedAt = nowSeconds();
      this.setConnected(true, null);
      this.options.logger.info(
        { source: this.name, transport: 'amqp', queue: this.queue, prefetch: this.prefetch, attempt: this.attempt + 1 },
        this.paused ? 'connected to RabbitMQ; not consuming while paused' : 'consuming Celery events from RabbitMQ',
      );
      this.handlers?.onStatus({ kind: 'connected', source: this.name, at: nowSeconds(), attempt: this.attempt + 1 });
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled our consumer (queue deleted): reconnect, which re-declares it.
      this.options.logger.warn({ source: this.name, queue: this.queue }, 'RabbitMQ cancelled the consumer (queue deleted?); reconnecting');
      void this.connection?.close().catch(() => undefined);
      return;
    }
    const receivedAt = nowSeconds();
    const props = message.properties;
    const result = decodeAmqpMessage(
      {
        content: message.content,
        contentType: props.contentType ?? null,
        contentEncoding: props.contentEncoding ?? null,
        headers: (props.headers as Record<string, unknown> | undefined) ?? null,
        routingKey: message.fields.routingKey,
      },
      { ...this.options.decode, now: receivedAt },
    );
    const token: AmqpToken = { channel, message };
    this.handlers?.onDelivery({ source: this.name, receivedAt, result, token, redelivered: message.fields.redelivered });
  }

  private onConnectionLost(connection: ChannelModel, error?: unknown): void {
    if (this.connection !== connection) return;
    this.connection = null;
    this.channel = null;
    this.consumerTag = null;
    const message = error ? errorMessage(error) : 'connection closed';
    this.setConnected(false, message);
    if (this.stopping) return;
    this.options.logger.warn({ source: this.name, transport: 'amqp', error: message }, 'lost RabbitMQ connection; unacknowledged messages will be redelivered');
    this.handlers?.onStatus({ kind: 'disconnected', source: this.name, at: nowSeconds(), error: message });
    const lived = nowSeconds() - this.connectedAt;
    if (lived >= STABLE_CONNECTION_SECONDS) {
      this.attempt = 0;
      void this.connectLoop();
      return;
    }
    // Lost soon after connecting (a channel error on every delivery, a broker that closes us at
    // once): back off as for a failed attempt instead of reconnecting in a tight loop.
    this.attempt += 1;
    this.state.reconnectAttempts += 1;
    const delayMs = backoffDelay(this.attempt, this.options.backoff ?? DEFAULT_BACKOFF);
    this.options.logger.warn(
      { source: this.name, transport: 'amqp', attempt: this.attempt, retryInMs: delayMs, connectedForSeconds: Math.round(lived * 1000) / 1000 },
      'RabbitMQ connection lost soon after it was established; backing off before reconnecting',
    );
    void this.backoffSleep.sleep(delayMs).then(() => {
      if (!this.stopping) void this.connectLoop();
    });
  }

  private setConnected(connected: boolean, error: string | null): void {
    if (this.state.connected !== connected) this.state.since = nowSeconds();
    this.state.connected = connected;
    if (error !== null) this.state.lastError = error;
    if (connected) this.state.lastError = null;
  }
}

function describeConnectError(error: unknown, queue: string): string {
  const message = errorMessage(error);
  if (/PRECONDITION_FAILED/.test(message) && /queue/i.test(message)) {
    return `${message} — queue "${queue}" already exists with other arguments (durability, x-max-length or x-message-ttl): match the settings, or delete the queue (rabbitmqctl delete_queue ${queue}) to let the collector re-create it`;
  }
  if (/PRECONDITION_FAILED/.test(message) && /exchange/i.test(message)) {
    return `${message} — exchange "${CELERY_EVENT_EXCHANGE}" exists with other properties; Celery declares it topic, durable, not auto-delete`;
  }
  if (/ACCESS_REFUSED/.test(message)) return `${message} — check the user name and password in the broker URL`;
  if (/NOT_ALLOWED/.test(message)) return `${message} — check the vhost in the broker URL and the user's permissions on it`;
  return message;
}
