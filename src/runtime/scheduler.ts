import { hostname } from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import { ScheduleStore } from '../adapters/schedule-store.js';
import type { App } from '../app.js';
import { abortable } from '../timing.js';
import { nextSlot, parseSchedule, previousSlot, slotAt } from './cron-slots.js';
import { cronRunId } from './run-ids.js';
import { startPresence } from './scheduler-presence.js';
import { type FireOutcome, slotDecider } from './slot-decision.js';
import { SweepLoop } from './sweep-loop.js';

export interface SchedulerOptions {
  /** Replaces the app's clock for every slot decision (tests). */
  readonly clock?: () => Date;
  /** Run a slot missed before the start (default: BALLAST_CATCH_UP). */
  readonly catchUp?: boolean;
  /** Called after every slot decided, with what became of it. */
  readonly onFire?: (event: FireEvent) => void;
  /** At most this long between two sweeps (default 30 s); 0: sweep only when asked (tests). */
  readonly sweepMs?: number;
  /** Waits between attempts to enqueue a slot (default 1 s, then 4 s); then later sweeps retry. */
  readonly retryDelaysMs?: readonly number[];
  /** Aborts a start that is still waiting on Redis (a SIGTERM while Redis is down). */
  readonly signal?: AbortSignal;
}

export type { FireOutcome } from './slot-decision.js';

export interface FireEvent {
  readonly runId: string;
  readonly slot: Date;
  readonly outcome: FireOutcome;
  readonly catchUp: boolean;
}

export interface RunningScheduler {
  readonly store: ScheduleStore;
  /** The slot run at start because it was missed, if one was. */
  readonly caughtUp: string | null;
  /** Decides one slot by hand, as a sweep would (tests). */
  fire(slot: Date, catchUp: boolean): Promise<FireOutcome>;
  /** Runs the latest due slot if no replica has; what became of it (null: nothing to do). */
  sweep(): Promise<FireOutcome | null>;
  close(): Promise<void>;
}

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** A late or failed slot is still run this long after it fell due, at least. */
const MIN_RECENT_MS = HOUR_MS;
const RETRY_BASE_MS = 30 * 1000;
const RETRY_MAX_MS = 10 * 60 * 1000;
/** How long close() lets a slot being enqueued finish (so that a failed one gives its claim back). */
const CLOSE_WAIT_MS = 5000;

/**
 * node-cron fires at BALLAST_CRON in BALLAST_TZ, and a sweep (at most every 30 s, and at each
 * slot this module computes) runs the latest due slot that no replica has run: a slot node-cron
 * let pass (a blocked event loop, a DST change), or whose enqueue failed. Slots come from
 * cron-slots (DST-safe), the run id from the slot. A slot runs when its run does not exist yet
 * (its job id or run record), under a SET NX PX claim that one replica wins; a failed enqueue
 * gives the claim back, and the slot-derived job id is the last guard against a second run.
 * Slots due before the start are run only with catch-up, within its window.
 */
export async function startScheduler(app: App, options: SchedulerOptions = {}): Promise<RunningScheduler> {
  const { config, log } = app;
  const clock = options.clock ?? app.clock;
  const schedule = parseSchedule(config.cron, config.timezone);
  const store = new ScheduleStore(app.redis, app.keys);
  const holder = `${hostname()}:${process.pid}`;
  const windowMs = config.catchUpWindowHours * HOUR_MS;
  const recentMs = Math.max(windowMs, MIN_RECENT_MS);
  const claimTtlMs = Math.max(recentMs, DAY_MS) + HOUR_MS;
  const retryDelaysMs = options.retryDelaysMs ?? [1000, 4000];
  const sweepMs = options.sweepMs ?? 30_000;
  const startedAt = clock().getTime();
  const catchUpOn = options.catchUp ?? config.catchUp;
  // Slots before this are not this process's to run: before the start, only within the window.
  const earliestSlot = catchUpOn ? startedAt - windowMs : startedAt;
  // What this scheduler obeys, for `schedule status` (whatever the asking shell's BALLAST_CRON).
  const presence = startPresence(
    store,
    {
      holder,
      host: hostname(),
      pid: process.pid,
      cron: config.cron,
      timezone: config.timezone,
      catchUp: catchUpOn,
      catchUpWindowHours: config.catchUpWindowHours,
    },
    clock,
    log,
  );

  const closing = new AbortController();
  /** Slots this process has seen settled: sweeps and node-cron's firings skip them. */
  const settled: string[] = [];
  let retry: { runId: string; attempts: number; nextAt: number } | null = null;

  const decide = slotDecider({
    app,
    store,
    holder,
    clock,
    claimTtlMs,
    retryDelaysMs,
    closing: closing.signal,
  });

  const fire = async (slot: Date, catchUp: boolean): Promise<FireOutcome> => {
    const runId = cronRunId(slot);
    let outcome: FireOutcome;
    try {
      outcome = await decide(slot, catchUp);
    } catch (err) {
      outcome = 'failed';
      const attempts = retry?.runId === runId ? retry.attempts + 1 : 1;
      const backoff = Math.min(RETRY_BASE_MS * 2 ** (attempts - 1), RETRY_MAX_MS);
      retry = { runId, attempts, nextAt: clock().getTime() + backoff };
      log.error(
        { runId, err: errorMessage(err), retryInMs: backoff },
        'could not enqueue the nightly run; a later sweep retries while the slot is recent',
      );
    }
    if (outcome !== 'failed' && outcome !== 'claimed-elsewhere') {
      if (retry?.runId === runId) retry = null;
      settled.push(runId);
      if (settled.length > 16) settled.shift();
    }
    options.onFire?.({ runId, slot, outcome, catchUp });
    return outcome;
  };

  /** The slots to decide now: the one node-cron fired, if any, and the latest due one. */
  const dueSlots = (fired: Date | null): Date[] => {
    const now = clock().getTime();
    const earliest = Math.max(now - recentMs, earliestSlot);
    const latest = previousSlot(schedule, new Date(now), now - earliest);
    const slots: Date[] = [];
    for (const slot of [fired, latest]) {
      if (!slot || slot.getTime() < earliest || slot.getTime() > now) continue;
      const runId = cronRunId(slot);
      if (settled.includes(runId) || slots.some((s) => cronRunId(s) === runId)) continue;
      if (retry?.runId === runId && now < retry.nextAt) continue;
      slots.push(slot);
    }
    return slots;
  };

  // One sweep: each due slot in turn; a failed sweep is logged and the next one tries again.
  const loop = new SweepLoop({
    sweep: async (fired, stopping) => {
      let last: FireOutcome | null = null;
      try {
        for (const slot of dueSlots(fired)) {
          if (stopping.aborted) break;
          last = await fire(slot, slot.getTime() < startedAt);
        }
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'scheduler sweep failed');
      }
      return last;
    },
    nextDelay: () => {
      if (sweepMs <= 0) return null;
      const now = clock().getTime();
      const next = nextSlot(schedule, new Date(now));
      return Math.min(sweepMs, next ? Math.max(0, next.getTime() - now) + 5 : sweepMs);
    },
    closing,
  });
  const kick = (fired: Date | null = null) => loop.kick(fired);

  const task: ScheduledTask = cron.schedule(
    config.cron,
    // The slot of the firing instant: at a fall-back node-cron may fire the second occurrence.
    (context) => void kick(slotAt(schedule, context.date)),
    {
      name: 'ballast-nightly',
      timezone: config.timezone,
      noOverlap: false,
      // Late (a blocked event loop) is still due, as long as the sweep would run it too.
      missedExecutionTolerance: recentMs,
    },
  );
  task.on('execution:missed', (context) => {
    log.warn({ slot: context.date.toISOString() }, 'node-cron missed a slot: sweeping for it');
    void kick();
  });

  let closed = false;
  const shutdown = async (waitMs: number) => {
    if (closed) return;
    closed = true;
    const stopping = loop.stop(waitMs);
    await task.destroy();
    await presence.stop();
    // A slot being enqueued finishes (or gives its claim back) while the connections are open.
    await stopping;
  };

  let caughtUp: string | null = null;
  const first = kick();
  try {
    const started = Promise.all([first, presence.first]);
    const [outcome] = await abortable(started, options.signal, () => new SchedulerAbortedError());
    const slot = previousSlot(schedule, new Date(startedAt), startedAt - earliestSlot);
    if (outcome === 'enqueued' && slot && slot.getTime() < startedAt) {
      caughtUp = cronRunId(slot);
      log.info({ slot: slot.toISOString() }, 'caught up a missed nightly slot');
    }
  } catch (err) {
    await shutdown(0);
    throw err;
  }
  log.info(
    {
      cron: config.cron,
      timezone: config.timezone,
      next: nextSlot(schedule, clock())?.toISOString() ?? null,
    },
    'scheduler started',
  );

  return {
    store,
    caughtUp,
    fire,
    sweep: () => kick(),
    close: () => shutdown(CLOSE_WAIT_MS),
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The start was aborted (a signal while it waited on Redis). */
export class SchedulerAbortedError extends Error {
  override readonly name = 'SchedulerAbortedError';
  constructor() {
    super('scheduler start aborted');
  }
}
