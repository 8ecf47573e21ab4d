/**
 * The nightly schedule as operators see and steer it (`ballast schedule ...`, `/schedule`, the
 * console): the configuration the running schedulers obey (they write it to Redis, see
 * scheduler-presence.ts), pause and resume with who and why, a run now, and backfill.
 */
import { ScheduleStore } from '../adapters/schedule-store.js';
import type { App } from '../app.js';
import { localIso, nextSlots } from '../runtime/cron-slots.js';
import { enqueueNightly } from './runs.js';
import { effectiveSchedule } from './schedule-effective.js';
import { lastScheduledRun, type WireLastRun } from './schedule-last-run.js';

export { type BackfillResult, type BackfillSlot, backfillSchedule } from './schedule-backfill.js';
export type { WireLastRun } from './schedule-last-run.js';

export const NEXT_RUNS = 5;

export interface WireScheduler {
  readonly host: string;
  readonly pid: number;
  readonly cron: string;
  readonly timezone: string;
  readonly catch_up: boolean;
  readonly catch_up_window_hours: number;
  readonly version: string;
  /** When it last wrote its configuration (every 10 s while it runs). */
  readonly seen_at: string;
}

export interface WireSchedule {
  /** The running schedulers' (from Redis); the local configuration's when none runs. */
  readonly cron: string;
  readonly timezone: string;
  readonly catch_up: boolean;
  readonly catch_up_window_hours: number;
  /** Where cron, timezone and catch-up came from. */
  readonly source: 'scheduler' | 'local';
  readonly schedulers: WireScheduler[];
  readonly paused: boolean;
  readonly paused_at: string | null;
  readonly paused_by: string | null;
  readonly pause_note: string | null;
  readonly resumed_at: string | null;
  readonly resumed_by: string | null;
  /** The next 5 slots, in UTC and in the schedule's time zone. */
  readonly next_runs: string[];
  readonly next_runs_local: string[];
  readonly last_run: WireLastRun | null;
  /** `<run_id> (<slot>): <why>` when the last slot was not run. */
  readonly last_skipped: string | null;
  /** The local environment differs from the running scheduler's, schedulers disagree, none runs. */
  readonly warnings: string[];
}

/** The schedule's configuration and state; `now` (default: the app's clock) places the next runs. */
export async function scheduleStatus(app: App, options: { readonly now?: Date } = {}): Promise<WireSchedule> {
  const now = options.now ?? app.clock();
  const store = new ScheduleStore(app.redis, app.keys);
  const [effective, state] = await Promise.all([effectiveSchedule(app, store), store.state()]);
  const next = nextSlots(effective.schedule, now, NEXT_RUNS);
  const tz = effective.timezone;
  return {
    cron: effective.cron,
    timezone: tz,
    catch_up: effective.catchUp,
    catch_up_window_hours: effective.catchUpWindowHours,
    source: effective.source,
    schedulers: effective.schedulers.map((s) => ({
      host: s.host,
      pid: s.pid,
      cron: s.cron,
      timezone: s.timezone,
      catch_up: s.catchUp,
      catch_up_window_hours: s.catchUpWindowHours,
      version: s.version,
      seen_at: s.writtenAt,
    })),
    paused: state.paused,
    paused_at: state.pausedAt,
    paused_by: state.pausedBy,
    pause_note: state.pauseNote,
    resumed_at: state.resumedAt,
    resumed_by: state.resumedBy,
    next_runs: next.map((d) => d.toISOString()),
    next_runs_local: next.map((d) => localIso(tz, d)),
    last_run: await lastScheduledRun(app, state, tz),
    last_skipped: state.lastSkipped ? `${state.lastRunId} (${state.lastSlot}): ${state.lastSkipped}` : null,
    warnings: effective.warnings,
  };
}

/** Every scheduler stops enqueueing slots; pausing a paused schedule keeps the first pause's time, actor and note. */
export async function pauseSchedule(
  app: App,
  opts: { readonly actor: string; readonly note?: string | undefined; readonly now?: Date },
): Promise<WireSchedule> {
  const now = opts.now ?? app.clock();
  await new ScheduleStore(app.redis, app.keys).setPaused(true, now.toISOString(), {
    actor: opts.actor,
    note: opts.note,
  });
  return scheduleStatus(app, { now });
}

/** Slots that passed while paused stay skipped: resuming runs the coming ones only. */
export async function resumeSchedule(
  app: App,
  opts: { readonly actor: string; readonly now?: Date },
): Promise<WireSchedule> {
  const now = opts.now ?? app.clock();
  await new ScheduleStore(app.redis, app.keys).setPaused(false, now.toISOString(), { actor: opts.actor });
  return scheduleStatus(app, { now });
}

/** An operator's nightly run now, whatever the pause (as `enqueue nightly`). */
export async function triggerNightly(
  app: App,
  opts: { readonly actor: string },
): Promise<{ run_id: string; job_id: string }> {
  const { runId, jobId } = await enqueueNightly(app, { trigger: 'manual', actor: opts.actor });
  return { run_id: runId, job_id: jobId };
}
