/**
 * The harness's process control and the client's other commands (burst, revoke/terminate, retries),
 * against a real worker on RabbitMQ.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCeleryWorker, uniqueNodeName, uniqueQueueName, type CeleryWorker } from '../support/celery-worker';
import { revokeTask, sendBurst, sendTasks } from '../support/celery-client';
import { deleteTestQueue, openRawEventTap, type RawEventTap } from '../support/raw-events';
import { waitFor } from '../support/wait-for';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672//';

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('celery worker process control', () => {
  const started: CeleryWorker[] = [];
  const queues: string[] = [];

  afterEach(async () => {
    await Promise.all(started.splice(0).map((w) => w.kill()));
  });

  afterAll(async () => {
    for (const q of queues) await deleteTestQueue(AMQP_URL, q).catch(() => undefined);
  });

  it('kill() takes down the main process and its prefork children', async () => {
    const queue = uniqueQueueName();
    queues.push(queue);
    const worker = await startCeleryWorker({ brokerUrl: AMQP_URL, nodeName: uniqueNodeName(), queues: [queue], concurrency: 2 });
    started.push(worker);
    expect(groupAlive(worker.pid)).toBe(true);
    await worker.kill();
    expect(worker.isRunning()).toBe(false);
    expect((await worker.exited).signal).toBe('SIGKILL');
    await waitFor(async () => !groupAlive(worker.pid), { timeoutMs: 5_000, description: `process group ${worker.pid} to be gone` });
  });

  it('stop() falls back to SIGKILL when a warm shutdown waits on a long task', async () => {
    const queue = uniqueQueueName();
    queues.push(queue);
    const worker = await startCeleryWorker({ brokerUrl: AMQP_URL, nodeName: uniqueNodeName(), queues: [queue] });
    started.push(worker);
    const [id] = await sendTasks(AMQP_URL, [{ name: 'sleep', args: [30], queue }]);
    await worker.waitForLog(`Task sleep[${id}] received`, 10_000);
    const t0 = Date.now();
    await worker.stop(1_500);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(elapsed).toBeLessThan(10_000);
    expect(worker.isRunning()).toBe(false);
    await waitFor(async () => !groupAlive(worker.pid), { timeoutMs: 5_000, description: `process group ${worker.pid} to be gone` });
  });

  it('rejects with the captured log when the broker is unreachable', async () => {
    const t0 = Date.now();
    const error = await startCeleryWorker({
      brokerUrl: 'amqp://guest:guest@127.0.0.1:1//',
      nodeName: uniqueNodeName(),
      readyTimeoutMs: 4_000,
    }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toMatch(/did not become ready/);
    expect(error?.message).toMatch(/Cannot connect to amqp:\/\/guest:\*\*@127\.0\.0\.1:1/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('celery client commands', () => {
  let tap: RawEventTap | undefined;
  let worker: CeleryWorker | undefined;
  const queue = uniqueQueueName();

  const count = (type: string, ids: Set<string>): number =>
    tap?.events.filter((e) => e.event.type === type && ids.has(String(e.event.uuid))).length ?? 0;

  beforeAll(async () => {
    tap = await openRawEventTap(AMQP_URL);
    worker = await startCeleryWorker({ brokerUrl: AMQP_URL, nodeName: uniqueNodeName(), queues: [queue], concurrency: 2 });
  });

  afterAll(async () => {
    await worker?.kill();
    await tap?.close();
    await deleteTestQueue(AMQP_URL, queue).catch(() => undefined);
  });

  it('sendBurst sends N distinct tasks that all succeed', async () => {
    const ids = await sendBurst(AMQP_URL, 'add', 40, { args: [1, 2], queue });
    const idSet = new Set(ids);
    expect(idSet.size).toBe(40);
    await waitFor(async () => count('task-succeeded', idSet) === 40 || undefined, {
      timeoutMs: 20_000,
      description: `40 task-succeeded events (have ${count('task-succeeded', idSet)})`,
    });
    expect(count('task-sent', idSet)).toBe(40);
  });

  it('revokeTask(terminate) kills a running task and the worker reports task-revoked', async () => {
    const [id] = await sendTasks(AMQP_URL, [{ name: 'sleep', args: [30], queue }]);
    const taskId = id as string;
    await waitFor(async () => tap?.find((e) => e.event.type === 'task-started' && e.event.uuid === taskId), {
      timeoutMs: 10_000,
      description: `task-started for ${taskId}`,
    });
    await revokeTask(AMQP_URL, taskId, true);
    const revoked = await waitFor(async () => tap?.find((e) => e.event.type === 'task-revoked' && e.event.uuid === taskId), {
      timeoutMs: 10_000,
      description: `task-revoked for ${taskId}`,
    });
    expect(revoked.event['terminated']).toBe(true);
    expect(revoked.event['signum']).toBe(15);
    expect(revoked.event['expired']).toBe(false);
  });

  it('flaky(n) retries n times, then succeeds', async () => {
    const [id] = await sendTasks(AMQP_URL, [{ name: 'flaky', args: [2], queue }]);
    const taskId = id as string;
    const ids = new Set([taskId]);
    const succeeded = await waitFor(async () => tap?.find((e) => e.event.type === 'task-succeeded' && e.event.uuid === taskId), {
      timeoutMs: 15_000,
      description: `task-succeeded for flaky ${taskId}`,
    });
    expect(succeeded.event['result']).toBe('2');
    expect(count('task-retried', ids)).toBe(2);
    expect(count('task-received', ids)).toBe(3);
    // Each retry is re-published by the worker's pool process, which also emits task-sent.
    expect(count('task-sent', ids)).toBe(3);
  });

  it('client.py exits non-zero with a message for a bad command', async () => {
    await expect(sendTasks(AMQP_URL, [])).rejects.toThrow(/'send' needs a non-empty 'tasks' list/);
  });
});
