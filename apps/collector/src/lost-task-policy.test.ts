/**
 * The lost-task policy against a real event store on both databases, with the collector's real
 * ingest pipeline for derived events. Proves its rules:
 * - a task STARTED on a worker that then went offline (its own worker-offline, or the liveness
 *   policy's heartbeat timeout) or reported running no task (restarted: worker-online with active
 *   0; or a heartbeat with active 0) gets one derived `task-lost` event (source
 *   `collector:lost-tasks`), stamped at that instant with the reason, and its row says LOST; the
 *   worker's counts follow, and the verdict is no sign of the worker's life;
 * - only a verdict that still holds a grace period after it was found is appended (a worker
 *   reconnecting to its broker goes offline and online again, its task running on);
 * - tasks that ended, that started after the restart, or whose worker is alive are left alone;
 * - before judging, what was received is committed (a task-succeeded waiting for its batch wins);
 * - nothing is judged while the collector is behind, or once stopped;
 * - a task redelivered after the verdict takes the state of its new attempt;
 * - verdicts are idempotent (a second check; a twin collector's identical verdict is stored once),
 *   stranded tasks are read page after page (tasks waiting out a drain keep no others waiting),
 *   and a rebuild gives the same rows.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStore, type EventWriter, type NewEvent, type StoredEvent } from '../../../libs/state/src';
import { createLogger } from '../../../libs/logging/src/logger';
import { event, type EventSpec } from '../../../test/support/event-factory';
import { metricValue } from '../../../test/support/prometheus-text';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/test-databases';
import type { CeleryEvent, EventDelivery } from '../../../libs/broker/src';
import { LIVENESS_SOURCE, LOST_TASKS_SOURCE, lostTaskVerdict, taskLostEvent } from './derived-events';
import { IngestPipeline } from './ingest-pipeline';
import { LOST_TASKS_PER_PAGE, LostTaskPolicy } from './lost-task-policy';
import { CollectorMetrics } from './metrics';

const T = Math.floor(Date.now() / 1000) - 600;
const W1 = 'celery@w1';
const W2 = 'celery@w2';
const logger = createLogger('silent', 'collector');

let seq = 0;
const ev = (spec: EventSpec, source = 'rabbitmq'): NewEvent => event({ clock: ++seq, ...spec }, source);
/** Celery's heart reports `active`, the tasks running: a new process starts with 0. */
const online = (hostname: string, t: number, active = 0): NewEvent => ev({ type: 'worker-online', hostname, timestamp: t, freq: 2, active });
const heartbeat = (hostname: string, t: number, active = 1): NewEvent => ev({ type: 'worker-heartbeat', hostname, timestamp: t, freq: 2, active });
const goodbye = (hostname: string, t: number, active = 1): NewEvent => ev({ type: 'worker-offline', hostname, timestamp: t, active });
/** The policy's grace and drain window in these scenarios (seconds). */
const GRACE = 5;
const DRAIN = 60;
/** The liveness policy's verdict, as it stores it. */
const timedOut = (hostname: string, t: number): NewEvent =>
  event({ type: 'worker-offline', hostname, timestamp: t, reason: 'heartbeat-timeout', broker_source: 'rabbitmq' }, LIVENESS_SOURCE);
const received = (uuid: string, hostname: string, t: number, retries = 0): NewEvent =>
  ev({ type: 'task-received', hostname, uuid, name: 'app.long', args: '(60,)', kwargs: '{}', retries, timestamp: t });
const started = (uuid: string, hostname: string, t: number): NewEvent => ev({ type: 'task-started', hostname, uuid, timestamp: t });
const succeeded = (uuid: string, hostname: string, t: number): NewEvent => ev({ type: 'task-succeeded', hostname, uuid, result: '1', runtime: 1, timestamp: t });

describe.each(DIALECTS)('LostTaskPolicy on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let metrics: CollectorMetrics;
  let pipeline: IngestPipeline;
  let policy: LostTaskPolicy;
  let behind: boolean;

  const newPolicy = (graceSeconds = GRACE, drainSeconds = DRAIN): LostTaskPolicy =>
    new LostTaskPolicy(
      store,
      { isBehind: () => behind, appendDerived: (events) => pipeline.appendDerived(events), commitReceived: () => pipeline.commitReceived() },
      metrics,
      logger,
      { checkIntervalMs: 20, graceSeconds, drainSeconds },
    );

  /** A check at `now` finds the verdicts; one a grace later appends those that still hold. */
  const checkOverGrace = async (now: number): Promise<string[]> => {
    expect(await policy.check(now)).toEqual([]);
    return policy.check(now + GRACE);
  };

  const commit = async (...events: NewEvent[]): Promise<void> => {
    await store.append({ events, rejected: [] });
  };
  const verdicts = async (): Promise<StoredEvent[]> => (await store.readEvents(0, 100_000)).filter((e) => e.source === LOST_TASKS_SOURCE);
  const declaredLost = async (reason: string): Promise<number> =>
    metricValue(await metrics.registry.metrics(), 'celery_monitor_tasks_declared_lost_total', { reason });

  beforeEach(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url);
    metrics = new CollectorMetrics();
    // A long batch delay: what is pushed stays uncommitted until something commits it.
    pipeline = new IngestPipeline(store, new Map(), metrics, logger, { maxEvents: 1000, maxDelayMs: 60_000, retryBackoff: { initialMs: 10, maxMs: 50 } });
    behind = false;
    policy = newPolicy();
  });

  afterEach(async () => {
    await policy.stop();
    await pipeline.close();
    await store.close();
    await db.drop();
  });

  it('declares lost a task STARTED on a worker that said goodbye running nothing, once, at that instant', async () => {
    // Its goodbye counts no running task: the task's end was lost on the way.
    await commit(online(W1, T), received('t-1', W1, T + 1), started('t-1', W1, T + 2), heartbeat(W1, T + 3), goodbye(W1, T + 10, 0));
    expect((await store.task('t-1'))?.state).toBe('STARTED');

    // Found at T + 11; still true a grace later: appended then, received_at that check's time.
    expect(await checkOverGrace(T + 11)).toEqual(['t-1']);
    const [verdict, ...more] = await verdicts();
    expect(more).toEqual([]);
    expect(verdict).toMatchObject({
      type: 'task-lost',
      hostname: W1,
      uuid: 't-1',
      timestamp: T + 10,
      received_at: T + 11 + GRACE,
      payload: { type: 'task-lost', uuid: 't-1', hostname: W1, timestamp: T + 10, reason: 'worker-offline', started_at: T + 2, broker_source: 'rabbitmq' },
    });
    const task = await store.task('t-1');
    expect(task).toMatchObject({ state: 'LOST', state_at: T + 10, started_at: T + 2, worker: W1, source: 'rabbitmq', name: 'app.long' });
    const worker = await store.worker(W1);
    // The verdict is no sign of life: the worker stays offline since its goodbye.
    expect(worker).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', offline_since: T + 10, last_seen_at: T + 3 });
    expect(JSON.parse(worker!.task_counts)).toEqual({ LOST: 1 });
    expect(await declaredLost('worker-offline')).toBe(1);

    // Judged once: a second check finds nothing left.
    expect(await checkOverGrace(T + 20)).toEqual([]);
    expect(await verdicts()).toHaveLength(1);
  });

  it("takes the reason of a heartbeat timeout from the liveness policy's verdict", async () => {
    await commit(online(W1, T), received('t-2', W1, T + 1), started('t-2', W1, T + 2), heartbeat(W1, T + 3), timedOut(W1, T + 7));
    expect(await checkOverGrace(T + 8)).toEqual(['t-2']);
    expect((await verdicts())[0]?.payload).toMatchObject({ reason: 'heartbeat-timeout', timestamp: T + 7 });
    expect(await store.task('t-2')).toMatchObject({ state: 'LOST', state_at: T + 7 });
    expect(await store.worker(W1)).toMatchObject({ status: 'offline', offline_reason: 'heartbeat-timeout' });
    expect(await declaredLost('heartbeat-timeout')).toBe(1);
  });

  it('declares lost, from the restart, a task STARTED before its worker started again without missing a heartbeat', async () => {
    await commit(
      online(W1, T),
      received('before', W1, T + 1),
      started('before', W1, T + 2),
      heartbeat(W1, T + 3),
      online(W1, T + 5), // killed and restarted (systemd, a container restart) within the expiry: a new process runs nothing
      received('after', W1, T + 6),
      started('after', W1, T + 7),
      heartbeat(W1, T + 8),
    );
    expect(await store.worker(W1)).toMatchObject({ status: 'online', last_started_at: T + 5, last_idle_at: T + 5 });
    expect(await checkOverGrace(T + 9)).toEqual(['before']);
    expect((await verdicts())[0]?.payload).toMatchObject({ reason: 'worker-restarted', timestamp: T + 5, started_at: T + 2 });
    expect(await store.task('before')).toMatchObject({ state: 'LOST', state_at: T + 5 });
    expect((await store.task('after'))?.state).toBe('STARTED');
    expect(JSON.parse((await store.worker(W1))!.task_counts)).toEqual({ LOST: 1, STARTED: 1 });
    expect(await declaredLost('worker-restarted')).toBe(1);
  });

  it("declares lost a task its live worker says it no longer runs (its end never reached us)", async () => {
    await commit(online(W1, T), received('t-7', W1, T + 1), started('t-7', W1, T + 2), heartbeat(W1, T + 4, 1), heartbeat(W1, T + 6, 0));
    expect(await policy.check(T + 7)).toEqual([]);
    // Each idle heartbeat moves the evidence on: the verdict first found stands and comes due.
    await commit(heartbeat(W1, T + 8, 0), heartbeat(W1, T + 10, 0));
    expect(await policy.check(T + 7 + GRACE)).toEqual(['t-7']);
    expect((await verdicts())[0]?.payload).toMatchObject({ reason: 'worker-idle', timestamp: T + 6 });
    expect(await store.worker(W1)).toMatchObject({ status: 'online' });
    expect(await declaredLost('worker-idle')).toBe(1);
  });

  it('waits out the grace: a worker reconnecting to its broker goes offline and online again while its task runs on', async () => {
    // Celery restarts its heart when the broker connection comes back: worker-offline, then
    // worker-online, both counting the task still running (active 1).
    await commit(online(W1, T), received('t-8', W1, T + 1), started('t-8', W1, T + 2), heartbeat(W1, T + 3), goodbye(W1, T + 10, 1));
    expect(await policy.check(T + 11)).toEqual([]); // found: the worker is offline
    await commit(online(W1, T + 12, 1), heartbeat(W1, T + 14, 1));
    expect(await policy.check(T + 11 + GRACE)).toEqual([]); // it no longer holds
    expect(await policy.check(T + 30)).toEqual([]);
    expect(await verdicts()).toEqual([]);
    await commit(succeeded('t-8', W1, T + 40));
    expect((await store.task('t-8'))?.state).toBe('SUCCESS');
  });

  it('waits out the drain window when the worker said goodbye while the task ran (a warm shutdown finishes it)', async () => {
    await commit(online(W1, T), received('ends', W1, T + 1), started('ends', W1, T + 2), received('cut', W1, T + 1), started('cut', W1, T + 2));
    await commit(heartbeat(W1, T + 3, 2), goodbye(W1, T + 10, 2));
    expect(await policy.check(T + 11)).toEqual([]);
    expect(await policy.check(T + 11 + GRACE)).toEqual([]); // a grace is not enough
    // One task ends during the shutdown (the worker stays offline: its goodbye stands).
    await commit(succeeded('ends', W1, T + 15));
    expect(await store.worker(W1)).toMatchObject({ status: 'offline', offline_reason: 'worker-offline', last_seen_at: T + 15 });
    expect(await policy.check(T + 20)).toEqual([]);
    expect((await store.task('ends'))?.state).toBe('SUCCESS');
    // The other never ends (the worker was killed during its shutdown): lost once the drain window has passed.
    expect(await policy.check(T + 11 + DRAIN)).toEqual(['cut']);
    expect((await verdicts())[0]?.payload).toMatchObject({ uuid: 'cut', reason: 'worker-offline', timestamp: T + 10 });
    expect(await store.task('cut')).toMatchObject({ state: 'LOST', state_at: T + 10 });
  });

  it("a verdict stands for one attempt: a task redelivered and cut off again gets its new attempt's verdict", async () => {
    await commit(online(W1, T), received('t-9', W1, T + 1), started('t-9', W1, T + 2), timedOut(W1, T + 10));
    expect(await policy.check(T + 11)).toEqual([]); // found on W1
    // Before the next check, the message is redelivered (acks_late) to W2, which dies too.
    await commit(online(W2, T), received('t-9', W2, T + 12), started('t-9', W2, T + 13), timedOut(W2, T + 16));
    expect(await policy.check(T + 11 + GRACE)).toEqual([]); // W2's verdict is new: its grace starts now
    expect(await policy.check(T + 11 + 2 * GRACE)).toEqual(['t-9']);
    expect(await store.task('t-9')).toMatchObject({ state: 'LOST', state_at: T + 16, worker: W2 });
    expect((await verdicts()).map((e) => [e.hostname, e.timestamp])).toEqual([[W2, T + 16]]);
  });

  it('a goodbye followed by worker-online (a broker reconnection) is no shutdown: a later death waits the grace, not the drain', async () => {
    await commit(online(W1, T), received('t-10', W1, T + 1), started('t-10', W1, T + 2), goodbye(W1, T + 10, 1), online(W1, T + 11, 1), heartbeat(W1, T + 13));
    await commit(timedOut(W1, T + 17)); // then killed
    expect(await checkOverGrace(T + 18)).toEqual(['t-10']);
    expect((await verdicts())[0]?.payload).toMatchObject({ reason: 'heartbeat-timeout', timestamp: T + 17 });
  });

  it('a task that ran across a broker reconnection and whose end never came is lost as worker-idle, not as a restart', async () => {
    // Celery 5.2 sends no end event for a task that ran across a reconnection of its worker.
    await commit(online(W1, T), received('t-11', W1, T + 1), started('t-11', W1, T + 2), goodbye(W1, T + 10, 1), online(W1, T + 10.5, 1), heartbeat(W1, T + 12, 1));
    await commit(heartbeat(W1, T + 60, 0)); // the task ended; its end never came
    expect(await store.worker(W1)).toMatchObject({ last_started_at: T, last_idle_at: T + 60 });
    expect(await checkOverGrace(T + 61)).toEqual(['t-11']);
    expect((await verdicts())[0]?.payload).toMatchObject({ reason: 'worker-idle', timestamp: T + 60 });
  });

  it('leaves alone a task its worker rejected after starting it (Celery keeps it STARTED by precedence)', async () => {
    await commit(online(W1, T), received('t-12', W1, T + 1), started('t-12', W1, T + 2), ev({ type: 'task-rejected', hostname: W1, uuid: 't-12', requeue: false, timestamp: T + 3 }));
    await commit(heartbeat(W1, T + 4, 0), goodbye(W1, T + 10, 0));
    expect(await store.task('t-12')).toMatchObject({ state: 'STARTED', rejected_at: T + 3 });
    expect(await checkOverGrace(T + 11)).toEqual([]);
  });

  it('leaves alone the tasks of a worker without a heart (--without-heartbeat): its silence between task events says nothing', async () => {
    await commit(received('t-13', W1, T + 1), started('t-13', W1, T + 2), timedOut(W1, T + 6));
    expect(await store.worker(W1)).toMatchObject({ status: 'offline', last_heartbeat_at: null });
    expect(await checkOverGrace(T + 7)).toEqual([]);
  });

  it('leaves alone a task received again since it started: it waits on its new worker, which reports running nothing', async () => {
    // acks_late: W1 dies, W2 receives the message again but holds it (an ETA, a rate limit).
    await commit(online(W1, T), received('t-14', W1, T + 1), started('t-14', W1, T + 2), online(W2, T), received('t-14', W2, T + 5), heartbeat(W2, T + 6, 0));
    expect(await store.task('t-14')).toMatchObject({ state: 'STARTED', worker: W2 }); // Celery's precedence: STARTED over RECEIVED
    expect(await checkOverGrace(T + 7)).toEqual([]);
  });

  it('leaves alone tasks that ended, tasks that never started, and tasks of live workers', async () => {
    await commit(
      online(W1, T),
      received('done', W1, T + 1),
      started('done', W1, T + 2),
      succeeded('done', W1, T + 3),
      received('reserved', W1, T + 4), // prefetched, never started: the broker redelivers it
      goodbye(W1, T + 10, 0),
      online(W2, T),
      received('running', W2, T + 1),
      started('running', W2, T + 2),
      heartbeat(W2, T + 9),
    );
    expect(await checkOverGrace(T + 11)).toEqual([]);
    expect(await verdicts()).toEqual([]);
    expect((await store.task('reserved'))?.state).toBe('RECEIVED');
    expect((await store.task('running'))?.state).toBe('STARTED');
  });

  it('commits what was received before judging: the end of the task waiting for its batch wins', async () => {
    await commit(online(W1, T), received('t-3', W1, T + 1), started('t-3', W1, T + 2), goodbye(W1, T + 10));
    // The collector's writes pass a gate: a commit in flight waits for it, so what arrives next
    // waits for its batch, as behind a slow commit.
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const gated: EventWriter = {
      description: store.description,
      append: async (input) => {
        await gate;
        return store.append(input);
      },
      probeWritable: () => store.probeWritable(),
      sourceCheckpoint: (source) => store.sourceCheckpoint(source),
      expiredWorkers: (now) => store.expiredWorkers(now),
      strandedTasks: (limit) => store.strandedTasks(limit),
      sizeBytes: () => store.sizeBytes(),
      close: async () => undefined,
    };
    await pipeline.close();
    pipeline = new IngestPipeline(gated, new Map(), metrics, logger, { maxEvents: 1000, maxDelayMs: 0, retryBackoff: { initialMs: 10, maxMs: 50 } });
    policy = newPolicy(0, 0);
    const delivery = (e: CeleryEvent, receivedAt: number): EventDelivery => ({ source: 'rabbitmq', receivedAt, result: { events: [e], rejected: [] }, token: null });
    // A heartbeat of another worker is being committed; the task's end (a warm shutdown reports
    // it before the goodbye) arrives behind it.
    pipeline.push(delivery({ type: 'worker-heartbeat', hostname: W2, timestamp: T + 10, clock: 98, uuid: null, fields: { type: 'worker-heartbeat', hostname: W2, timestamp: T + 10, clock: 98 } }, T + 10.2));
    pipeline.push(
      delivery(
        { type: 'task-succeeded', hostname: W1, timestamp: T + 9, clock: 99, uuid: 't-3', fields: { type: 'task-succeeded', hostname: W1, uuid: 't-3', timestamp: T + 9, clock: 99, result: '1', runtime: 7 } },
        T + 10.5,
      ),
    );
    expect(pipeline.pendingItems).toBe(1);
    setTimeout(openGate, 100);
    expect(await policy.check(T + 11)).toEqual([]);
    expect(await verdicts()).toEqual([]);
    expect((await store.task('t-3'))?.state).toBe('SUCCESS');
  });

  it('judges nothing while the collector is behind, nor once stopped', async () => {
    await commit(online(W1, T), received('t-4', W1, T + 1), started('t-4', W1, T + 2), goodbye(W1, T + 10));
    policy = newPolicy(0, 0);
    behind = true;
    expect(await policy.check(T + 11)).toEqual([]);
    behind = false;
    await policy.stop();
    expect(await policy.check(T + 12)).toEqual([]);
    expect(await verdicts()).toEqual([]);
    expect((await store.task('t-4'))?.state).toBe('STARTED');
  });

  it('runs on its own once started', async () => {
    await commit(online(W1, T), received('t-5', W1, T + 1), started('t-5', W1, T + 2), goodbye(W1, T + 10));
    policy = newPolicy(0, 0);
    policy.start();
    const deadline = Date.now() + 5_000;
    while ((await store.task('t-5'))?.state !== 'LOST' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await store.task('t-5'))?.state).toBe('LOST');
  });

  it('a task redelivered after the verdict takes the state of its new attempt, and is not judged again', async () => {
    await commit(online(W1, T), received('t-6', W1, T + 1), started('t-6', W1, T + 2), timedOut(W1, T + 10)); // killed: its heartbeats stopped
    expect(await checkOverGrace(T + 11)).toEqual(['t-6']);
    // acks_late: the broker hands the message to another worker.
    await commit(online(W2, T), received('t-6', W2, T + 12));
    expect(await store.task('t-6')).toMatchObject({ state: 'RECEIVED', worker: W2 });
    await commit(started('t-6', W2, T + 13));
    expect(await store.task('t-6')).toMatchObject({ state: 'STARTED', worker: W2 });
    expect(await checkOverGrace(T + 20)).toEqual([]);
    await commit(succeeded('t-6', W2, T + 15));
    expect((await store.task('t-6'))?.state).toBe('SUCCESS');
    const w1 = JSON.parse((await store.worker(W1))!.task_counts) as Record<string, number>;
    const w2 = JSON.parse((await store.worker(W2))!.task_counts) as Record<string, number>;
    expect([w1, w2]).toEqual([{}, { SUCCESS: 1 }]);
  });

  it('reads stranded tasks page after page: one check judges them all, a twin collector stores the same verdicts once, a rebuild gives the same rows', async () => {
    const count = LOST_TASKS_PER_PAGE + 5;
    const events: NewEvent[] = [online(W1, T)];
    for (let i = 0; i < count; i++) events.push(received(`m-${i}`, W1, T + 1), started(`m-${i}`, W1, T + 2));
    events.push(goodbye(W1, T + 10, 0));
    await commit(...events);

    // A twin collector (on the same Postgres) reads the same stranded tasks and derives the same
    // verdicts a little later: they are the same events, stored once.
    policy = newPolicy(0, 0);
    const seenByTwin = await store.strandedTasks(LOST_TASKS_PER_PAGE);
    expect(await policy.check(T + 11)).toHaveLength(count);
    const twin = await store.append({ events: seenByTwin.map((t) => taskLostEvent(t, lostTaskVerdict(t)!, T + 11.5)), rejected: [] });
    expect([twin.stored.length, twin.duplicates]).toEqual([0, LOST_TASKS_PER_PAGE]);
    expect(await verdicts()).toHaveLength(count);
    expect(await policy.check(T + 12)).toEqual([]);
    expect(JSON.parse((await store.worker(W1))!.task_counts)).toEqual({ LOST: count });

    const tasks = await store.allTasks();
    const workers = await store.allWorkers();
    await store.rebuildProjections();
    expect(await store.allTasks()).toEqual(tasks);
    expect(await store.allWorkers()).toEqual(workers);
  });

  it('tasks waiting out a drain window keep no others from being judged', async () => {
    // A page of tasks (first by uuid) on a worker in its warm shutdown; a few on a killed worker.
    const events: NewEvent[] = [online(W1, T), online(W2, T)];
    for (let i = 0; i < LOST_TASKS_PER_PAGE; i++) events.push(received(`a-${i}`, W1, T + 1), started(`a-${i}`, W1, T + 2));
    for (let i = 0; i < 3; i++) events.push(received(`z-${i}`, W2, T + 1), started(`z-${i}`, W2, T + 2));
    events.push(goodbye(W1, T + 10, LOST_TASKS_PER_PAGE), timedOut(W2, T + 10));
    await commit(...events);
    expect(await checkOverGrace(T + 11)).toEqual(['z-0', 'z-1', 'z-2']);
    expect(await policy.check(T + 11 + DRAIN)).toHaveLength(LOST_TASKS_PER_PAGE);
  });
});
