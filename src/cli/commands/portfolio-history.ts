/**
 * `ballast portfolio history PID` and `ballast portfolio restore PID --version N`: a portfolio's
 * versions, and putting its allocations back as they were at one of them.
 *
 * services/history.js is imported at the top: its only runtime import is the domain, which every
 * command loads already (it takes the App type alone), so `ballast --help` stays light. Redis
 * comes through withApp, loaded lazily as everywhere else.
 */
import type { Command } from 'commander';
import { cliActor } from '../../services/actor.js';
import {
  DEFAULT_HISTORY_LIMIT,
  MAX_LIMIT,
  portfolioHistory,
  restorePortfolio,
} from '../../services/history.js';
import type { CliContext } from '../context.js';
import { formatHistoryText, formatRestoreLine } from '../history-text.js';
import { withApp } from '../lazy-with-app.js';
import { integerIn, parseId, parsePositiveInt } from '../option-parsers.js';
import { formatJson } from '../output.js';
import { formatAllocations } from '../portfolio-text.js';

interface HistoryOptions {
  readonly limit: number;
  readonly json?: boolean;
}

interface RestoreOptions {
  readonly version: number;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** Registers both `history` and `restore`. */
export function registerPortfolioHistory(portfolio: Command, ctx: CliContext): void {
  registerHistory(portfolio, ctx);
  registerRestore(portfolio, ctx);
}

function registerHistory(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('history')
    .description(
      "a portfolio's versions, newest first: version | when | actor | cause | changes, and which versions the history keeps",
    )
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .option(
      '--limit <n>',
      `the newest n versions (1..${MAX_LIMIT})`,
      integerIn(1, MAX_LIMIT),
      DEFAULT_HISTORY_LIMIT,
    )
    .option(
      '--json',
      'print {portfolio_id, current_version, kept, history: [records]} (as GET /portfolios/{id}/history)',
    )
    .action(async (portfolioId: string, options: HistoryOptions) => {
      const page = await withApp(ctx, (app) => portfolioHistory(app, portfolioId, options.limit));
      ctx.out(options.json ? formatJson(page) : formatHistoryText(page));
    });
}

function registerRestore(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('restore')
    .description(
      'give every allocation the weight, lock, bounds, target and priority it had at version N, as a new ' +
        'version (settings are not touched); refused when the businesses differ from version N',
    )
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .requiredOption('--version <n>', 'the version to restore (one the history still keeps)', parsePositiveInt)
    .option('--dry-run', 'say what the restore would change, write nothing')
    .option(
      '--json',
      'print {portfolio_id, restored_version, dry_run, changed, version_before, version_after, changes, diff, portfolio}',
    )
    .action(async (portfolioId: string, options: RestoreOptions) => {
      const result = await withApp(ctx, (app) =>
        restorePortfolio(app, portfolioId, options.version, {
          actor: cliActor(app.config.actor),
          dryRun: options.dryRun === true,
        }),
      );
      if (options.json) {
        ctx.out(formatJson(result));
        return;
      }
      const line = formatRestoreLine(result);
      ctx.out(result.changed ? `${line}\n${formatAllocations(result.portfolio)}` : line);
    });
}
