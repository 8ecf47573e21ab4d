import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerSchedulerCommand(program: Command, ctx: CliContext): void {
  program
    .command('scheduler')
    .description(
      'enqueue the nightly run at BALLAST_CRON in BALLAST_TZ (safe with many replicas) until SIGTERM/SIGINT',
    )
    .action(async () => (await import('../actions/scheduler.js')).runScheduler(ctx));
}
