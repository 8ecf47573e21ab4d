import type { Command } from 'commander';
import type { StartOptions } from '../actions/start.js';
import type { CliContext } from '../context.js';

export function registerStartCommand(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('worker, scheduler and HTTP API in one process; SIGTERM/SIGINT stops all three gracefully')
    .option('--no-api', 'run the worker and the scheduler only')
    .option('--insecure-no-auth', 'serve the API without BALLAST_API_TOKEN (then on 127.0.0.1 only)')
    .action(async (options: StartOptions) => (await import('../actions/start.js')).runStart(ctx, options));
}
