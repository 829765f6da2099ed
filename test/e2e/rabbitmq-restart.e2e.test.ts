/**
 * The collector survives a RabbitMQ restart: it notices, reports not-ready, retries with backoff
 * (logging each attempt), reconnects on its own when the broker is back, re-declares its queue and
 * binding, and stores what is published afterwards. Restarts the machine's RabbitMQ application
 * (rabbitmqctl stop_app / start_app), so it must not run beside other RabbitMQ tests (vitest runs
 * files one at a time here).
 */
import * as amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startCollector, openStoreForAssertions, type CollectorProcess } from '../support/collector-process';
import { createTestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const run = promisify(execFile);
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';

async function rabbitmqctl(...args: string[]): Promise<void> {
  await run('rabbitmqctl', ['-q', ...args], { timeout: 120_000 });
}

async function publishHeartbeats(hostname: string, from: number, count: number): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createConfirmChannel();
    for (let i = from; i < from + count; i += 1) {
      const body = { type: 'worker-heartbeat', hostname, timestamp: Date.now() / 1000, clock: i, freq: 2, active: 0, processed: i };
      channel.publish('celeryev', 'worker.heartbeat', Buffer.from(JSON.stringify(body)), {
        contentType: 'application/json', contentEncoding: 'utf-8', headers: { hostname }, deliveryMode: 1,
      });
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

describe('collector across a RabbitMQ restart', () => {
  const db = createTestDatabase('sqlite');
  const queue = `cm-e2e.restart.${randomBytes(4).toString('hex')}`;
  let collector: CollectorProcess | null = null;

  afterAll(async () => {
    await rabbitmqctl('start_app').catch(() => undefined);
    await rabbitmqctl('await_startup').catch(() => undefined);
    await collector?.stop().catch(() => collector?.kill());
    const connection = await amqp.connect(AMQP_URL).catch(() => null);
    if (connection) {
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue).catch(() => undefined);
      await connection.close();
    }
    await db.drop();
  });

  it('reconnects by itself and stores what comes after', async () => {
    const hostname = `celery@restart-${randomBytes(3).toString('hex')}`;
    collector = await startCollector({ brokers: `rabbit=${AMQP_URL}`, databaseUrl: db.url, amqpQueue: queue });
    await publishHeartbeats(hostname, 0, 20);
    const store = await openStoreForAssertions(db.url);
    const countFor = async () => (await store.readEvents(0, 10_000)).filter((e) => e.hostname === hostname).length;
    try {
      await waitFor(async () => ((await countFor()) === 20 ? true : undefined), { timeoutMs: 15_000, description: '20 events before the restart' });

      await rabbitmqctl('stop_app');
      const notReady = await waitFor(async () => {
        const r = await collector!.readiness();
        return r.status === 503 ? r.body : undefined;
      }, { timeoutMs: 20_000, description: '/readyz 503 while RabbitMQ is down' });
      expect(notReady.checks.find((c) => c.name === 'source:rabbit')).toMatchObject({ ok: false });
      await collector.waitForLog(/RabbitMQ connection attempt failed; retrying/, 20_000);

      await rabbitmqctl('start_app');
      await rabbitmqctl('await_startup');
      await waitFor(async () => ((await collector!.readiness()).status === 200 ? true : undefined), {
        timeoutMs: 60_000, intervalMs: 250, description: '/readyz 200 after RabbitMQ is back',
      });
      await publishHeartbeats(hostname, 20, 20);
      await waitFor(async () => ((await countFor()) === 40 ? true : undefined), { timeoutMs: 15_000, description: '40 events after the restart' });
    } finally {
      await store.close();
    }

    const logs = collector.logs();
    const attempts = logs.filter((l) => l.msg === 'RabbitMQ connection attempt failed; retrying');
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.every((l) => typeof l.retryInMs === 'number' && (l.retryInMs as number) <= 30_000)).toBe(true);
    // Numbered one after another; a connection lost within 10 s of connecting (this one may have
    // been) counts as attempt 1 itself, so the failed attempts may start at 2.
    const first = attempts[0]!.attempt as number;
    expect(first).toBeLessThanOrEqual(2);
    expect(attempts.map((l) => l.attempt)).toEqual(attempts.map((_, i) => first + i));
    expect(logs.filter((l) => l.msg === 'consuming Celery events from RabbitMQ')).toHaveLength(2);
    expect(collector.isRunning()).toBe(true);
  });
});
