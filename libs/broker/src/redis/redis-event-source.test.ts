/**
 * The Redis event source against the real Redis on this machine. Channels use database 7 so
 * Celery workers of other tests (database 0) never interfere.
 */
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DECODE_OPTIONS } from '../celery-event';
import type { EventDelivery, SourceStatusEvent } from '../event-source';
import { silentLogger } from '../logger';
import { RedisEventSource, type RedisEventSourceOptions } from './redis-event-source';
import { kombuEnvelope } from './kombu-envelope';
import { killRedisClients } from '../../../../test/support/broker-admin';
import { waitFor } from '../../../../test/support/wait-for';

const URL = `${process.env.CM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/7`;
const T = Date.now() / 1000;

describe('RedisEventSource on Redis', () => {
  let publisher: Redis;
  let listener: Redis;
  const pidbox: Buffer[] = [];
  const sources: RedisEventSource[] = [];

  beforeAll(async () => {
    publisher = new Redis(URL);
    listener = new Redis(URL);
    listener.on('messageBuffer', (_channel: Buffer, message: Buffer) => pidbox.push(message));
    await listener.subscribe('/7.celery.pidbox', 'app1:/7.celery.pidbox');
  });

  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
  });

  afterAll(async () => {
    publisher.disconnect();
    listener.disconnect();
  });

  function newSource(overrides: Partial<RedisEventSourceOptions> = {}) {
    const name = `redis-test-${randomBytes(4).toString('hex')}`;
    const source = new RedisEventSource({ name, url: URL, decode: DEFAULT_DECODE_OPTIONS, logger: silentLogger, backoff: { initialMs: 50, maxMs: 300 }, ...overrides });
    sources.push(source);
    const deliveries: EventDelivery[] = [];
    const statuses: SourceStatusEvent[] = [];
    source.start({ onDelivery: (d) => deliveries.push(d), onStatus: (s) => statuses.push(s) });
    return { source, name, deliveries, statuses };
  }

  function publishEvent(channel: string, body: unknown, routingKey: string) {
    return publisher.publish(channel, kombuEnvelope(body, 'celeryev', routingKey, { hostname: 'celery@r' }, 1));
  }

  it('listens on /{db}.celeryev/* and decodes kombu envelopes', async () => {
    const s = newSource();
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    expect(s.statuses.find((x) => x.kind === 'gap')).toMatchObject({ kind: 'gap', from: null });
    const host = `celery@redis-${randomBytes(3).toString('hex')}`;
    await publishEvent('/7.celeryev/task.multi', [
      { type: 'task-succeeded', hostname: host, timestamp: T, clock: 3, uuid: 'r-1', result: '5', runtime: 0.01 },
    ], 'task.multi');
    await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T, clock: 4, freq: 2 }, 'worker.heartbeat');
    await publisher.publish('/7.celeryev/task.multi', 'not an envelope');
    await waitFor(() => s.deliveries.length >= 3 || undefined, { timeoutMs: 10_000, description: '3 deliveries' });
    expect(s.deliveries[0]!.result.events[0]).toMatchObject({ type: 'task-succeeded', uuid: 'r-1', fields: { result: '5' } });
    expect(s.deliveries[0]!.source).toBe(s.name);
    expect(s.deliveries[1]!.result.events[0]).toMatchObject({ type: 'worker-heartbeat', hostname: host });
    expect(s.deliveries[2]!.result.rejected[0]).toMatchObject({ reason: 'bad-envelope' });
  });

  it('honours global_keyprefix (and ignores channels without it)', async () => {
    const s = newSource({ globalKeyprefix: 'app1:' });
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: 'celery@plain', timestamp: T, clock: 1 }, 'worker.heartbeat');
    await publishEvent('app1:/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: 'celery@prefixed', timestamp: T, clock: 1 }, 'worker.heartbeat');
    await waitFor(() => s.deliveries.length >= 1 || undefined, { timeoutMs: 10_000, description: 'prefixed delivery' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(s.deliveries.map((d) => d.result.events[0]?.hostname)).toEqual(['celery@prefixed']);
    // The heartbeat wake-up goes to the prefixed pidbox channel too.
    await waitFor(() => pidbox.some((m) => decodePidbox(m).exchange === 'celery.pidbox') || undefined, { timeoutMs: 5_000, description: 'pidbox broadcast' });
  });

  it('reads nothing while throttled and delivers every message, in order, on resume', async () => {
    const s = newSource();
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    const host = `celery@throttled-${randomBytes(3).toString('hex')}`;
    s.source.throttle('pause');
    for (let clock = 1; clock <= 50; clock += 1) {
      const receivers = await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T, clock, freq: 2 }, 'worker.heartbeat');
      expect(receivers).toBeGreaterThanOrEqual(1);
    }
    // Published (Redis counted our subscriber as a receiver), but not read while throttled: they
    // wait in the socket and in Redis's output buffer for us.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.deliveries).toEqual([]);
    s.source.throttle('resume');
    await waitFor(() => s.deliveries.length >= 50 || undefined, { timeoutMs: 10_000, description: '50 deliveries after resume' });
    expect(s.deliveries.map((d) => d.result.events[0]!.clock)).toEqual([...Array(50).keys()].map((i) => i + 1));
    expect(s.source.status().connected).toBe(true);
  });

  it('after a lost connection: resubscribes, reports the gap, and asks workers for heartbeats', async () => {
    const s = newSource();
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    const before = pidbox.length;
    const killedAt = Date.now() / 1000;
    expect(await killRedisClients(URL, `celery-monitor:${s.name}`)).toBe(1);
    const gap = await waitFor(() => s.statuses.find((x) => x.kind === 'gap' && x.from !== null), { timeoutMs: 10_000, description: 'gap after reconnect' });
    expect(gap.kind === 'gap' && gap.from! >= killedAt - 1 && gap.to >= gap.from!).toBe(true);
    expect(s.statuses.map((x) => x.kind)).toEqual(['connected', 'gap', 'disconnected', 'connected', 'gap']);
    const wake = await waitFor(() => pidbox.slice(before).map(decodePidbox).find((m) => m.body.method === 'heartbeat'), { timeoutMs: 5_000, description: 'heartbeat broadcast' });
    expect(wake.body).toMatchObject({ method: 'heartbeat', arguments: {}, destination: null });
    expect(typeof wake.headers.expires).toBe('number');

    const host = `celery@after-gap-${randomBytes(3).toString('hex')}`;
    await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T, clock: 1 }, 'worker.heartbeat');
    await waitFor(() => s.deliveries.find((d) => d.result.events[0]?.hostname === host), { timeoutMs: 10_000, description: 'delivery after reconnect' });
  });

  it('says whether the heartbeat broadcast reached anyone: a warning naming the settings when no worker listens', async () => {
    const logged: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
    const recording = (level: string) => (fields: Record<string, unknown>, msg: string) => void logged.push({ level, msg, fields });
    const logger = { debug: recording('debug'), info: recording('info'), warn: recording('warn'), error: recording('error') };
    // Our pidbox listener stands for a worker on /7 with prefix app1: — nobody listens with this prefix.
    const lonely = newSource({ globalKeyprefix: `nobody-${randomBytes(3).toString('hex')}:`, logger });
    const heard = newSource({ globalKeyprefix: 'app1:', logger });
    const about = (name: string) => logged.find((l) => l.fields['source'] === name && /workers for heartbeats|no worker listens/.test(l.msg));
    const lonelyLine = await waitFor(() => about(lonely.name), { timeoutMs: 10_000, description: 'a word on the broadcast (no listener)' });
    expect(lonelyLine).toMatchObject({ level: 'warn', fields: { receivers: 0 } });
    expect(lonelyLine.msg).toMatch(/CM_REDIS_GLOBAL_KEYPREFIX/);
    const heardLine = await waitFor(() => about(heard.name), { timeoutMs: 10_000, description: 'a word on the broadcast (listened to)' });
    expect(heardLine).toMatchObject({ level: 'info', msg: 'asked the workers for heartbeats', fields: { channel: 'app1:/7.celery.pidbox' } });
    expect(heardLine.fields['receivers']).toBeGreaterThanOrEqual(1);
  });

  it('a reconnect after a lost connection is logged as such, not as a failed attempt', async () => {
    const logged: Array<{ level: string; msg: string }> = [];
    const recording = (level: string) => (_fields: Record<string, unknown>, msg: string) => void logged.push({ level, msg });
    const s = newSource({ logger: { debug: recording('debug'), info: recording('info'), warn: recording('warn'), error: recording('error') } });
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    expect(await killRedisClients(URL, `celery-monitor:${s.name}`)).toBe(1);
    await waitFor(() => s.statuses.filter((x) => x.kind === 'connected').length >= 2 || undefined, { timeoutMs: 10_000, description: 'reconnected' });
    expect(logged.filter((l) => l.level === 'info' && l.msg === 'reconnecting to Redis')).toHaveLength(1);
    expect(logged.filter((l) => l.msg === 'Redis connection attempt failed; retrying')).toEqual([]);
  });

  it('notices a connection that died silently (no PING answer), reconnects, and starts the gap at the last thing it read', async () => {
    const proxy = await blackHoleProxy(6379);
    try {
      const s = newSource({ url: `redis://127.0.0.1:${proxy.port}/7`, pingIntervalMs: 100, pingTimeoutMs: 300 });
      await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
      const host = `celery@before-${randomBytes(3).toString('hex')}`;
      await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T, clock: 1 }, 'worker.heartbeat');
      const seen = await waitFor(() => s.deliveries.find((d) => d.result.events[0]?.hostname === host), { timeoutMs: 10_000, description: 'delivery before' });
      proxy.silence(); // the network drops everything; no side closes the connection
      const silencedAt = Date.now() / 1000;
      const gap = await waitFor(() => s.statuses.find((x) => x.kind === 'gap' && x.from !== null), { timeoutMs: 10_000, description: 'gap after the dead connection' });
      if (gap.kind !== 'gap') throw new Error('not a gap');
      expect(gap.from!).toBeGreaterThanOrEqual(seen.receivedAt);
      // From the last thing read: a PING answer already forwarded may still be read just after the
      // silence, but not the moment the death was noticed (a 300 ms PING timeout later).
      expect(gap.from!).toBeLessThan(silencedAt + 0.1);
      expect(s.statuses.map((x) => x.kind)).toEqual(['connected', 'gap', 'disconnected', 'connected', 'gap']);
      expect(s.source.status().connected).toBe(true);
    } finally {
      proxy.close();
    }
  });

  it('a subscription that completes on the next connection (ioredis resends it) is reported once: no second, start-up gap', async () => {
    let connections = 0;
    const sockets: net.Socket[] = [];
    // Connection 2 drops right after its PSUBSCRIBE is forwarded, before the reply comes back.
    const server = net.createServer((client) => {
      const n = ++connections;
      const upstream = net.connect(6379, '127.0.0.1');
      sockets.push(client, upstream);
      let cut = false;
      client.on('data', (d) => {
        upstream.write(d);
        if (n === 2 && /psubscribe/i.test(d.toString('latin1'))) {
          cut = true;
          setTimeout(() => (client.destroy(), upstream.destroy()), 50);
        }
      });
      upstream.on('data', (d) => void (cut || client.write(d)));
      for (const sock of [client, upstream]) sock.on('error', () => undefined);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const s = newSource({ url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}/7`, wakeWorkers: false });
      await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
      sockets[0]!.destroy(); // connection 1 lost: connection 2 subscribes and drops; connection 3 completes
      await waitFor(() => (connections >= 3 && s.source.status().connected) || undefined, { timeoutMs: 10_000, description: 'subscribed on connection 3' });
      await new Promise((resolve) => setTimeout(resolve, 300)); // room for a resent subscription to complete
      const gaps = s.statuses.filter((x) => x.kind === 'gap');
      expect(gaps.map((g) => g.kind === 'gap' && g.from === null)).toEqual([true, false]);
    } finally {
      for (const sock of sockets) sock.destroy();
      server.close();
    }
  });

  it('a connection Redis closed while reading was throttled: the gap starts when reading stopped, though messages waiting in the socket are read after the close', async () => {
    const s = newSource();
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    const host = `celery@buffered-${randomBytes(3).toString('hex')}`;
    await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T, clock: 1 }, 'worker.heartbeat');
    const last = await waitFor(() => s.deliveries.find((d) => d.result.events[0]?.hostname === host), { timeoutMs: 10_000, description: 'delivery before' });
    s.source.throttle('pause');
    const pausedAt = Date.now() / 1000;
    // Published while reading is paused: Redis writes them to the socket, where they wait.
    for (let clock = 2; clock <= 6; clock++) {
      await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T + clock, clock }, 'worker.heartbeat');
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await killRedisClients(URL, `celery-monitor:${s.name}`)).toBe(1); // as Redis does past its output-buffer limit
    await new Promise((resolve) => setTimeout(resolve, 300));
    s.source.throttle('resume');
    const gap = await waitFor(() => s.statuses.find((x) => x.kind === 'gap' && x.from !== null), { timeoutMs: 10_000, description: 'gap after resume' });
    if (gap.kind !== 'gap') throw new Error('not a gap');
    // The waiting messages were read after the close (0.6 s after the pause), yet the gap starts at the pause.
    const buffered = s.deliveries.filter((d) => d.result.events[0]?.hostname === host && d !== last);
    expect(buffered.length).toBeGreaterThan(0);
    expect(Math.max(...buffered.map((d) => d.receivedAt))).toBeGreaterThan(pausedAt + 0.5);
    expect(gap.from!).toBeLessThanOrEqual(pausedAt + 0.05);
    expect(gap.from!).toBeLessThanOrEqual(last.receivedAt + 0.3); // not the moment reading resumed (0.6 s later)
  });

  it('a subscriber Redis drops while reading is throttled shows as disconnected at once, without losing what waits in its socket', async () => {
    const s = newSource({ pingIntervalMs: 100 });
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    const host = `celery@dropped-${randomBytes(3).toString('hex')}`;
    s.source.throttle('pause');
    const pausedAt = Date.now() / 1000;
    for (let clock = 1; clock <= 3; clock++) {
      await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T + clock, clock }, 'worker.heartbeat');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await killRedisClients(URL, `celery-monitor:${s.name}`)).toBe(1); // as Redis does past its output-buffer limit
    // Still throttled: the close itself is not seen, but Redis no longer lists the subscriber.
    await waitFor(() => (s.source.status().connected ? undefined : true), { timeoutMs: 5_000, description: 'shown as disconnected while throttled' });
    expect(s.source.status().lastError).toMatch(/Redis closed the subscription while the collector was not reading/);
    expect(s.deliveries.filter((d) => d.result.events[0]?.hostname === host)).toHaveLength(0);
    s.source.throttle('resume');
    const gap = await waitFor(() => s.statuses.find((x) => x.kind === 'gap' && x.from !== null), { timeoutMs: 10_000, description: 'gap after resume' });
    if (gap.kind !== 'gap') throw new Error('not a gap');
    expect(gap.from!).toBeLessThanOrEqual(pausedAt + 0.05);
    // What waited in the socket was still read, and the loss was reported once.
    expect(s.deliveries.filter((d) => d.result.events[0]?.hostname === host).map((d) => d.result.events[0]!.clock)).toEqual([1, 2, 3]);
    expect(s.statuses.map((x) => x.kind)).toEqual(['connected', 'gap', 'disconnected', 'connected', 'gap']);
  });

  it('a subscriber dropped while throttled on a dead network path (no close ever seen): PINGed on resume, reconnected, the gap from the pause', async () => {
    const proxy = await blackHoleProxy(6379);
    try {
      const s = newSource({ url: `redis://127.0.0.1:${proxy.port}/7`, pingIntervalMs: 100, pingTimeoutMs: 300, wakeWorkers: false });
      await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
      s.source.throttle('pause');
      const pausedAt = Date.now() / 1000;
      proxy.silence(); // the path dies: no FIN will ever reach the collector
      expect(await killRedisClients(URL, `celery-monitor:${s.name}`)).toBe(1);
      await waitFor(() => (s.source.status().connected ? undefined : true), { timeoutMs: 5_000, description: 'shown as disconnected while throttled' });
      s.source.throttle('resume');
      const gap = await waitFor(() => s.statuses.find((x) => x.kind === 'gap' && x.from !== null), { timeoutMs: 10_000, description: 'reconnected after an unanswered PING' });
      if (gap.kind !== 'gap') throw new Error('not a gap');
      expect(gap.from!).toBeLessThanOrEqual(pausedAt + 0.05);
      expect(s.statuses.map((x) => x.kind)).toEqual(['connected', 'gap', 'disconnected', 'connected', 'gap']);
    } finally {
      proxy.close();
    }
  });

  it('a subscriber Redis wrongly reports gone (CLIENT LIST asked another server) is replaced once reading resumes, and events flow again', async () => {
    const s = newSource({ pingIntervalMs: 100 });
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    // Stand-in for an endpoint that sends the control connection to another server: an id no client has.
    (s.source as unknown as { subscriberId: { id: number } }).subscriberId.id = 999_999_999;
    s.source.throttle('pause');
    await waitFor(() => (s.source.status().connected ? undefined : true), { timeoutMs: 5_000, description: 'reported gone' });
    s.source.throttle('resume');
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 5_000, description: 'connected again' });
    expect(s.statuses.map((x) => x.kind)).toEqual(['connected', 'gap', 'disconnected', 'connected', 'gap']);
    const host = `celery@relisted-${randomBytes(3).toString('hex')}`;
    await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T, clock: 1 }, 'worker.heartbeat');
    await waitFor(() => s.deliveries.find((d) => d.result.events[0]?.hostname === host), { timeoutMs: 10_000, description: 'still delivering' });
  });

  it('a PING answer read after reading paused again verifies nothing: the gap starts at that second pause', async () => {
    const proxy = await holdingProxy(6379);
    try {
      const s = newSource({ url: `redis://127.0.0.1:${proxy.port}/7`, pingIntervalMs: 50, wakeWorkers: false });
      await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
      s.source.throttle('pause');
      await new Promise((resolve) => setTimeout(resolve, 100));
      proxy.hold(); // what Redis sends next waits in the proxy: the answer to the next PING among it
      s.source.throttle('resume');
      await new Promise((resolve) => setTimeout(resolve, 200)); // a PING went out; its answer is held
      s.source.throttle('pause');
      const secondPauseAt = Date.now() / 1000;
      proxy.release(); // the answer reaches the socket, unread
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await killRedisClients(URL, `celery-monitor:${s.name}`)).toBe(1); // Redis drops the paused subscriber
      await new Promise((resolve) => setTimeout(resolve, 300));
      s.source.throttle('resume'); // reads the PING answer, then sees the close
      const gap = await waitFor(() => s.statuses.find((x) => x.kind === 'gap' && x.from !== null), { timeoutMs: 10_000, description: 'gap after resume' });
      if (gap.kind !== 'gap') throw new Error('not a gap');
      expect(gap.from!).toBeLessThanOrEqual(secondPauseAt + 0.05);
    } finally {
      proxy.close();
    }
  });

  it('a pause that a PING answered afterwards: a later loss starts its gap at the last read, not at that pause', async () => {
    const s = newSource({ pingIntervalMs: 100 });
    await waitFor(() => s.source.status().connected || undefined, { timeoutMs: 10_000, description: 'subscribed' });
    s.source.throttle('pause');
    const pausedAt = Date.now() / 1000;
    await new Promise((resolve) => setTimeout(resolve, 200));
    s.source.throttle('resume');
    await new Promise((resolve) => setTimeout(resolve, 500)); // PINGs answered: the connection outlived the pause
    const host = `celery@later-${randomBytes(3).toString('hex')}`;
    await publishEvent('/7.celeryev/worker.heartbeat', { type: 'worker-heartbeat', hostname: host, timestamp: T, clock: 1 }, 'worker.heartbeat');
    await waitFor(() => s.deliveries.find((d) => d.result.events[0]?.hostname === host), { timeoutMs: 10_000, description: 'delivery after the pause' });
    expect(await killRedisClients(URL, `celery-monitor:${s.name}`)).toBe(1);
    const gap = await waitFor(() => s.statuses.find((x) => x.kind === 'gap' && x.from !== null), { timeoutMs: 10_000, description: 'gap' });
    if (gap.kind !== 'gap') throw new Error('not a gap');
    expect(gap.from!).toBeGreaterThan(pausedAt + 0.6);
  });
});

/** A TCP proxy to Redis that can hold what Redis sends (hold()) and pass it on later (release()). */
async function holdingProxy(targetPort: number): Promise<{ port: number; hold: () => void; release: () => void; close: () => void }> {
  const pairs: Array<{ client: net.Socket; upstream: net.Socket }> = [];
  let holding = false;
  const held: Array<{ client: net.Socket; data: Buffer }> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    pairs.push({ client, upstream });
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => (holding ? held.push({ client, data: d }) : client.write(d)));
    for (const sock of [client, upstream]) sock.on('error', () => undefined);
    // Redis closing the connection closes ours once what was held is passed on.
    upstream.on('close', () => (holding ? undefined : client.end()));
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      for (const { client, data } of held.splice(0)) client.write(data);
      for (const p of pairs) if (p.upstream.destroyed) p.client.end();
    },
    close: () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      server.close();
    },
  };
}

/** A TCP proxy to Redis whose silence() stops forwarding on the connections open then (a dead network path: data and closes), without closing them. */
async function blackHoleProxy(targetPort: number): Promise<{ port: number; silence: () => void; close: () => void }> {
  const open: Array<{ silent: boolean; client: net.Socket; upstream: net.Socket }> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { silent: false, client, upstream };
    open.push(pair);
    client.on('data', (d) => void (pair.silent || upstream.write(d)));
    upstream.on('data', (d) => void (pair.silent || client.write(d)));
    for (const sock of [client, upstream]) sock.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
    // A dead path carries no close either: Redis ending the connection is not passed on.
    upstream.on('close', () => void (pair.silent || client.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    silence: () => open.forEach((p) => (p.silent = true)),
    close: () => {
      for (const p of open) {
        p.client.destroy();
        p.upstream.destroy();
      }
      server.close();
    },
  };
}

function decodePidbox(message: Buffer): { exchange: string; body: Record<string, unknown>; headers: Record<string, unknown> } {
  const envelope = JSON.parse(message.toString()) as { body: string; headers: Record<string, unknown>; properties: { delivery_info: { exchange: string } } };
  return {
    exchange: envelope.properties.delivery_info.exchange,
    body: JSON.parse(Buffer.from(envelope.body, 'base64').toString()) as Record<string, unknown>,
    headers: envelope.headers,
  };
}
