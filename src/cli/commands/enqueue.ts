import type { Command } from 'commander';
import type { NightlyOptions, RecalculateOptions } from '../actions/enqueue.js';
import type { CliContext } from '../context.js';
import { parseId } from '../option-parsers.js';

export function registerEnqueueCommand(program: Command, ctx: CliContext): void {
  const enqueue = program.command('enqueue').description('ask the workers for a run now');
  enqueue
    .command('recalculate')
    .description('recalculate one portfolio now (runs before queued nightly work)')
    .requiredOption('--portfolio <id>', 'portfolio id', parseId)
    .option('--dry-run', 'compute and publish the report without applying it')
    .option('--wait', 'wait for the run, print its report, exit 1 if it failed')
    .option('--fail-on-held', 'with --wait: exit 3 when the recommendation was held for approval')
    .action(async (options: RecalculateOptions) => {
      const [{ withApp }, { enqueueRecalculate }] = await Promise.all([
        import('../with-app.js'),
        import('../actions/enqueue.js'),
      ]);
      await withApp(ctx, (app) => enqueueRecalculate(app, ctx, options));
    });
  enqueue
    .command('nightly')
    .description('run the nightly rebalancing of every portfolio now')
    .option(
      '--wait',
      'wait for every portfolio, show progress and how many were applied or held, exit 1 if any failed',
    )
    .option(
      '--fail-on-held',
      'with --wait: exit 3 when any recommendation was held for approval (held is not a failure: exit 0 without it)',
    )
    .action(async (options: NightlyOptions) => {
      const [{ withApp }, { enqueueNightly }] = await Promise.all([
        import('../with-app.js'),
        import('../actions/enqueue.js'),
      ]);
      await withApp(ctx, (app) => enqueueNightly(app, ctx, options));
    });
}
