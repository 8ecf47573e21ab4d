import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerScheduleCommand(program: Command, ctx: CliContext): void {
  const schedule = program
    .command('schedule')
    .description('inspect or pause the nightly schedule (obeyed by every scheduler replica)');
  const actions = () => import('../actions/schedule.js');
  schedule
    .command('status')
    .description('cron, time zone, next runs, last run and its outcome, paused or not')
    .action(async (options: { json?: boolean }) => (await actions()).showStatus(ctx, options.json === true));
  schedule
    .command('pause')
    .description('stop enqueueing nightly runs until resumed')
    .action(async (options: { json?: boolean }) =>
      (await actions()).setPaused(ctx, true, options.json === true),
    );
  schedule
    .command('resume')
    .description('enqueue nightly runs again')
    .action(async (options: { json?: boolean }) =>
      (await actions()).setPaused(ctx, false, options.json === true),
    );
}
