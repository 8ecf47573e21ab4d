/** `ballast portfolio update PID`: change a portfolio's settings (not its allocations). */
import type { Command } from 'commander';
import {
  type ApplyMode,
  type DriftType,
  type PortfolioStatus,
  type RebalanceTrigger,
  type Strategy,
  type UpdatePortfolioInput,
  updatePortfolio,
} from '../../domain/index.js';
import type { CliContext } from '../context.js';
import { cliEdit } from '../edit-meta.js';
import { UsageError } from '../errors.js';
import { withApp } from '../lazy-with-app.js';
import { parseId, parseNumber } from '../option-parsers.js';
import { type NONE, orNull, parseNumberOrNone, printWritten } from './portfolio-options.js';

interface UpdateOptions {
  readonly name?: string;
  readonly status?: string;
  readonly strategy?: string;
  readonly budget?: number;
  readonly targetRoi?: number;
  readonly driftThreshold?: number;
  readonly maxTurnover?: number | typeof NONE;
  readonly attentionHours?: number;
  readonly applyMode?: string;
  readonly maxAutoTurnover?: number | typeof NONE;
  readonly rebalanceTrigger?: string;
  readonly driftType?: string;
  readonly minTrade?: number | typeof NONE;
  readonly json?: boolean;
}

export function registerPortfolioUpdate(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('update')
    .description("change a portfolio's settings; weights are changed with set-allocation")
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .option('--name <name>', 'display name')
    .option('--status <status>', 'active | paused (skipped by the nightly run) | archived')
    .option('--strategy <strategy>', 'equal | performance | growth | revenue | custom')
    .option('--budget <amount>', 'total budget, >= 0', parseNumber)
    .option('--target-roi <percent>', 'target ROI in percent', parseNumber)
    .option('--drift-threshold <weight>', 'skip moves smaller than this weight, 0..1', parseNumber)
    .option(
      '--max-turnover <fraction>',
      'cap on turnover per run, 0..1, or "none" to remove it',
      parseNumberOrNone,
    )
    .option('--attention-hours <hours>', "the owner's hours a week", parseNumber)
    .option(
      '--apply-mode <mode>',
      'auto (apply unless a guard holds) | approve (every change waits for approval) | advisory (report only)',
    )
    .option(
      '--max-auto-turnover <fraction>',
      'a run turning over more is held for approval, 0..1, or "none" for the default (BALLAST_GUARD_MAX_TURNOVER)',
      parseNumberOrNone,
    )
    .option(
      '--rebalance-trigger <trigger>',
      'allocation (each allocation outside its band moves) | portfolio (one outside its band moves all to target)',
    )
    .option('--drift-type <type>', 'absolute (the band is the threshold) | relative (threshold x target)')
    .option(
      '--min-trade <weight>',
      'moves smaller than this weight are not made, 0..1, or "none" to make every move',
      parseNumberOrNone,
    )
    .action(async (portfolioId: string, options: UpdateOptions) => {
      const input: UpdatePortfolioInput = {
        name: options.name,
        status: options.status as PortfolioStatus | undefined,
        strategy: options.strategy as Strategy | undefined,
        totalBudget: options.budget,
        targetRoi: options.targetRoi,
        driftThreshold: options.driftThreshold,
        maxTurnover: orNull(options.maxTurnover),
        attentionHoursPerWeek: options.attentionHours,
        applyMode: options.applyMode as ApplyMode | undefined,
        maxAutoTurnover: orNull(options.maxAutoTurnover),
        rebalanceTrigger: options.rebalanceTrigger as RebalanceTrigger | undefined,
        driftType: options.driftType as DriftType | undefined,
        minTrade: orNull(options.minTrade),
      };
      if (Object.values(input).every((value) => value === undefined)) {
        throw new UsageError(
          'nothing to update: give at least one of --name, --status, --strategy, --budget, --target-roi, --drift-threshold, --max-turnover, --attention-hours, --apply-mode, --max-auto-turnover, --rebalance-trigger, --drift-type, --min-trade',
        );
      }
      const updated = await withApp(ctx, (app) =>
        app.store.update(
          portfolioId,
          (p) => updatePortfolio(p, input, ctx.now().toISOString()),
          cliEdit(app.config, 'portfolio update'),
        ),
      );
      printWritten(ctx, updated, options.json, `Updated portfolio ${updated.id}`);
    });
}
