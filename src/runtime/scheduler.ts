import { hostname } from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import { nightlyJobId } from '../../jobs/payloads.js';
import { NIGHTLY_PRIORITY } from '../adapters/queue.js';
import { ScheduleStore } from '../adapters/schedule-store.js';
import type { App } from '../app.js';
import { hasSecondsField, previousSlot } from './cron-slots.js';
import { cronRunId } from './run-ids.js';

export interface SchedulerOptions {
  /** Replaces the app's clock for catch-up decisions (tests). */
  readonly clock?: () => Date;
  /** Skip the catch-up at start (tests of the cron alone). */
  readonly catchUp?: boolean;
  /** Called after every slot the cron fires, with what became of it. */
  readonly onFire?: (event: { runId: string; outcome: FireOutcome; catchUp: boolean }) => void;
}

export type FireOutcome = 'enqueued' | 'claimed-elsewhere' | 'paused';

export interface RunningScheduler {
  readonly store: ScheduleStore;
  /** The slot run at start, if one was missed. */
  readonly caughtUp: string | null;
  /** Fires one slot by hand, as the cron would (tests, and the catch-up path). */
  fire(slot: Date, catchUp: boolean): Promise<FireOutcome>;
  close(): Promise<void>;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * node-cron fires at BALLAST_CRON in BALLAST_TZ. The run id comes from the slot, and a
 * SET NX PX claim decides which replica enqueues it; the slot-derived job id is the second
 * guard. At start, the last slot within the catch-up window is run if no replica ran it.
 */
export async function startScheduler(app: App, options: SchedulerOptions = {}): Promise<RunningScheduler> {
  const { config, log } = app;
  const clock = options.clock ?? app.clock;
  const store = new ScheduleStore(app.redis, app.keys);
  const holder = `${hostname()}:${process.pid}`;
  const windowMs = config.catchUpWindowHours * 3600 * 1000;
  const claimTtlMs = Math.max(windowMs, DAY_MS) + 3600 * 1000;

  const fire = async (slot: Date, catchUp: boolean): Promise<FireOutcome> => {
    const outcome = await fireSlot(slot, catchUp);
    options.onFire?.({ runId: cronRunId(slot), outcome, catchUp });
    return outcome;
  };

  const fireSlot = async (slot: Date, catchUp: boolean): Promise<FireOutcome> => {
    const runId = cronRunId(slot);
    if (await store.isPaused()) {
      await store.recordSkip(runId, slot, 'schedule paused');
      log.info({ runId }, 'schedule is paused: slot not run');
      return 'paused';
    }
    if (!(await store.claimSlot(runId, holder, claimTtlMs))) {
      log.debug({ runId }, 'slot claimed by another scheduler');
      return 'claimed-elsewhere';
    }
    await app.queue.add({
      name: 'nightly',
      data: { runId, trigger: 'cron', catchUp },
      jobId: nightlyJobId(runId),
      priority: NIGHTLY_PRIORITY,
    });
    await store.recordRun(runId, slot, clock().toISOString(), catchUp);
    log.info({ runId, slot: slot.toISOString(), catchUp }, 'nightly run enqueued');
    return 'enqueued';
  };

  const task: ScheduledTask = cron.schedule(
    config.cron,
    async (context) => {
      try {
        await fire(context.date, false);
      } catch (err) {
        log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'could not enqueue the nightly run',
        );
      }
    },
    { name: 'ballast-nightly', timezone: config.timezone, noOverlap: false },
  );

  let caughtUp: string | null = null;
  if (options.catchUp ?? config.catchUp) {
    const now = clock();
    const slot = previousSlot((d) => task.match(d), now, windowMs, hasSecondsField(config.cron));
    if (slot && !(await store.slotClaimed(cronRunId(slot)))) {
      log.info({ slot: slot.toISOString() }, 'catching up a missed nightly slot');
      if ((await fire(slot, true)) === 'enqueued') caughtUp = cronRunId(slot);
    }
  }
  log.info(
    { cron: config.cron, timezone: config.timezone, next: task.getNextRun()?.toISOString() },
    'scheduler started',
  );

  return {
    store,
    caughtUp,
    fire,
    close: async () => {
      await task.destroy();
    },
  };
}

/** The next `count` run times of the configured schedule. */
export function nextRuns(expression: string, timezone: string, count: number): Date[] {
  const task = cron.createTask(expression, () => {}, { timezone });
  try {
    return task.getNextRuns(count);
  } finally {
    void task.destroy();
  }
}
