/** `ballast runs ...`: what a run did, and taking it back. */
import type { Command } from 'commander';
import { RefusedError } from '../../domain/index.js';
import { cliActor } from '../../services/actor.js';
import type { RevertResult } from '../../services/revert.js';
import type { CliContext } from '../context.js';
import { formatRevertText } from '../history-text.js';
import { withApp } from '../lazy-with-app.js';
import { parseRunId } from '../option-parsers.js';
import { formatJson } from '../output.js';

interface RevertOptions {
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
}

export function registerRunsCommand(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('what a run changed, and taking it back');

  runs
    .command('revert')
    .description(
      'every portfolio the run changed back to its weights before the run, as a new version; ' +
        'portfolios changed since the run are conflicts (left alone) unless --force',
    )
    .argument('<run-id>', 'the run id (cron-…, manual-…), as its reports and `enqueue` name it', parseRunId)
    .option('--dry-run', 'say what would be reverted, write nothing (exit 0 even with conflicts)')
    .option(
      '--force',
      'revert portfolios changed since the run too, restoring only the allocations the run moved; ' +
        'the other unlocked allocations absorb the difference',
    )
    .option(
      '--json',
      'print {run_id, dry_run, force, reverted, conflicts: [{portfolio_id, reason, changed_since}], already_reverted, unchanged}',
    )
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0 when every portfolio the run changed is reverted (or already was), and',
        'for any --dry-run; 1 when a revert leaves conflicts (printed first, so that scripts',
        'notice), and for an unknown run or one still running.',
        '',
      ].join('\n'),
    )
    .action(async (runId: string, options: RevertOptions) => {
      const result = await withApp(ctx, async (app) => {
        // revert.js brings p-limit and the job payloads: loaded only when a revert runs.
        const { revertRun } = await import('../../services/revert.js');
        return revertRun(app, runId, {
          actor: cliActor(app.config.actor),
          dryRun: options.dryRun === true,
          force: options.force === true,
        });
      });
      ctx.out(options.json ? formatJson(result) : formatRevertText(result));
      failOnConflicts(result);
    });
}

/** A revert that left portfolios behind is not done: exit 1 (the result is printed already). */
function failOnConflicts(result: RevertResult): void {
  if (result.dry_run || result.conflicts.length === 0) return;
  const n = result.conflicts.length;
  const forceable = !result.force && result.conflicts.some((c) => c.changed_since !== null);
  const hint = forceable ? '; --force reverts only the allocations the run moved' : '';
  throw new RefusedError(
    `${n} ${n === 1 ? 'portfolio' : 'portfolios'} of run ${result.run_id} not reverted (conflicts)${hint}`,
  );
}
