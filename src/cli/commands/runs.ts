/** `ballast runs ...`: what a run did, and taking it back. */
import { type Command, InvalidArgumentError } from 'commander';
import { RefusedError } from '../../domain/index.js';
import {
  DEFAULT_RUN_PORTFOLIOS,
  DEFAULT_RUNS_LIMIT,
  MAX_RUN_PORTFOLIOS,
  MAX_RUNS_LIMIT,
  PORTFOLIO_OUTCOMES as OUTCOMES,
  type PortfolioOutcome,
} from '../../domain/run-state.js';
import { cliActor } from '../../services/actor.js';
import type { RevertResult } from '../../services/revert.js';
import type { CliContext } from '../context.js';
import { formatRevertText } from '../history-text.js';
import { withApp } from '../lazy-with-app.js';
import { integerIn, parseRunId } from '../option-parsers.js';
import { formatJson } from '../output.js';
import { formatRunCancelText, formatRunListText, formatRunText } from '../run-text.js';

interface ShowOptions {
  readonly wait?: boolean;
  readonly limit?: number;
  readonly outcome?: PortfolioOutcome;
  readonly json?: boolean;
}

function parseOutcome(value: string): PortfolioOutcome {
  const found = OUTCOMES.find((o) => o === value);
  if (!found)
    throw new InvalidArgumentError(
      `unknown outcome ${JSON.stringify(value)}: use one of ${OUTCOMES.join(', ')}`,
    );
  return found;
}

interface RevertOptions {
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
}

const services = () => import('../../services/runs.js');

export function registerRunsCommand(program: Command, ctx: CliContext): void {
  const runs = program
    .command('runs')
    .description('nightly runs: what each did, following one, cancelling one, taking one back');

  runs
    .command('list')
    .description('the latest nightly runs, newest first: trigger, slot, times, state, counts')
    .option(
      '--limit <n>',
      `at most this many (default ${DEFAULT_RUNS_LIMIT}, up to ${MAX_RUNS_LIMIT})`,
      integerIn(1, MAX_RUNS_LIMIT),
    )
    .option(
      '--json',
      'print an array of {run_id, trigger, slot, queued_at, started_at, finished_at, state, total, done, counts, ...}',
    )
    .action(async (options: { limit?: number; json?: boolean }) => {
      const { list, warning } = await withApp(ctx, async (app) => {
        const found = await (await services()).listRuns(app, options.limit ?? DEFAULT_RUNS_LIMIT);
        const { emptyPrefixWarning } = await import('../../services/prefix-check.js');
        return { list: found, warning: found.length === 0 ? await emptyPrefixWarning(app) : null };
      });
      ctx.out(options.json ? formatJson(list) : formatRunListText(list));
      if (warning) ctx.err(warning);
    });

  runs
    .command('show')
    .description("one run: its progress, counts, turnover distribution and each portfolio's outcome")
    .argument('<run-id>', 'the run id (cron-…, manual-…, nightly-…)', parseRunId)
    .option('--wait', 'follow the run until it ends (progress on stderr), then print it')
    .option(
      '--limit <n>',
      `portfolios listed, those needing a look first (default ${DEFAULT_RUN_PORTFOLIOS}, up to ${MAX_RUN_PORTFOLIOS})`,
      integerIn(1, MAX_RUN_PORTFOLIOS),
    )
    .option('--outcome <outcome>', `only portfolios with this outcome: ${OUTCOMES.join(', ')}`, parseOutcome)
    .option(
      '--json',
      'print {run_id, ..., counts, turnover, portfolios_total, portfolios: [{portfolio_id, outcome, ...}]}',
    )
    .action(async (runId: string, options: ShowOptions) => {
      const run = await withApp(ctx, async (app) => {
        const { showRun, waitForRun } = await services();
        if (options.wait) {
          const controller = new AbortController();
          const stop = ctx.onInterrupt?.(() => controller.abort()) ?? (() => {});
          try {
            await waitForRun(
              app,
              runId,
              (r) => ctx.err(`run ${r.run_id}: ${r.state}, ${r.done} of ${r.total ?? '?'} done\n`),
              {
                signal: controller.signal,
              },
            );
          } finally {
            stop();
          }
        }
        return showRun(app, runId, { limit: options.limit, outcome: options.outcome });
      });
      ctx.out(options.json ? formatJson(run) : formatRunText(run));
    });

  runs
    .command('cancel')
    .description(
      'remove what of a run has not started: its fan-out if still queued, every portfolio job still ' +
        'waiting (a running fan-out stops at its next chunk; jobs already running finish)',
    )
    .argument('<run-id>', 'the run id', parseRunId)
    .option('--json', 'print {run_id, cancelled, fan_out_cancelled, state}')
    .action(async (runId: string, options: { json?: boolean }) => {
      const result = await withApp(ctx, async (app) =>
        (await services()).cancelRun(app, runId, cliActor(app.config.actor)),
      );
      ctx.out(options.json ? formatJson(result) : formatRunCancelText(result));
    });

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
