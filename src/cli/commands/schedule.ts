import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { parseNote } from '../option-parsers.js';

export function registerScheduleCommand(program: Command, ctx: CliContext): void {
  const schedule = program
    .command('schedule')
    .description('see and steer the nightly schedule (obeyed by every scheduler replica)');
  const actions = () => import('../actions/schedule.js');
  schedule
    .command('status')
    .description(
      'what the running schedulers obey (cron, time zone, catch-up, from Redis), paused or not, the next 5 runs, ' +
        'the last run and its outcome; warns when the local environment differs',
    )
    .action(async (options: { json?: boolean }) => (await actions()).showStatus(ctx, options.json === true));
  schedule
    .command('pause')
    .description('stop enqueueing nightly runs until resumed (slots that pass meanwhile are never run)')
    .option('--note <text>', 'why, shown by `schedule status` and the console', parseNote)
    .action(async (options: { note?: string; json?: boolean }) => (await actions()).pause(ctx, options));
  schedule
    .command('resume')
    .description('enqueue nightly runs again, from the next slot on')
    .action(async (options: { json?: boolean }) => (await actions()).resume(ctx, options));
  schedule
    .command('trigger')
    .description("run the nightly rebalancing now, as an operator's run (whatever the pause)")
    .action(async (options: { json?: boolean }) => (await actions()).trigger(ctx, options));
  schedule
    .command('backfill')
    .description(
      'run each slot of the schedule from --from to --to (both included, at most 366) that has not run; ' +
        'slots already run, claimed by a scheduler or skipped by a pause are left alone',
    )
    .requiredOption('--from <iso>', 'first instant, ISO 8601 with its zone (2026-03-01T00:00:00Z)')
    .requiredOption('--to <iso>', 'last instant, ISO 8601 with its zone; not in the future')
    .option('--dry-run', 'list the slots and what would become of each; queue nothing')
    .action(async (options: { from: string; to: string; dryRun?: boolean; json?: boolean }) =>
      (await actions()).backfill(ctx, options),
    );
}
