/**
 * Listens to Celery events on Redis pub/sub (PSUBSCRIBE /{db}.celeryev/*, honouring kombu's
 * global_keyprefix / fanout_prefix / fanout_patterns). Pub/sub keeps nothing while nobody
 * listens: every (re)subscription reports a gap naming the interval and broadcasts `heartbeat`
 * so workers announce themselves at once. Reconnects with capped, jittered backoff.
 */
import Redis from 'ioredis';
import type { DecodeOptions } from '../celery-event';
import { decodeRedisMessage } from '../decode';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../backoff';
import { errorMessage, nowSeconds, type EventDelivery, type EventSource, type SourceHandlers, type SourceStatus } from '../event-source';
import type { Logger } from '../logger';
import { heartbeatBroadcast, PIDBOX_EXCHANGE } from '../control/heartbeat-broadcast';
import { waitAtMost } from '../sleep';
import { kombuEnvelope } from './kombu-envelope';
import { eventSubscription, fanoutChannel, redisDbFromUrl, type KombuRedisOptions } from './redis-channels';

export interface RedisEventSourceOptions {
  name: string;
  url: string;
  globalKeyprefix?: string;
  fanoutPrefix?: boolean | string;
  fanoutPatterns?: boolean;
  decode: Omit<DecodeOptions, 'now'>;
  backoff?: BackoffOptions;
  /** Broadcast `heartbeat` after each (re)subscription (default true). */
  wakeWorkers?: boolean;
  /**
   * A subscriber only reads, so a connection that died silently (a NAT timeout, a lost host) would
   * look alive for hours: every `pingIntervalMs` (default 5000) it sends PING, and reconnects when
   * no answer comes within `pingTimeoutMs` (default 5000). Not while reading is throttled.
   */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  logger: Logger;
}

/** Longest wait for the unsubscribe reply when stopping (a dead connection never sends it). */
const UNSUBSCRIBE_TIMEOUT_MS = 2000;

export class RedisEventSource implements EventSource {
  readonly transport = 'redis' as const;
  readonly deliveryWindow = null;
  readonly name: string;
  private readonly kombu: KombuRedisOptions;
  private subscriber: Redis | null = null;
  private publisher: Redis | null = null;
  private handlers: SourceHandlers | null = null;
  private disconnectedAt: number | null = null;
  private everSubscribed = false;
  private paused = false;
  private stopping = false;
  private throttled = false;
  /** Collector time of the last thing read from the subscriber (a message, a PING reply, the subscription): events published after it may be lost if the connection is. */
  private lastHeardAt: number | null = null;
  /**
   * When reading was paused (throttle), until a PING sent after it is answered. Redis may have
   * dropped the connection meanwhile (its output buffer limit): what was already in the socket is
   * still read on resume, so the last read proves nothing, and a gap starts here at the latest.
   */
  private unverifiedSince: number | null = null;
  /** Counts pauses in reading: a PING answer verifies the connection only if none began after it was sent. */
  private pauses = 0;
  /** A subscriber declared lost by checkListed whose socket has not closed (yet). */
  private unlisted: Redis | null = null;
  /** The subscriber connection's CLIENT ID (null where Redis does not tell it). */
  private subscriberId: { subscriber: Redis; id: number } | null = null;
  /** Counts `ready`s: a subscription that completes after a newer one began is not reported. */
  private readyGeneration = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private pinging = false;
  /** A CLIENT LIST check (checkListed) is in flight. */
  private listing = false;
  private state: SourceStatus = { connected: false, since: nowSeconds(), lastError: null, reconnectAttempts: 0 };

  constructor(private readonly options: RedisEventSourceOptions) {
    this.name = options.name;
    this.kombu = {
      db: redisDbFromUrl(options.url),
      globalKeyprefix: options.globalKeyprefix ?? '',
      fanoutPrefix: options.fanoutPrefix ?? true,
      fanoutPatterns: options.fanoutPatterns ?? true,
    };
  }

  get subscription(): { mode: 'pattern' | 'channel'; name: string } {
    return eventSubscription(this.kombu);
  }

  start(handlers: SourceHandlers): void {
    this.handlers = handlers;
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    const subscriber = new Redis(this.options.url, {
      lazyConnect: true,
      autoResubscribe: false, // we resubscribe ourselves, to know when listening resumed
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      connectionName: `celery-monitor:${this.name}`,
      retryStrategy: (attempt) => {
        if (this.stopping) return null;
        const delayMs = backoffDelay(attempt, backoff);
        this.state.reconnectAttempts += 1;
        const fields = { source: this.name, transport: 'redis', attempt, retryInMs: delayMs, error: this.state.lastError };
        // ioredis asks after every close: the first time after a working connection is no failed attempt (its loss is logged already).
        if (attempt === 1 && this.everSubscribed) this.options.logger.info(fields, 'reconnecting to Redis');
        else this.options.logger.warn(fields, 'Redis connection attempt failed; retrying');
        return delayMs;
      },
    });
    this.subscriber = subscriber;
    subscriber.on('error', (error: unknown) => {
      this.state.lastError = errorMessage(error);
    });
    subscriber.on('close', () => this.onClose());
    subscriber.on('ready', () => void this.onReady(subscriber));
    subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    subscriber.connect().catch((error: unknown) => {
      // retryStrategy keeps trying; this only reports the first failure.
      this.state.lastError = errorMessage(error);
    });
    this.pingTimer = setInterval(() => void this.checkAlive(subscriber), this.options.pingIntervalMs ?? 5000);
    this.pingTimer.unref();
  }

  /**
   * PINGs a subscribed connection; no answer in time means it is dead: reconnect (a gap follows).
   * While reading is throttled, asks Redis on the control connection whether the subscriber is
   * still there instead.
   */
  private async checkAlive(subscriber: Redis): Promise<void> {
    // A subscriber Redis no longer lists (checkListed) is PINGed once reading resumes, then
    // replaced: its close may never come (a dead network path), or Redis answered for another
    // server (the new connection's gap then claims a loss that did not happen: the safe side).
    const unlisted = this.unlisted === subscriber;
    if ((!this.state.connected && !unlisted) || this.paused || this.stopping || subscriber.status !== 'ready') return;
    // While throttled, a PING sent before the pause waits unread: the check has its own flag.
    if (this.throttled) return unlisted || this.listing ? undefined : this.checkListed(subscriber);
    if (this.pinging) return;
    this.pinging = true;
    const timeoutMs = this.options.pingTimeoutMs ?? 5000;
    const pausesAtSend = this.pauses;
    try {
      const answered = (await waitAtMost(subscriber.ping(), timeoutMs)).settled;
      if (unlisted) {
        // What waited in the socket has been read (the answer comes after it), or nothing comes:
        // start over on a new connection, whose gap starts where this one was found gone.
        if (this.unlisted === subscriber && !this.stopping) subscriber.disconnect(true);
        return;
      }
      if (answered) {
        this.lastHeardAt = nowSeconds();
        // Sent while reading, answered with no pause since: the connection outlived every pause before.
        if (this.pauses === pausesAtSend && this.subscriber === subscriber) this.unverifiedSince = null;
        return;
      }
      if (this.subscriber !== subscriber || this.stopping || this.throttled) return;
      this.state.lastError = `no answer to PING within ${timeoutMs} ms`;
      this.options.logger.warn({ source: this.name, transport: 'redis', timeoutMs }, 'Redis did not answer PING in time: the connection is dead; reconnecting');
      subscriber.disconnect(true);
    } catch (error) {
      this.state.lastError = errorMessage(error); // a close on its way: handled by onClose
    } finally {
      this.pinging = false;
    }
  }

  /**
   * Redis drops a subscriber that reads too slowly (client-output-buffer-limit pubsub), and a
   * throttled socket only sees the close once reading resumes: the source would say "connected"
   * meanwhile. The control connection asks CLIENT LIST ID (Redis ≥ 6.2); where Redis cannot say,
   * the close is seen on resume as before. Nothing is disconnected here: what is already in the
   * socket is still read.
   */
  private async checkListed(subscriber: Redis): Promise<void> {
    const known = this.subscriberId;
    if (known === null || known.subscriber !== subscriber) return;
    this.listing = true;
    try {
      const answer = await waitAtMost(this.controlClient().client('LIST', 'ID', String(known.id)) as Promise<string>, this.options.pingTimeoutMs ?? 5000);
      if (!answer.settled || answer.value.trim() !== '') return;
      if (this.subscriber !== subscriber || !this.throttled || this.stopping) return;
      this.unlisted = subscriber;
      this.connectionLost('Redis closed the subscription while the collector was not reading (its client-output-buffer-limit pubsub, or a CLIENT KILL)');
    } catch {
      // CLIENT LIST ID unknown (Redis < 6.2) or not allowed: the close is seen when reading resumes
    } finally {
      this.listing = false;
    }
  }

  status(): SourceStatus {
    return { ...this.state };
  }

  acknowledge(_deliveries: readonly EventDelivery[]): void {
    // Pub/sub has no acknowledgements.
  }

  async backlog(): Promise<number | null> {
    return null;
  }

  /** Stops or resumes reading the subscriber's socket (Redis keeps what arrives meanwhile, up to its limit). */
  throttle(reading: 'pause' | 'resume'): void {
    if (reading === 'pause' && !this.throttled && this.state.connected) {
      this.pauses += 1;
      this.unverifiedSince ??= nowSeconds();
    }
    this.throttled = reading === 'pause';
    const stream = this.subscriber?.stream;
    if (!stream) return;
    if (this.throttled) stream.pause();
    else stream.resume();
  }

  async pause(): Promise<void> {
    this.paused = true;
    // The unsubscribe reply must be read: reading resumes (whatever arrives before it is kept).
    if (this.throttled) this.throttle('resume');
    const sub = this.subscriber;
    if (sub && sub.status === 'ready') {
      const { mode, name } = this.subscription;
      await waitAtMost((mode === 'pattern' ? sub.punsubscribe(name) : sub.unsubscribe(name)).catch(() => undefined), UNSUBSCRIBE_TIMEOUT_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    await this.pause();
    const clients = [this.subscriber, this.publisher];
    this.subscriber = null;
    this.publisher = null;
    // QUIT waits for Redis's answer, which a dead network path never sends.
    await Promise.all(
      clients.map(async (c) => {
        if (!c) return;
        const quit = await waitAtMost(c.quit().catch(() => null), UNSUBSCRIBE_TIMEOUT_MS);
        if (!quit.settled || quit.value === null) c.disconnect();
      }),
    );
    this.setConnected(false);
  }

  /** Publishes the `heartbeat` broadcast on this Redis (celery.pidbox fanout); resolves to how many clients received it. */
  async wakeWorkers(): Promise<number> {
    const { body, headers } = heartbeatBroadcast(nowSeconds());
    return this.controlClient().publish(this.pidboxChannel, kombuEnvelope(body, PIDBOX_EXCHANGE, '', headers));
  }

  /** A second connection for commands (the subscriber can run none while subscribed). */
  private controlClient(): Redis {
    if (!this.publisher) {
      this.publisher = new Redis(this.options.url, {
        maxRetriesPerRequest: 1,
        connectionName: `celery-monitor:${this.name}:control`,
        retryStrategy: (attempt) => (this.stopping ? null : backoffDelay(attempt, this.options.backoff ?? DEFAULT_BACKOFF)),
      });
      this.publisher.on('error', () => undefined);
    }
    return this.publisher;
  }

  /** The channel every worker of these kombu options listens on for broadcast commands. */
  private get pidboxChannel(): string {
    return fanoutChannel(this.kombu, PIDBOX_EXCHANGE, '');
  }

  private async onReady(subscriber: Redis): Promise<void> {
    if (this.paused || this.stopping) return;
    const generation = ++this.readyGeneration;
    const { mode, name } = this.subscription;
    try {
      // Its id, to ask Redis later whether it is still there (see checkListed); not every Redis allows CLIENT.
      const id = await (subscriber.client('ID') as Promise<number>).catch(() => null);
      // Paused or stopped meanwhile (its unsubscribe is already sent): subscribe to nothing.
      if (this.paused || this.stopping || generation !== this.readyGeneration) return;
      this.subscriberId = id === null ? null : { subscriber, id };
      await (mode === 'pattern' ? subscriber.psubscribe(name) : subscriber.subscribe(name));
    } catch (error) {
      if (generation !== this.readyGeneration) return; // that connection is gone; a newer one subscribes
      this.state.lastError = errorMessage(error);
      this.options.logger.error({ source: this.name, error: this.state.lastError }, 'Redis subscribe failed; reconnecting');
      subscriber.disconnect(true);
      return;
    }
    // A subscription sent on a connection that dropped, completed on the next one (ioredis resends
    // it): the newer ready reports that subscription, once.
    if (generation !== this.readyGeneration) return;
    // Still behind from before the reconnect: read no further than the subscription's reply.
    if (this.throttled) subscriber.stream.pause();
    const to = nowSeconds();
    this.lastHeardAt = to;
    // A new connection: unread since now if reading is throttled, else nothing to verify.
    this.unverifiedSince = this.throttled ? to : null;
    const from = this.everSubscribed ? this.disconnectedAt : null;
    this.everSubscribed = true;
    this.disconnectedAt = null;
    this.unlisted = null;
    this.setConnected(true);
    this.options.logger.info({ source: this.name, transport: 'redis', [mode]: name }, 'listening for Celery events on Redis');
    this.handlers?.onStatus({ kind: 'connected', source: this.name, at: to, attempt: this.state.reconnectAttempts + 1 });
    this.handlers?.onStatus({ kind: 'gap', source: this.name, from, to });
    if (this.options.wakeWorkers !== false) {
      this.wakeWorkers().then(
        (receivers) => {
          const fields = { source: this.name, transport: 'redis', channel: this.pidboxChannel, receivers };
          if (receivers > 0) this.options.logger.info(fields, 'asked the workers for heartbeats');
          else {
            this.options.logger.warn(
              fields,
              'no worker listens on this Redis for broadcasts: none runs yet, they run with remote control disabled, or their db, global_keyprefix ' +
                'or fanout options differ from this source\'s (the URL\'s db, CM_REDIS_GLOBAL_KEYPREFIX, CM_REDIS_FANOUT_PREFIX, ' +
                'CM_REDIS_FANOUT_PATTERNS), and then their events are not seen either',
            );
          }
        },
        (error: unknown) =>
          this.options.logger.warn({ source: this.name, error: errorMessage(error) }, 'heartbeat broadcast failed; worker liveness recovers at their next heartbeat'),
      );
    }
  }

  private onClose(): void {
    this.connectionLost(this.state.lastError ?? 'connection closed');
  }

  /** The subscription is gone (seen closed, or no longer listed by Redis): once per connection. */
  private connectionLost(error: string): void {
    if (!this.state.connected) return;
    // Events published after the last thing we read may be lost: the gap starts there, not when
    // the close is noticed (a throttled socket sees it only when reading resumes; a dead one
    // when PING goes unanswered); and no later than a pause in reading that no PING answered since.
    this.disconnectedAt = Math.min(nowSeconds(), this.lastHeardAt ?? Infinity, this.unverifiedSince ?? Infinity);
    this.setConnected(false);
    this.state.lastError = error;
    if (this.stopping) return;
    this.options.logger.warn({ source: this.name, transport: 'redis', error }, 'lost Redis connection; events published until we resubscribe are lost (a gap event will name the interval)');
    this.handlers?.onStatus({ kind: 'disconnected', source: this.name, at: this.disconnectedAt, error });
  }

  private onMessage(channel: Buffer, message: Buffer): void {
    const receivedAt = nowSeconds();
    this.lastHeardAt = receivedAt;
    const result = decodeRedisMessage(message, channel.toString('utf8'), { ...this.options.decode, now: receivedAt });
    this.handlers?.onDelivery({ source: this.name, receivedAt, result, token: null });
  }

  private setConnected(connected: boolean): void {
    if (this.state.connected !== connected) this.state.since = nowSeconds();
    this.state.connected = connected;
    if (connected) this.state.lastError = null;
  }
}
