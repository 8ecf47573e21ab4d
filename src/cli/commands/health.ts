import { type Command, Option } from 'commander';
import type { HealthOptions } from '../actions/health.js';
import type { CliContext } from '../context.js';

export function registerHealthCommand(program: Command, ctx: CliContext): void {
  program
    .command('health')
    .description(
      'exit 0 if Redis answers and a Ballast role runs on this host (its heartbeat, or the API’s /healthz): a container health check',
    )
    .addOption(
      new Option('--role <role>', 'the role that must run here (default: any)').choices([
        'worker',
        'scheduler',
        'start',
        'api',
      ]),
    )
    .action(async (options: HealthOptions) => (await import('../actions/health.js')).runHealth(ctx, options));
}
