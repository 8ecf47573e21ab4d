import type { Command } from 'commander';
import type { DemoOptions } from '../actions/demo.js';
import type { CliContext } from '../context.js';

export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'load example portfolios (every strategy, a lock, bounds, a business without metrics), run one nightly pass through the real queue and worker, print the reports, clean up',
    )
    .option('--keep', 'keep the demo keys in Redis (their prefix is printed)')
    .action(async (options: DemoOptions) => (await import('../actions/demo.js')).runDemo(ctx, options));
}
