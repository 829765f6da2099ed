/**
 * Malformed input against the running collector (RabbitMQ + Redis sources, SQLite): every kind of
 * bad message is published on the real brokers, between valid events. Proves that each bad one is
 * kept aside in rejected_messages with the right reason and its raw bytes (bounded), is counted in
 * celery_monitor_messages_rejected_total, never blocks or poisons the stream (the valid events
 * around it are stored, the collector stays ready), and is acknowledged (nothing of ours is left
 * in, or comes back to, the collector's RabbitMQ queue).
 */
import * as amqp from 'amqplib';
import { Redis } from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../libs/state/src';
import { metricSamples, metricValue, openStoreForAssertions, startCollector, type CollectorProcess } from '../support/collector-process';
import { uniqueQueueName } from '../support/celery-worker';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const REDIS_URL = 'redis://127.0.0.1:6379/0';
const MAX_RAW_BYTES = 4096;
const ONE_MIB = 1024 * 1024;

const run = randomBytes(4).toString('hex');
const rk = (name: string): string => `e2e.${run}.${name}`;
const host = (name: string): string => `${name}-${run}@e2e-bad-input`;
const now = (): number => Date.now() / 1000;

interface AmqpCase {
  name: string;
  body: Buffer;
  contentType?: string;
  contentEncoding?: string;
  /** Expected rejection reasons for this message (a task.multi can have good and bad elements). */
  reasons: string[];
  /** Hostnames of the valid events in this message, which must be stored. */
  stored: string[];
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function heartbeat(hostname: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'worker-heartbeat', hostname, timestamp: now(), clock: 1, utcoffset: 0, pid: 4242, freq: 2.0, active: 0, processed: 0,
    loadavg: [0.1, 0.2, 0.3], sw_ident: 'py-celery', sw_ver: '5.2.6', sw_sys: 'Linux', ...extra,
  };
}

describe('collector with malformed input (RabbitMQ + Redis → SQLite)', () => {
  const collectorQueue = uniqueQueueName('e2e-bad-input-collector');
  const multiTaskId = randomUUID();
  let db: TestDatabase | undefined;
  let collector: CollectorProcess | undefined;
  let store: EventStore | undefined;
  let connection: amqp.ChannelModel | undefined;
  let redis: Redis | undefined;

  // A pickle of {'type': 'worker-heartbeat'} (protocol 4): must never be deserialized.
  const pickle = Buffer.from('80049520000000000000007d948c0474797065948c10776f726b65722d6865617274626561749473', 'hex');
  const tooLarge = Buffer.from(JSON.stringify({ ...heartbeat(host('too-large')), pad: 'x'.repeat(ONE_MIB) }), 'utf8');
  const notUtf8 = Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]);

  const cases: AmqpCase[] = [
    { name: 'before', body: json(heartbeat(host('before'))), reasons: [], stored: [host('before')] },
    { name: 'not-json', body: Buffer.from('{"type": "worker-heartbeat", this is not json', 'utf8'), reasons: ['not-json'], stored: [] },
    { name: 'not-utf8', body: notUtf8, reasons: ['not-utf8'], stored: [] },
    { name: 'pickle', body: pickle, contentType: 'application/x-python-serialize', contentEncoding: 'binary', reasons: ['unsupported-content-type'], stored: [] },
    { name: 'yaml', body: Buffer.from(`type: worker-heartbeat\nhostname: ${host('yaml')}\ntimestamp: ${now()}\n`), contentType: 'application/x-yaml', reasons: ['unsupported-content-type'], stored: [] },
    { name: 'too-large', body: tooLarge, reasons: ['too-large'], stored: [] },
    { name: 'missing-hostname', body: json({ type: 'worker-heartbeat', timestamp: now(), clock: 2, freq: 2 }), reasons: ['missing-field'], stored: [] },
    { name: 'string-timestamp', body: json({ ...heartbeat(host('string-ts')), timestamp: '2026-01-01T00:00:00Z' }), reasons: ['wrong-field-type'], stored: [] },
    { name: 'far-future', body: json({ ...heartbeat(host('far-future')), timestamp: now() + 10 * 86_400 }), reasons: ['bad-timestamp'], stored: [] },
    {
      name: 'multi',
      body: json([
        { type: 'task-received', uuid: multiTaskId, hostname: host('multi'), timestamp: now(), clock: 3, name: 'add', args: '[1, 2]', kwargs: '{}', retries: 0, root_id: multiTaskId, parent_id: null, eta: null, expires: null },
        { type: 'task-started', hostname: host('multi'), timestamp: now(), clock: 4 }, // no uuid
      ]),
      reasons: ['missing-field'],
      stored: [host('multi')],
    },
    { name: 'after', body: json(heartbeat(host('after'), { clock: 9 })), reasons: [], stored: [host('after')] },
  ];

  const allBad = cases.filter((c) => c.reasons.length > 0);

  beforeAll(async () => {
    db = createTestDatabase('sqlite');
    collector = await startCollector({
      brokers: `rabbitmq=${AMQP_URL},redis=${REDIS_URL}`,
      databaseUrl: db.url,
      amqpQueue: collectorQueue,
      env: { CM_MAX_REJECTED_RAW_BYTES: String(MAX_RAW_BYTES) },
    });
    store = await openStoreForAssertions(db.url);
    connection = await amqp.connect(AMQP_URL);
    connection.on('error', () => undefined);
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });

  afterAll(async () => {
    await collector?.kill();
    await store?.close();
    await connection?.close().catch(() => undefined);
    redis?.disconnect();
    await deleteTestQueue(AMQP_URL, collectorQueue).catch(() => undefined);
    await db?.drop();
  });

  it('rejects each malformed message with its reason, keeps its bytes, counts it, and stores the valid events around it', async () => {
    // RabbitMQ: every case in order, on a confirm channel (all reached the broker when it resolves).
    const channel = await connection!.createConfirmChannel();
    await channel.assertExchange('celeryev', 'topic', { durable: true, autoDelete: false });
    for (const c of cases) {
      channel.publish('celeryev', rk(c.name), c.body, {
        contentType: c.contentType ?? 'application/json',
        contentEncoding: c.contentEncoding ?? 'utf-8',
        deliveryMode: 1,
        headers: { hostname: 'e2e-bad-input' },
      });
    }
    await channel.waitForConfirms();
    await channel.close();

    // Redis: a bad envelope, then a good one (kombu's envelope, base64 body).
    const redisGood = heartbeat(host('redis-good'));
    const goodEnvelope = {
      body: Buffer.from(JSON.stringify(redisGood)).toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: { hostname: host('redis-good') },
      properties: {
        delivery_mode: 1,
        delivery_info: { exchange: 'celeryev', routing_key: rk('redis-good') },
        priority: 0,
        body_encoding: 'base64',
        delivery_tag: randomUUID(),
      },
    };
    expect(await redis!.publish(`/0.celeryev/${rk('redis-bad')}`, 'this is not a kombu envelope {')).toBeGreaterThanOrEqual(1);
    expect(await redis!.publish(`/0.celeryev/${rk('redis-good')}`, JSON.stringify(goodEnvelope))).toBeGreaterThanOrEqual(1);

    // The valid events after the bad ones arrive: everything before them was committed with them.
    const validHosts = [...cases.flatMap((c) => c.stored), host('redis-good')];
    const storedEvents = await waitFor(
      async () => {
        const rows = await store!.database.db.selectFrom('events').select(['hostname', 'type', 'source', 'uuid', 'payload']).where('hostname', 'in', validHosts).execute();
        return new Set(rows.map((r) => r.hostname)).size === validHosts.length ? rows : undefined;
      },
      { timeoutMs: 10_000, description: `valid events of ${validHosts.join(', ')} stored` },
    );
    const eventOf = (hostname: string) => storedEvents.filter((e) => e.hostname === hostname);
    expect(eventOf(host('before')).map((e) => [e.type, e.source])).toEqual([['worker-heartbeat', 'rabbitmq']]);
    expect(eventOf(host('after')).map((e) => [e.type, e.source])).toEqual([['worker-heartbeat', 'rabbitmq']]);
    expect(eventOf(host('redis-good')).map((e) => [e.type, e.source])).toEqual([['worker-heartbeat', 'redis']]);
    // The good element of the task.multi array stands on its own.
    expect(eventOf(host('multi')).map((e) => [e.type, e.uuid, e.source])).toEqual([['task-received', multiTaskId, 'rabbitmq']]);
    expect(await store!.task(multiTaskId)).toMatchObject({ state: 'RECEIVED', name: 'add', args: '[1, 2]', worker: host('multi') });
    expect((await store!.worker(host('after')))?.status).toBe('online');
    // Nothing from the bad messages became an event.
    const leaked = await store!.database.db
      .selectFrom('events')
      .select(['hostname', 'type'])
      .where('hostname', 'in', [host('too-large'), host('string-ts'), host('far-future'), host('yaml')])
      .execute();
    expect(leaked).toEqual([]);

    // Every bad message (or element) is kept aside with the right reason.
    const rejected = await waitFor(
      async () => {
        const rows = await store!.database.db.selectFrom('rejected_messages').selectAll().where('routing_key', 'like', `e2e.${run}.%`).execute();
        return rows.length >= allBad.length + 1 ? rows : undefined;
      },
      { timeoutMs: 5_000, description: `${allBad.length + 1} rejected messages with routing keys e2e.${run}.*` },
    );
    const byKey = new Map(rejected.map((r) => [r.routing_key, r]));
    expect(rejected.map((r) => r.routing_key).sort()).toEqual([...allBad.map((c) => rk(c.name)), rk('redis-bad')].sort());
    for (const c of allBad) {
      const row = byKey.get(rk(c.name))!;
      expect({ case: c.name, reason: row.reason, source: row.source }).toEqual({ case: c.name, reason: c.reasons[0], source: 'rabbitmq' });
      expect(row.detail.length, `detail of ${c.name}`).toBeGreaterThan(0);
      expect(row.received_at).toBeGreaterThan(now() - 60);
    }
    const redisBad = byKey.get(rk('redis-bad'))!;
    expect(redisBad).toMatchObject({ reason: 'bad-envelope', source: 'redis', raw_size: 'this is not a kombu envelope {'.length });
    expect(Buffer.from(redisBad.raw).toString('utf8')).toBe('this is not a kombu envelope {');

    // Raw bytes: kept exactly when small, truncated to the bound when large (with the true size).
    for (const name of ['not-json', 'not-utf8', 'pickle', 'yaml', 'missing-hostname', 'string-timestamp', 'far-future']) {
      const c = cases.find((x) => x.name === name)!;
      const row = byKey.get(rk(name))!;
      expect(Buffer.from(row.raw).equals(c.body), `raw bytes of ${name}`).toBe(true);
      expect(row.raw_size).toBe(c.body.length);
    }
    const large = byKey.get(rk('too-large'))!;
    expect(tooLarge.length).toBeGreaterThan(ONE_MIB);
    expect(large.raw_size).toBe(tooLarge.length);
    expect(large.raw.length).toBe(MAX_RAW_BYTES);
    expect(Buffer.from(large.raw).equals(tooLarge.subarray(0, MAX_RAW_BYTES))).toBe(true);
    expect(large.detail).toContain(String(tooLarge.length));

    // Details and content types say what was wrong.
    expect(byKey.get(rk('pickle'))).toMatchObject({ content_type: 'application/x-python-serialize' });
    expect(byKey.get(rk('pickle'))!.detail).toMatch(/pickle is never deserialized/);
    expect(byKey.get(rk('yaml'))).toMatchObject({ content_type: 'application/x-yaml' });
    expect(byKey.get(rk('missing-hostname'))!.detail).toMatch(/hostname/);
    expect(byKey.get(rk('string-timestamp'))!.detail).toMatch(/timestamp/);
    expect(byKey.get(rk('far-future'))!.detail).toMatch(/timestamp.*out of range/);
    const multi = byKey.get(rk('multi'))!;
    expect(multi.detail).toMatch(/^element 1 of 2: .*uuid/);
    expect(JSON.parse(Buffer.from(multi.raw).toString('utf8'))).toMatchObject({ type: 'task-started', hostname: host('multi') });

    // The metric counts them, by source and reason, exactly as the table holds them.
    const metrics = await collector!.metrics();
    const expectedCounts = new Map<string, number>();
    for (const c of allBad) for (const r of c.reasons) expectedCounts.set(`rabbitmq ${r}`, (expectedCounts.get(`rabbitmq ${r}`) ?? 0) + 1);
    expectedCounts.set('redis bad-envelope', 1);
    const all = await store!.database.db.selectFrom('rejected_messages').select(['source', 'reason']).execute();
    for (const [key, mine] of expectedCounts) {
      const [source, reason] = key.split(' ') as [string, string];
      const counted = metricValue(metrics, 'celery_monitor_messages_rejected_total', { source, reason });
      expect(counted, `celery_monitor_messages_rejected_total{source="${source}",reason="${reason}"}`).toBeGreaterThanOrEqual(mine);
      expect(counted, `metric vs table for ${key}`).toBe(all.filter((r) => r.source === source && r.reason === reason).length);
    }
    const reasonsSeen = new Set(metricSamples(metrics, 'celery_monitor_messages_rejected_total').map((s) => s.labels['reason']));
    for (const reason of ['not-json', 'not-utf8', 'unsupported-content-type', 'too-large', 'missing-field', 'wrong-field-type', 'bad-timestamp', 'bad-envelope']) {
      expect(reasonsSeen.has(reason), `metric sample for reason ${reason}`).toBe(true);
    }
    expect(metricValue(metrics, 'celery_monitor_events_stored_total', { source: 'rabbitmq', type: 'worker-heartbeat' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, 'celery_monitor_events_stored_total', { source: 'rabbitmq', type: 'task-received' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'celery_monitor_events_stored_total', { source: 'redis', type: 'worker-heartbeat' })).toBeGreaterThanOrEqual(1);

    // Still ready, every check green.
    const ready = await collector!.readiness();
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body.checks.every((c) => c.ok)).toBe(true);
    expect(collector!.isRunning()).toBe(true);
  });

  it('stores a heartbeat from a clock a minute ahead, and warns about that clock once (log and metric)', async () => {
    const channel = await connection!.createConfirmChannel();
    const ahead = host('clock-ahead');
    for (let i = 0; i < 2; i++) {
      channel.publish('celeryev', rk('clock-ahead'), json(heartbeat(ahead, { timestamp: now() + 60, clock: 20 + i })), {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        deliveryMode: 1,
        headers: { hostname: ahead },
      });
    }
    await channel.waitForConfirms();
    await channel.close();
    await waitFor(async () => (await store!.allWorkers()).some((w) => w.hostname === ahead) || undefined, {
      timeoutMs: 10_000,
      description: `worker ${ahead} stored`,
    });
    const warnings = await waitFor(
      async () => metricValue(await collector!.metrics(), 'celery_monitor_clock_drift_warnings_total', { source: 'rabbitmq' }) || undefined,
      { timeoutMs: 10_000, description: 'a clock drift warning counted' },
    );
    expect(warnings).toBe(1);
    const lines = collector!.output().split('\n').filter((l) => l.includes(ahead) && l.includes('clock'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"level":"warn".*the clock of .* seems \d+(\.\d)? s ahead of the collector's/);
    const logged = JSON.parse(lines[0]!) as { driftSeconds: number };
    expect(logged.driftSeconds).toBeGreaterThan(-61);
    expect(logged.driftSeconds).toBeLessThan(-55);
  });

  it('acknowledges every message, bad ones included: none is left in the queue or comes back after a crash', async () => {
    const checkChannel = await connection!.createChannel();
    checkChannel.on('error', () => undefined);
    try {
      await waitFor(async () => (await checkChannel.checkQueue(collectorQueue)).messageCount === 0, {
        timeoutMs: 5_000,
        description: `collector queue ${collectorQueue} empty (no ready messages)`,
      });
    } finally {
      await checkChannel.close().catch(() => undefined);
    }

    // Unacknowledged messages are not counted above, but a crash returns them to the queue:
    // SIGKILL the collector, then read whatever is in the queue — nothing of ours may be there.
    await collector!.kill();
    await new Promise((r) => setTimeout(r, 500));
    const channel = await connection!.createChannel();
    channel.on('error', () => undefined);
    const returned: { routingKey: string; redelivered: boolean }[] = [];
    try {
      for (let i = 0; i < 10_000; i++) {
        const message = await channel.get(collectorQueue, { noAck: true });
        if (message === false) break;
        returned.push({ routingKey: message.fields.routingKey, redelivered: message.fields.redelivered });
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
    // Other tests' workers may publish heartbeats meanwhile (fresh, never delivered): tolerated.
    expect(returned.filter((m) => m.routingKey.startsWith(`e2e.${run}.`))).toEqual([]);
    expect(returned.filter((m) => m.redelivered)).toEqual([]);
  });
});
