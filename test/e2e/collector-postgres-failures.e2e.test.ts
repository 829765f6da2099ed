/**
 * The collector on Postgres when the database misbehaves under a stream of Celery-shaped events
 * (RabbitMQ, a private exchange bound to the collector's queue):
 * - its connections are ended again and again mid-stream (pg_terminate_backend, as an administrator
 *   or a failover does): it keeps running, and every event is stored exactly once;
 * - another session holds a lock on the event log: /readyz and the log name the lock within
 *   seconds, and everything is stored once it is released.
 */
import { randomBytes } from 'node:crypto';
import * as pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../bench/workload';
import { rabbitQueueCounts } from '../support/broker-admin';
import { uniqueQueueName } from '../support/celery-worker';
import { startCollector, type CollectorProcess, type ReadinessBody } from '../support/collector-process';
import { publishWorkload } from '../support/publish-workload';
import { deleteTestQueue } from '../support/raw-events';
import { createTestDatabase, POSTGRES_URL, withPostgresAdmin as admin, type TestDatabase } from '../support/test-databases';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';


function databaseCheck(body: ReadinessBody): { ok: boolean; detail: string } {
  const found = body.checks.find((c) => c.name === 'database');
  if (!found) throw new Error(`no database check in ${JSON.stringify(body)}`);
  return found;
}

describe('collector on Postgres when the database misbehaves', () => {
  const run = randomBytes(4).toString('hex');
  const dbs: TestDatabase[] = [];
  const queues: string[] = [];
  const collectors: CollectorProcess[] = [];

  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.kill()));
    for (const q of queues) await deleteTestQueue(AMQP_URL, q).catch(() => undefined);
    for (const db of dbs) await db.drop();
  });

  const setUp = async (name: string): Promise<{ db: TestDatabase; schema: string; queue: string; app: string; collector: CollectorProcess }> => {
    const db = createTestDatabase('postgres');
    dbs.push(db);
    const schema = new URL(db.url).searchParams.get('schema')!;
    const queue = uniqueQueueName(`e2e-pg-${name}`);
    queues.push(queue);
    // application_name tells this collector's connections apart from every other test's.
    const app = `cm-e2e-${name}-${run}`;
    const collector = await startCollector({ brokers: `rabbitmq=${AMQP_URL}`, databaseUrl: `${db.url}&application_name=${app}`, amqpQueue: queue });
    collectors.push(collector);
    return { db, schema, queue, app, collector };
  };

  const storedCounts = (schema: string, hostPrefix: string) =>
    admin(async (c) => {
      const { rows } = await c.query(`select count(*)::int as n, count(distinct dedup_key)::int as k from ${schema}.events where source = 'rabbitmq' and hostname like $1`, [`${hostPrefix}%`]);
      return rows[0] as { n: number; k: number };
    });

  it('keeps running while its connections are ended mid-stream, and stores every event exactly once', async () => {
    const { schema, queue, app, collector } = await setUp('killed');
    const prefix = `pg-killed-${run}`;
    // Rounds of 2,000 events keep commits coming until five of them were ended in flight.
    let published = 0;
    let stop = false;
    const publisher = (async () => {
      for (let round = 0; !stop && round < 100; round++) {
        const workload = generateWorkload({ totalEvents: 2_000, seed: 100 + round, hostPrefix: `celery@${prefix}-r${round}-w`, clientHostname: `gen1@${prefix}-r${round}`, endTimestamp: Date.now() / 1000 - 1 });
        await publishWorkload(AMQP_URL, queue, `cm-e2e-${prefix}`, workload);
        published += workload.events;
      }
    })();
    // End the connection of a commit in flight (inside its transaction), then let it retry.
    const killed: string[] = [];
    const deadline = Date.now() + 60_000;
    try {
      while (killed.length < 5) {
        const ended = await admin(async (c) => {
          const { rows } = await c.query(
            "select state, pg_terminate_backend(pid) as ended from pg_stat_activity where application_name = $1 and state in ('active', 'idle in transaction') and xact_start is not null",
            [app],
          );
          return (rows as { state: string; ended: boolean }[]).filter((r) => r.ended).map((r) => r.state);
        });
        killed.push(...ended);
        if (Date.now() > deadline) throw new Error(`found only ${killed.length} commits in flight to end`);
        await new Promise((resolve) => setTimeout(resolve, ended.length > 0 ? 300 : 5));
      }
    } finally {
      stop = true;
      await publisher;
    }
    await waitFor(async () => {
      const counts = await rabbitQueueCounts(queue);
      return counts && counts.ready === 0 && counts.unacknowledged === 0 ? true : undefined;
    }, { timeoutMs: 60_000, description: 'the queue drained after the kills' });
    expect(collector.isRunning(), collector.output().slice(-3000)).toBe(true);
    const stored = async () => {
      const workers = await storedCounts(schema, `celery@${prefix}`);
      const clients = await storedCounts(schema, `gen1@${prefix}`);
      return { n: workers.n + clients.n, k: workers.k + clients.k };
    };
    await waitFor(async () => ((await stored()).n === published ? true : undefined), { timeoutMs: 60_000, description: 'every event stored' });
    expect(await stored()).toEqual({ n: published, k: published });
    await collector.stop();
  }, 150_000);

  it('names a lock held on the event log in /readyz and the log, and stores everything once it is released', async () => {
    const { schema, queue, collector } = await setUp('locked');
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`lock table ${schema}.events in access exclusive mode`);
      const events = 500;
      const workload = generateWorkload({ totalEvents: events, seed: 12, hostPrefix: `celery@pg-locked-${run}-w`, clientHostname: `gen1@pg-locked-${run}`, endTimestamp: Date.now() / 1000 - 1 });
      await publishWorkload(AMQP_URL, queue, `cm-e2e-pg-locked-${run}`, workload);
      const body = await waitFor(
        async () => {
          const { status, body } = await collector.readiness();
          return status === 503 && /lock timeout/.test(databaseCheck(body).detail) ? body : undefined;
        },
        { timeoutMs: 30_000, description: '/readyz naming the lock' },
      );
      expect(databaseCheck(body).detail).toMatch(/canceling statement due to lock timeout \(another process holds a lock the collector needs/);
      await collector.waitForLog('holds a lock the collector needs', 30_000);
      await holder.query('rollback');
      await waitFor(async () => ((await collector.readiness()).status === 200 ? true : undefined), { timeoutMs: 30_000, description: '/readyz 200 once released' });
      await waitFor(async () => ((await storedCounts(schema, `celery@pg-locked-${run}`)).n + (await storedCounts(schema, `gen1@pg-locked-${run}`)).n === events ? true : undefined), {
        timeoutMs: 30_000,
        description: 'every event stored',
      });
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
    await collector.stop();
  }, 90_000);
});
