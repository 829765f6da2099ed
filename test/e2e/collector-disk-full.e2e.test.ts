/**
 * The collector on a disk that fills up (RabbitMQ + SQLite on a real 10 MiB tmpfs, so it runs
 * where the tests may mount one: as root, as on CI). While the disk is full it acknowledges
 * nothing, /readyz answers 503 naming the database check and the cause, and the events wait in
 * the queue; once the disk is larger it stores every event exactly once, projected, and is ready
 * again — without a restart.
 */
import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateWorkload } from '../bench/workload';
import { rabbitQueueCounts } from '../support/broker-admin';
import { uniqueQueueName } from '../support/celery-worker';
import { startCollector, type CollectorProcess, type ReadinessBody } from '../support/collector-process';
import { publishWorkload } from '../support/publish-workload';
import { deleteTestQueue } from '../support/raw-events';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from '../support/tmpfs';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';
const EVENTS = 12_000;

function databaseCheck(body: ReadinessBody): { ok: boolean; detail: string } {
  const found = body.checks.find((c) => c.name === 'database');
  if (!found) throw new Error(`no database check in ${JSON.stringify(body)}`);
  return found;
}

describe.skipIf(!canMountTmpfs())('collector on a full disk (RabbitMQ + SQLite on tmpfs)', () => {
  const run = randomBytes(4).toString('hex');
  const queue = uniqueQueueName('e2e-disk-full');
  const exchange = `cm-e2e-disk-full-${run}`;
  let disk: Tmpfs | undefined;
  let collector: CollectorProcess | undefined;

  afterAll(async () => {
    await collector?.kill();
    await deleteTestQueue(AMQP_URL, queue).catch(() => undefined);
    disk?.remove();
  });

  it('acknowledges nothing while the disk is full, says so in /readyz, and stores everything once there is room', async () => {
    disk = mountTmpfs(10, 'cm-disk-full-');
    const file = join(disk.path, 'collector.db');
    collector = await startCollector({ brokers: `rabbitmq=${AMQP_URL}`, databaseUrl: `sqlite:${file}`, amqpQueue: queue });

    // Celery-shaped traffic (task.multi arrays, heartbeats) through a private exchange bound to
    // the collector's queue: more than the disk holds.
    const workload = generateWorkload({ totalEvents: EVENTS, hostPrefix: `celery@disk-full-${run}-w`, clientHostname: `gen1@disk-full-${run}`, endTimestamp: Date.now() / 1000 - 1 });
    await publishWorkload(AMQP_URL, queue, exchange, workload);

    const full = await waitFor(
      async () => {
        const { status, body } = await collector!.readiness();
        return status === 503 && /disk is full/.test(databaseCheck(body).detail) ? body : undefined;
      },
      { timeoutMs: 30_000, description: '/readyz naming the full disk' },
    );
    expect(databaseCheck(full).detail).toMatch(/database or disk is full \(the database's disk is full: free space/);
    await collector.waitForLog("committing a batch failed; nothing was acknowledged, retrying: the database's disk is full: free space there or move the database to a larger volume");
    // What is not committed is not acknowledged: it waits in the queue (ready, or delivered and unacknowledged).
    const waiting = await rabbitQueueCounts(queue);
    expect(waiting!.ready + waiting!.unacknowledged).toBeGreaterThan(0);

    disk.resize(200);
    await waitFor(async () => ((await collector!.readiness()).status === 200 ? true : undefined), { timeoutMs: 60_000, description: '/readyz 200 once there is room' });
    await waitFor(async () => ((await rabbitQueueCounts(queue))?.ready === 0 && (await rabbitQueueCounts(queue))?.unacknowledged === 0 ? true : undefined), {
      timeoutMs: 60_000,
      description: 'the queue drained',
    });

    const db = new BetterSqlite3(file, { readonly: true });
    try {
      const stored = db.prepare("select count(*) as n, count(distinct dedup_key) as k from events where source = 'rabbitmq'").get() as { n: number; k: number };
      expect(stored).toEqual({ n: EVENTS, k: EVENTS });
      const tasks = db.prepare('select count(*) as n from tasks').get() as { n: number };
      const uuids = new Set(
        workload.messages.flatMap((m) => {
          const parsed = JSON.parse(m.body.toString('utf8')) as { uuid?: string } | { uuid?: string }[];
          return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((e) => (e.uuid ? [e.uuid] : []));
        }),
      );
      expect(tasks.n).toBe(uuids.size);
      expect(db.prepare('pragma integrity_check').get()).toEqual({ integrity_check: 'ok' });
    } finally {
      db.close();
    }
    await collector.stop();
  }, 150_000);
});
