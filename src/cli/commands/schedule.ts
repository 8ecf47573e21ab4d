import type { Command } from 'commander';
import { nightlyJobId } from '../../../jobs/payloads.js';
import { ScheduleStore } from '../../adapters/schedule-store.js';
import type { App } from '../../app.js';
import { nextRuns } from '../../runtime/scheduler.js';
import type { CliContext } from '../context.js';
import { formatJson, formatPairs } from '../output.js';
import { withApp } from '../with-app.js';

export function registerScheduleCommand(program: Command, ctx: CliContext): void {
  const schedule = program
    .command('schedule')
    .description('inspect or pause the nightly schedule (obeyed by every scheduler replica)');
  schedule
    .command('status')
    .description('cron, time zone, next runs, last run and its outcome, paused or not')
    .action((options: { json?: boolean }) => withApp(ctx, (app) => status(app, ctx, options.json === true)));
  schedule
    .command('pause')
    .description('stop enqueueing nightly runs until resumed')
    .action((options: { json?: boolean }) =>
      withApp(ctx, async (app) => {
        await new ScheduleStore(app.redis, app.keys).setPaused(true, ctx.now().toISOString());
        ctx.out(options.json ? formatJson({ paused: true }) : 'nightly schedule paused\n');
      }),
    );
  schedule
    .command('resume')
    .description('enqueue nightly runs again')
    .action((options: { json?: boolean }) =>
      withApp(ctx, async (app) => {
        await new ScheduleStore(app.redis, app.keys).setPaused(false, ctx.now().toISOString());
        ctx.out(options.json ? formatJson({ paused: false }) : 'nightly schedule resumed\n');
      }),
    );
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
      outcome = 'job no longer kept';
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
