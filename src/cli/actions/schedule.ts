import { nightlyJobId } from '../../../jobs/payloads.js';
import { type ScheduleState, ScheduleStore } from '../../adapters/schedule-store.js';
import type { App } from '../../app.js';
import { localIso } from '../../runtime/cron-slots.js';
import { tallyRun } from '../../runtime/follow-run.js';
import { nextRuns } from '../../runtime/scheduler.js';
import type { CliContext } from '../context.js';
import { formatJson, formatPairs } from '../output.js';
import { withApp } from '../with-app.js';

export async function showStatus(ctx: CliContext, json: boolean): Promise<void> {
  await withApp(ctx, (app) => status(app, ctx, json));
}

export async function setPaused(ctx: CliContext, paused: boolean, json: boolean): Promise<void> {
  await withApp(ctx, async (app) => {
    await new ScheduleStore(app.redis, app.keys).setPaused(paused, ctx.now().toISOString());
    ctx.out(json ? formatJson({ paused }) : `nightly schedule ${paused ? 'paused' : 'resumed'}\n`);
  });
}

/** What became of the last slot: skipped by a pause, or its run's counts from what is stored. */
interface LastRun {
  readonly state: 'skipped' | 'queued' | 'fanning out' | 'fan-out failed' | 'running' | 'done' | 'unknown';
  readonly total: number | null;
  readonly completed: number | null;
  readonly failed: number | null;
  readonly outcome: string;
}

async function lastRun(app: App, state: ScheduleState, runId: string): Promise<LastRun> {
  const none = { total: null, completed: null, failed: null };
  if (state.lastSkipped) return { state: 'skipped', ...none, outcome: `not run: ${state.lastSkipped}` };
  // The fan-out's record and the run markers outlive the jobs BullMQ keeps (BALLAST_KEEP_COMPLETED).
  const tally = await tallyRun(app, runId);
  if (tally.total !== null) {
    const done = tally.completed + tally.failed >= tally.total;
    return {
      state: done ? 'done' : 'running',
      total: tally.total,
      completed: tally.completed,
      failed: tally.failed,
      outcome: `${tally.completed} completed, ${tally.failed} failed of ${tally.total} portfolios${done ? '' : ' (running)'}`,
    };
  }
  const job = await app.queue.getJob(nightlyJobId(runId));
  if (!job)
    return { state: 'unknown', ...none, outcome: 'no record of it (expired, or its fan-out never ran)' };
  if (job.state === 'failed') {
    return {
      state: 'fan-out failed',
      ...none,
      outcome: `fan-out failed: ${job.failedReason ?? 'unknown reason'}`,
    };
  }
  if (job.state === 'active') return { state: 'fanning out', ...none, outcome: 'fanning out' };
  // waiting, prioritized (nightly jobs are), delayed (a retry's backoff)...
  return { state: 'queued', ...none, outcome: `queued (${job.state}), waiting for a worker` };
}

async function status(app: App, ctx: CliContext, json: boolean): Promise<void> {
  const state = await new ScheduleStore(app.redis, app.keys).state();
  const tz = app.config.timezone;
  const next = nextRuns(app.config.cron, tz, 5, ctx.now());
  const last = state.lastRunId ? await lastRun(app, state, state.lastRunId) : null;
  const slot = state.lastSlot ? new Date(state.lastSlot) : null;
  if (json) {
    ctx.out(
      formatJson({
        cron: app.config.cron,
        timezone: tz,
        paused: state.paused,
        paused_at: state.pausedAt,
        next_runs: next.map((d) => d.toISOString()),
        next_runs_local: next.map((d) => localIso(tz, d)),
        last_run:
          state.lastRunId && last
            ? {
                run_id: state.lastRunId,
                slot: state.lastSlot,
                slot_local: slot ? localIso(tz, slot) : null,
                enqueued_at: state.lastEnqueuedAt,
                catch_up: state.lastCatchUp,
                skipped: state.lastSkipped,
                state: last.state,
                total: last.total,
                completed: last.completed,
                failed: last.failed,
                outcome: last.outcome,
              }
            : null,
        last_skipped: state.lastSkipped
          ? `${state.lastRunId} (${state.lastSlot}): ${state.lastSkipped}`
          : null,
      }),
    );
    return;
  }
  const both = (d: Date) => `${localIso(tz, d)}  (${d.toISOString()})`;
  const nextLines: [string, string][] =
    next.length > 0 ? next.map((d, i) => [i === 0 ? 'next runs' : '', both(d)]) : [['next runs', 'none']];
  ctx.out(
    formatPairs([
      ['cron', app.config.cron],
      ['time zone', tz],
      ['paused', state.paused ? `yes (since ${state.pausedAt})` : 'no'],
      ...nextLines,
      [
        'last run',
        state.lastRunId && last
          ? `${state.lastRunId}, slot ${slot ? both(slot) : '?'}${state.lastCatchUp ? ', catch-up' : ''}: ${last.outcome}`
          : 'none yet',
      ],
    ]),
  );
}
