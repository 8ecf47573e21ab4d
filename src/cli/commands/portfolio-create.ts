/** `ballast portfolio create`: a new, empty portfolio. */
import type { Command } from 'commander';
import {
  type ApplyMode,
  createPortfolio,
  type DriftType,
  generatePortfolioId,
  type RebalanceTrigger,
  type Strategy,
} from '../../domain/index.js';
import type { CliContext } from '../context.js';
import { cliEdit } from '../edit-meta.js';
import { withApp } from '../lazy-with-app.js';
import { parseId, parseNumber } from '../option-parsers.js';
import { printWritten } from './portfolio-options.js';

interface CreateOptions {
  readonly name: string;
  readonly owner: string;
  readonly id?: string;
  readonly strategy?: string;
  readonly budget?: number;
  readonly targetRoi?: number;
  readonly driftThreshold?: number;
  readonly maxTurnover?: number;
  readonly attentionHours?: number;
  readonly applyMode?: string;
  readonly maxAutoTurnover?: number;
  readonly rebalanceTrigger?: string;
  readonly driftType?: string;
  readonly minTrade?: number;
  readonly json?: boolean;
}

export function registerPortfolioCreate(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('create')
    .description('create an empty portfolio (add businesses with add-business)')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--owner <owner-id>', 'owner id', parseId)
    .option('--id <portfolio-id>', 'portfolio id (default: p- and 12 random hex digits)', parseId)
    .option('--strategy <strategy>', 'equal | performance | growth | revenue | custom (default equal)')
    .option('--budget <amount>', 'total budget, >= 0 (default 0)', parseNumber)
    .option('--target-roi <percent>', 'target ROI in percent (default 20)', parseNumber)
    .option(
      '--drift-threshold <weight>',
      'skip moves smaller than this weight, 0..1 (default 0.05)',
      parseNumber,
    )
    .option('--max-turnover <fraction>', 'cap on turnover per run, 0..1 (default none)', parseNumber)
    .option('--attention-hours <hours>', "the owner's hours a week (default 40)", parseNumber)
    .option(
      '--apply-mode <mode>',
      'auto (default: apply unless a guard holds) | approve (every change waits for approval) | advisory (report only)',
    )
    .option(
      '--max-auto-turnover <fraction>',
      'a run turning over more is held for approval, 0..1 (default BALLAST_GUARD_MAX_TURNOVER, 0.25)',
      parseNumber,
    )
    .option(
      '--rebalance-trigger <trigger>',
      'allocation (default: each allocation outside its band moves) | portfolio (one outside its band moves all to target)',
    )
    .option(
      '--drift-type <type>',
      'absolute (default: the band is the threshold) | relative (threshold x target)',
    )
    .option(
      '--min-trade <weight>',
      'moves smaller than this weight are not made, 0..1 (default none)',
      parseNumber,
    )
    .addHelpText(
      'after',
      '\nExample:\n  ballast portfolio create --id north-star --name "North Star" --owner dana --strategy performance --budget 500000\n',
    )
    .action(async (options: CreateOptions) => {
      const now = ctx.now().toISOString();
      // Validated before connecting: a bad value is refused even when Redis is down.
      const p = createPortfolio(
        {
          id: options.id ?? generatePortfolioId(),
          name: options.name,
          ownerId: options.owner,
          strategy: options.strategy as Strategy | undefined,
          totalBudget: options.budget,
          targetRoi: options.targetRoi,
          driftThreshold: options.driftThreshold,
          maxTurnover: options.maxTurnover,
          attentionHoursPerWeek: options.attentionHours,
          applyMode: options.applyMode as ApplyMode | undefined,
          maxAutoTurnover: options.maxAutoTurnover,
          rebalanceTrigger: options.rebalanceTrigger as RebalanceTrigger | undefined,
          driftType: options.driftType as DriftType | undefined,
          minTrade: options.minTrade,
        },
        now,
      );
      const created = await withApp(ctx, (app) =>
        app.store.create(p, cliEdit(app.config, 'portfolio create')),
      );
      printWritten(ctx, created, options.json, `Created portfolio ${created.id}`);
    });
}
