/**
 * Smoke test of the Celery test harness against the real brokers: a real Celery 5.2 worker, the
 * real Celery client (client.py) and a raw event consumer that involves none of the collector code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCeleryWorker, uniqueNodeName, uniqueQueueName, type CeleryWorker } from '../support/celery-worker';
import { sendTasks } from '../support/celery-client';
import { deleteTestQueue, openRawEventTap, type RawCeleryEvent, type RawEventTap } from '../support/raw-events';
import { waitFor } from '../support/wait-for';

const BROKERS = [
  { label: 'RabbitMQ', url: 'amqp://guest:guest@127.0.0.1:5672//' },
  { label: 'Redis', url: 'redis://127.0.0.1:6379/0' },
] as const;

describe.each(BROKERS)('celery harness on $label', ({ url }) => {
  let tap: RawEventTap | undefined;
  let worker: CeleryWorker | undefined;
  const nodeName = uniqueNodeName('w1');
  const queue = uniqueQueueName();

  const eventFor = (id: string, type: string): Promise<RawCeleryEvent> =>
    waitFor(
      async () => {
        const found = tap?.find((e) => e.event.uuid === id && e.event.type === type);
        if (found) return found;
        // Thrown (not returned) so that the timeout error shows what did arrive by then.
        const seen = tap?.events.map((e) => `${e.routingKey}:${String(e.event.type)}`).join(', ');
        throw new Error(`events seen so far: ${seen}`);
      },
      { timeoutMs: 15_000, intervalMs: 50, description: `${type} for task ${id} on ${url}` },
    );

  beforeAll(async () => {
    // The tap must exist before the worker: broker-side fan-out drops events nobody listens to.
    tap = await openRawEventTap(url);
    worker = await startCeleryWorker({ brokerUrl: url, nodeName, queues: [queue], concurrency: 1 });
  });

  afterAll(async () => {
    await worker?.stop();
    await tap?.close();
    await deleteTestQueue(url, queue).catch(() => undefined);
  });

  it('starts a worker that announces itself with worker-online and heartbeats', async () => {
    expect(worker?.pid).toBeGreaterThan(0);
    expect(worker?.output()).toContain(`${nodeName} ready.`);
    const online = await waitFor(
      async () => tap?.find((e) => e.event.type === 'worker-online' && e.event.hostname === nodeName),
      { timeoutMs: 10_000, description: `worker-online from ${nodeName}` },
    );
    expect(online.routingKey).toBe('worker.online');
    expect(online.batched).toBe(false);
    const heartbeat = await waitFor(
      async () => tap?.find((e) => e.event.type === 'worker-heartbeat' && e.event.hostname === nodeName),
      { timeoutMs: 10_000, description: `worker-heartbeat from ${nodeName}` },
    );
    expect(heartbeat.routingKey).toBe('worker.heartbeat');
    expect(heartbeat.event['freq']).toBe(2);
  });

  it('delivers task-sent, task-received, task-started and task-succeeded for a real add task', async () => {
    const [id] = await sendTasks(url, [{ name: 'add', args: [2, 3], queue }]);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const taskId = id as string;

    const succeeded = await eventFor(taskId, 'task-succeeded');
    expect(succeeded.routingKey).toBe('task.multi');
    expect(succeeded.batched).toBe(true);
    expect(succeeded.event.hostname).toBe(nodeName);
    expect(succeeded.event['result']).toBe('5');
    expect(typeof succeeded.event['runtime']).toBe('number');

    const received = await eventFor(taskId, 'task-received');
    expect(received.event['name']).toBe('add');
    // JSON-serialized task args arrive as a list, so Celery's argsrepr is a list repr.
    expect(received.event['args']).toBe('[2, 3]');
    await eventFor(taskId, 'task-started');

    const sent = await eventFor(taskId, 'task-sent');
    expect(sent.event['name']).toBe('add');
    expect(sent.event['queue']).toBe(queue);
    // task-sent comes from the client, not the worker.
    expect(sent.event.hostname).not.toBe(nodeName);
  });

  it('delivers task-failed with the exception repr for a failing task', async () => {
    const [id] = await sendTasks(url, [{ name: 'fail', args: ['boom'], queue }]);
    const failed = await eventFor(id as string, 'task-failed');
    expect(failed.event['exception']).toBe("ValueError('boom')");
    expect(String(failed.event['traceback'])).toContain('ValueError: boom');
  });

  it('sees worker-offline when the worker is stopped', async () => {
    const started = Date.now();
    await worker?.stop();
    expect(worker?.isRunning()).toBe(false);
    expect(Date.now() - started).toBeLessThan(15_000);
    await waitFor(
      async () => tap?.find((e) => e.event.type === 'worker-offline' && e.event.hostname === nodeName),
      { timeoutMs: 5_000, description: `worker-offline from ${nodeName}` },
    );
    expect(tap?.undecodable).toEqual([]);
  });
});
