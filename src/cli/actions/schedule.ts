import { nightlyJobId } from '../../../jobs/payloads.js';
import { ScheduleStore } from '../../adapters/schedule-store.js';
import type { App } from '../../app.js';
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

async function status(app: App, ctx: CliContext, json: boolean): Promise<void> {
  const state = await new ScheduleStore(app.redis, app.keys).state();
  const next = nextRuns(app.config.cron, app.config.timezone, 5).map((d) => d.toISOString());
  let outcome: string | null = null;
  if (state.lastRunId) {
    const job = await app.queue.getJob(nightlyJobId(state.lastRunId));
    if (job) {
      const total = (job.result as { total?: number } | null)?.total;
      outcome = job.state === 'completed' ? `fanned out to ${total ?? '?'} portfolios` : job.state;
      if (job.failedReason) outcome += `: ${job.failedReason}`;
    } else {
      // Trimmed from BullMQ's completed jobs (BALLAST_KEEP_COMPLETED): the run's record stays.
      const total = await app.reports.fanOutTotal(state.lastRunId);
      outcome = total === null ? 'job no longer kept' : `fanned out to ${total} portfolios`;
    }
  }
  if (json) {
    ctx.out(
      formatJson({
        cron: app.config.cron,
        timezone: app.config.timezone,
        paused: state.paused,
        paused_at: state.pausedAt || null,
        next_runs: next,
        last_run: state.lastRunId
          ? {
              run_id: state.lastRunId,
              slot: state.lastSlot,
              enqueued_at: state.lastEnqueuedAt,
              catch_up: state.lastCatchUp,
              outcome,
            }
          : null,
        last_skipped: state.lastSkipped || null,
      }),
    );
    return;
  }
  ctx.out(
    formatPairs([
      ['cron', app.config.cron],
      ['time zone', app.config.timezone],
      ['paused', state.paused ? `yes (since ${state.pausedAt})` : 'no'],
      ['next runs', next.join(', ')],
      [
        'last run',
        state.lastRunId
          ? `${state.lastRunId} (slot ${state.lastSlot}${state.lastCatchUp ? ', catch-up' : ''}): ${outcome}`
          : 'none yet',
      ],
      ...(state.lastSkipped ? ([['last skipped', state.lastSkipped]] as [string, string][]) : []),
    ]),
  );
}
