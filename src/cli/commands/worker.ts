import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerWorkerCommand(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description(
      'process recalculate and nightly jobs until SIGTERM/SIGINT (then finish active jobs and exit 0)',
    )
    .action(async () => (await import('../actions/worker.js')).runWorker(ctx));
}
