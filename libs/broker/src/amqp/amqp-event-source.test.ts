/**
 * The RabbitMQ event source against the real broker on this machine.
 */
import * as amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DECODE_OPTIONS } from '../celery-event';
import type { EventDelivery, SourceStatusEvent } from '../event-source';
import { silentLogger } from '../logger';
import { AmqpEventSource, CELERY_EVENT_EXCHANGE } from './amqp-event-source';
import { closeRabbitConnections, rabbitQueueCounts } from '../../../../test/support/broker-admin';
import { waitFor } from '../../../../test/support/wait-for';

const URL = process.env.CM_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
const T = Date.now() / 1000;

function celeryProps(hostname: string) {
  return { contentType: 'application/json', contentEncoding: 'utf-8', headers: { hostname }, deliveryMode: 1, priority: 0 };
}

describe('AmqpEventSource on RabbitMQ', () => {
  let connection: amqp.ChannelModel;
  let channel: amqp.Channel;
  const queues: string[] = [];
  const sources: AmqpEventSource[] = [];

  beforeAll(async () => {
    connection = await amqp.connect(URL);
    channel = await connection.createChannel();
  });

  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
  });

  afterAll(async () => {
    for (const q of queues) await channel.deleteQueue(q).catch(() => undefined);
    await connection.close();
  });

  function newSource(overrides: Partial<ConstructorParameters<typeof AmqpEventSource>[0]> = {}) {
    const id = randomBytes(4).toString('hex');
    const queue = overrides.queue ?? `cm-test.events.${id}`;
    if (!queues.includes(queue)) queues.push(queue);
    const source = new AmqpEventSource({
      name: `amqp-test-${id}`, url: URL, queue, prefetch: 50, decode: DEFAULT_DECODE_OPTIONS, logger: silentLogger,
      backoff: { initialMs: 50, maxMs: 500 }, ...overrides,
    });
    sources.push(source);
    const deliveries: EventDelivery[] = [];
    const statuses: SourceStatusEvent[] = [];
    return { source, queue, deliveries, statuses, start: () => source.start({ onDelivery: (d) => deliveries.push(d), onStatus: (s) => statuses.push(s) }) };
  }

  it('declares celeryev and a durable named queue bound with #, and decodes what Celery publishes', async () => {
    const s = newSource();
    s.start();
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'AMQP source connected' });

    // Both exist exactly as declared: re-declaring with Celery's properties succeeds…
    await channel.assertExchange(CELERY_EVENT_EXCHANGE, 'topic', { durable: true, autoDelete: false });
    const q = await channel.assertQueue(s.queue, { durable: true, autoDelete: false });
    expect(q.consumerCount).toBe(1);

    const host = `celery@amqp-${randomBytes(3).toString('hex')}`;
    const batch = [
      { type: 'task-received', hostname: host, timestamp: T, clock: 5, uuid: 'u-1', name: 'add', args: '[2, 3]', kwargs: '{}', utcoffset: 0, pid: 9 },
      { type: 'task-started', hostname: host, timestamp: T + 0.1, clock: 6, uuid: 'u-1', utcoffset: 0, pid: 9 },
    ];
    channel.publish(CELERY_EVENT_EXCHANGE, 'task.multi', Buffer.from(JSON.stringify(batch)), celeryProps(host));
    channel.publish(CELERY_EVENT_EXCHANGE, 'worker.heartbeat', Buffer.from(JSON.stringify({ type: 'worker-heartbeat', hostname: host, timestamp: T, clock: 7, freq: 2, active: 1, processed: 3, loadavg: [0.1, 0.2, 0.3] })), celeryProps(host));
    channel.publish(CELERY_EVENT_EXCHANGE, 'task.multi', Buffer.from('\x80\x04pickle'), { ...celeryProps(host), contentType: 'application/x-python-serialize', contentEncoding: 'binary' });

    await waitFor(() => s.deliveries.length >= 3 || undefined, { timeoutMs: 10_000, description: '3 deliveries' });
    const [multi, hb, pickle] = s.deliveries;
    expect(multi!.source).toBe(s.source.name);
    expect(multi!.result.events.map((e) => [e.type, e.uuid, e.clock])).toEqual([['task-received', 'u-1', 5], ['task-started', 'u-1', 6]]);
    expect(hb!.result.events[0]).toMatchObject({ type: 'worker-heartbeat', hostname: host, fields: { active: 1, loadavg: [0.1, 0.2, 0.3] } });
    expect(pickle!.result.events).toEqual([]);
    expect(pickle!.result.rejected[0]).toMatchObject({ reason: 'unsupported-content-type', routingKey: 'task.multi' });
    s.source.acknowledge(s.deliveries);
  });

  it('acknowledges only what it is told to: unacknowledged messages come back after a restart', async () => {
    const first = newSource();
    first.start();
    await waitFor(() => first.source.status().connected || undefined, { timeoutMs: 10_000, description: 'connected' });
    const host = `celery@redeliver-${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < 10; i += 1) {
      channel.publish(CELERY_EVENT_EXCHANGE, 'worker.heartbeat', Buffer.from(JSON.stringify({ type: 'worker-heartbeat', hostname: host, timestamp: T + i, clock: i })), celeryProps(host));
    }
    await waitFor(() => first.deliveries.length >= 10 || undefined, { timeoutMs: 10_000, description: '10 deliveries' });
    expect(first.deliveries.map((d) => d.redelivered)).toEqual(Array(10).fill(false));
    first.source.acknowledge(first.deliveries.slice(0, 4)); // "committed" the first four only
    await first.source.stop();

    const second = newSource({ queue: first.queue });
    second.start();
    await waitFor(() => second.deliveries.length >= 6 || undefined, { timeoutMs: 10_000, description: '6 redeliveries' });
    expect(second.deliveries.map((d) => d.result.events[0]!.clock)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(second.deliveries.map((d) => d.redelivered)).toEqual(Array(6).fill(true)); // the broker says so
    second.source.acknowledge(second.deliveries);
    await waitFor(async () => ((await second.source.backlog()) === 0 ? true : undefined), { timeoutMs: 10_000, description: 'empty queue' });
  });

  it('keeps acknowledgements made after pause() when stop() follows at once (the collector shutdown)', async () => {
    const s = newSource();
    s.start();
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'connected' });
    const host = `celery@shutdown-${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < 10; i += 1) {
      channel.publish(CELERY_EVENT_EXCHANGE, 'worker.heartbeat', Buffer.from(JSON.stringify({ type: 'worker-heartbeat', hostname: host, timestamp: T + i, clock: i })), celeryProps(host));
    }
    await waitFor(() => s.deliveries.length >= 10 || undefined, { timeoutMs: 10_000, description: '10 deliveries' });
    // As Collector.stop(): deliveries stop, the last batch commits and is acknowledged, the source stops.
    await s.source.pause();
    s.source.acknowledge(s.deliveries);
    await s.source.stop();
    // Lost acks would leave the messages unacknowledged, then ready again (their sum is what counts).
    const counts = await rabbitQueueCounts(s.queue);
    expect(counts).not.toBeNull();
    expect(counts!.ready + counts!.unacknowledged).toBe(0);
  });

  it('reconnects after the broker closes its connection, and keeps consuming', async () => {
    const s = newSource();
    s.start();
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'connected' });
    expect(await closeRabbitConnections(s.source.name)).toBe(1);
    await waitFor(() => s.statuses.find((x) => x.kind === 'disconnected'), { timeoutMs: 10_000, description: 'disconnected status' });
    await waitFor(() => s.statuses.filter((x) => x.kind === 'connected').length >= 2 || undefined, { timeoutMs: 15_000, description: 'reconnected' });
    const host = `celery@reconnect-${randomBytes(3).toString('hex')}`;
    channel.publish(CELERY_EVENT_EXCHANGE, 'worker.heartbeat', Buffer.from(JSON.stringify({ type: 'worker-heartbeat', hostname: host, timestamp: T, clock: 1 })), celeryProps(host));
    await waitFor(() => s.deliveries.find((d) => d.result.events[0]?.hostname === host), { timeoutMs: 10_000, description: 'delivery after reconnect' });
  });

  it('backs off (counted as an attempt) when a connection is lost soon after it was established, then reconnects', async () => {
    const s = newSource({ backoff: { initialMs: 200, maxMs: 1000 } });
    s.start();
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'connected' });
    expect(s.source.status().reconnectAttempts).toBe(0);
    expect(await closeRabbitConnections(s.source.name)).toBe(1); // well within 10 s of connecting
    await waitFor(() => s.statuses.filter((x) => x.kind === 'connected').length >= 2 || undefined, { timeoutMs: 15_000, description: 'reconnected' });
    expect(s.source.status().reconnectAttempts).toBe(1);
    expect(s.source.status().connected).toBe(true);
  });

  it('stop() at any point of connecting leaves no connection open and the source not connected', async () => {
    for (const delayMs of [0, 5, 20, 50]) {
      const s = newSource();
      s.start();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await s.source.stop();
      await new Promise((resolve) => setTimeout(resolve, 300)); // room for a connect that was in flight to finish
      expect(s.source.status().connected, `stop after ${delayMs} ms`).toBe(false);
      expect(await closeRabbitConnections(s.source.name), `stop after ${delayMs} ms`).toBe(0);
    }
  });

  it('applies the optional queue bounds, and explains a mismatch with an existing queue', async () => {
    const bounded = newSource({ queueMaxLength: 1000, queueMessageTtlMs: 60_000 });
    bounded.start();
    await waitFor(() => bounded.source.status().connected || undefined, { timeoutMs: 10_000, description: 'connected' });
    // The same arguments re-declare fine; RabbitMQ refuses other ones (so they were applied).
    await channel.assertQueue(bounded.queue, { durable: true, arguments: { 'x-max-length': 1000, 'x-message-ttl': 60_000 } });
    await bounded.source.stop();

    const mismatched = newSource({ queue: bounded.queue, queueMaxLength: 5 });
    mismatched.start();
    await waitFor(() => /already exists with other arguments.*delete_queue/.test(mismatched.source.status().lastError ?? '') || undefined, {
      timeoutMs: 10_000, description: 'a precise PRECONDITION_FAILED explanation',
    });
    expect(mismatched.source.status().connected).toBe(false);
  });
});
