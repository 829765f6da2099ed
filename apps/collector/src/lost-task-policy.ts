/**
 * Declares lost the tasks whose worker went away, or moved on, mid-task: STARTED on a worker that
 * has since reported running no task (`active` 0: it was killed and started again, or the task's
 * end never reached us) or gone offline (its own worker-offline, or the liveness policy's heartbeat
 * timeout). Each gets a derived `task-lost` event, so its row says LOST instead of STARTED forever;
 * a later event of the task (it was redelivered, or it ended after all) still wins over the
 * verdict (task-state.ts).
 *
 * A verdict must hold for `graceSeconds` (collector clock, from the check that first found it)
 * before it is appended: a worker cut off from its broker for a few seconds is timed out by the
 * liveness policy while its tasks run on, and the grace lets its next word arrive. (A task holding
 * the GIL in a threads pool stops the heartbeats: past the expiry plus the grace it shows LOST
 * until its end arrives, which wins.) When the worker said goodbye while the task ran (a warm
 * shutdown, which finishes its tasks and reports their ends after the goodbye), the verdict waits
 * `drainSeconds` instead: only a worker killed during its shutdown leaves the task without an end.
 * (Celery also says goodbye when its broker connection drops, and worker-online, counting the
 * running tasks, once it is back: that ends the verdict.) Like the liveness policy, it judges only
 * when the collector is not behind, and commits what was received before judging: a
 * task-succeeded waiting for its batch must win.
 */
import type { EventWriter, StrandedTask } from '../../../libs/state/src';
import type { AppLogger } from '../../../libs/logging/src/logger';
import { lostTaskVerdict, taskLostEvent, type LostTaskVerdict, type TaskLostReason } from './derived-events';
import type { LivenessView } from './liveness-policy';
import type { CollectorMetrics } from './metrics';
import { PeriodicCheck } from './periodic-check';

/** Tasks read per page. */
export const LOST_TASKS_PER_PAGE = 1000;
/**
 * Tasks read per check at most (pages of LOST_TASKS_PER_PAGE): the rest wait for later checks. More
 * than a page, so that tasks waiting out a drain window do not keep the others from being read.
 */
export const LOST_TASKS_PER_CHECK = 10 * LOST_TASKS_PER_PAGE;

/** Task ids named in one log line at most. */
const UUIDS_LOGGED = 20;

export type LostTaskView = Pick<LivenessView, 'isBehind' | 'commitReceived' | 'appendDerived'>;

export interface LostTaskPolicyOptions {
  checkIntervalMs: number;
  /** How long a verdict must hold before the task is declared lost (seconds, collector clock). */
  graceSeconds: number;
  /** The same, when the worker said goodbye while the task ran (a warm shutdown finishing it). */
  drainSeconds: number;
}

export class LostTaskPolicy {
  private readonly periodic: PeriodicCheck;
  /**
   * Verdicts found by the last check and not yet appended, by task, attempt (worker and start) and
   * kind of verdict: the verdict as first found, and when (collector clock). The verdict first
   * found is the one appended: an idle worker's newest idle report moves on every heartbeat.
   */
  private firstFound = new Map<string, { since: number; verdict: LostTaskVerdict }>();

  constructor(
    private readonly store: Pick<EventWriter, 'strandedTasks'>,
    private readonly view: LostTaskView,
    private readonly metrics: CollectorMetrics,
    private readonly logger: AppLogger,
    private readonly options: LostTaskPolicyOptions,
  ) {
    this.periodic = new PeriodicCheck(options.checkIntervalMs, () => this.check());
  }

  start(): void {
    this.periodic.start();
  }

  /** Declares nothing from the call on; resolves when the check in progress, if any, has ended. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass at collector time `now`; returns the uuids declared lost. */
  async check(now = Date.now() / 1000): Promise<string[]> {
    if (this.periodic.stopped || this.view.isBehind()) return [];
    try {
      if ((await this.store.strandedTasks(LOST_TASKS_PER_PAGE)).length === 0) {
        this.firstFound.clear();
        return [];
      }
      // The end of such a task may have arrived and wait for its batch: commit it, then look again.
      await this.view.commitReceived();
      if (this.periodic.stopped) return [];
      const found = new Map<string, { since: number; verdict: LostTaskVerdict }>();
      const due = (await this.readStranded()).flatMap((task) => {
        const current = lostTaskVerdict(task);
        if (current === null) return [];
        const key = `${task.uuid}\0${task.worker}\0${task.started_at}\0${current.reason}\0${current.wait}`;
        const first = this.firstFound.get(key) ?? { since: now, verdict: current };
        found.set(key, first);
        const wait = first.verdict.wait === 'drain' ? this.options.drainSeconds : this.options.graceSeconds;
        return now - first.since >= wait ? [{ task, verdict: first.verdict, key }] : [];
      });
      // Verdicts that no longer hold (the worker came back, the task ended) are forgotten.
      this.firstFound = found;
      if (due.length === 0 || this.periodic.stopped) return [];
      await this.view.appendDerived(due.map(({ task, verdict }) => taskLostEvent(task, verdict, now)));
      for (const { key } of due) this.firstFound.delete(key);
      this.report(due.map(({ task, verdict }) => ({ uuid: task.uuid, worker: task.worker, verdict })));
      return due.map(({ task }) => task.uuid);
    } catch (error) {
      this.logger.error({ err: error }, 'lost-task check failed; will retry at the next interval');
      return [];
    }
  }

  /** Up to LOST_TASKS_PER_CHECK stranded tasks, by uuid, page after page. */
  private async readStranded(): Promise<StrandedTask[]> {
    const tasks: StrandedTask[] = [];
    let after: string | null = null;
    while (tasks.length < LOST_TASKS_PER_CHECK) {
      const page = await this.store.strandedTasks(LOST_TASKS_PER_PAGE, after);
      tasks.push(...page);
      if (page.length < LOST_TASKS_PER_PAGE) break;
      after = page[page.length - 1]!.uuid;
    }
    return tasks;
  }

  /** Counts the verdicts and logs one line per worker and verdict. */
  private report(lost: ReadonlyArray<{ uuid: string; worker: string; verdict: LostTaskVerdict }>): void {
    const groups = new Map<string, { worker: string; verdict: LostTaskVerdict; uuids: string[] }>();
    for (const { uuid, worker, verdict } of lost) {
      this.metrics.tasksDeclaredLost.inc({ reason: verdict.reason });
      const key = `${worker}\0${verdict.reason}\0${verdict.at}`;
      const group = groups.get(key) ?? { worker, verdict, uuids: [] };
      group.uuids.push(uuid);
      groups.set(key, group);
    }
    for (const { worker, verdict, uuids } of groups.values()) {
      this.logger.warn(
        { worker, reason: verdict.reason, at: verdict.at, count: uuids.length, uuids: uuids.slice(0, UUIDS_LOGGED) },
        `tasks declared lost: they were running on ${worker}, which ${DESCRIBE_REASON[verdict.reason]}, and never reported an end`,
      );
    }
  }
}

const DESCRIBE_REASON: Record<TaskLostReason, string> = {
  'worker-restarted': 'started again since',
  'worker-idle': 'reported running no task since',
  'worker-offline': 'went offline',
  'heartbeat-timeout': 'stopped sending heartbeats',
};
