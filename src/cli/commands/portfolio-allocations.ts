/**
 * `ballast portfolio add-business | remove-business | set-allocation`. Every write re-reads the
 * portfolio and applies the domain operation to the version it read, compare-and-set, so two
 * operators editing at once never lose each other's change.
 */
import { type Command, InvalidArgumentError } from 'commander';
import {
  addBusiness,
  removeBusiness,
  type SetAllocationInput,
  setAllocation,
  setWeights,
} from '../../domain/index.js';
import type { CliContext } from '../context.js';
import { cliEdit } from '../edit-meta.js';
import { UsageError } from '../errors.js';
import { withApp } from '../lazy-with-app.js';
import { parseBoolean, parseId, parseNumber } from '../option-parsers.js';
import { type NONE, orNull, parseNumberOrNone, printWritten } from './portfolio-options.js';

interface JsonOption {
  readonly json?: boolean;
}

interface SetAllocationOptions extends JsonOption {
  readonly weight?: number;
  readonly priority?: number;
  readonly locked?: boolean;
  readonly min?: number | typeof NONE;
  readonly max?: number | typeof NONE;
  readonly target?: number | typeof NONE;
}

export function registerPortfolioAllocations(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('add-business')
    .description(
      'add a business; under equal every unlocked allocation is re-spread, otherwise the new one takes ' +
        '--weight (default 1/n) and the other unlocked ones shrink in proportion',
    )
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .argument('<business-id>', 'business id', parseId)
    .option('--weight <weight>', 'its weight, 0..1 (not with the equal strategy)', parseNumber)
    .action(async (portfolioId: string, businessId: string, options: JsonOption & { weight?: number }) => {
      const p = await withApp(ctx, (app) =>
        app.store.update(
          portfolioId,
          (current) => addBusiness(current, businessId, { weight: options.weight }, ctx.now().toISOString()),
          cliEdit(app.config, 'portfolio add-business'),
        ),
      );
      printWritten(ctx, p, options.json, `Added ${businessId} to portfolio ${p.id}`);
    });

  portfolio
    .command('remove-business')
    .description('remove a business; its weight goes back to the unlocked allocations')
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .argument('<business-id>', 'business id', parseId)
    .action(async (portfolioId: string, businessId: string, options: JsonOption) => {
      const p = await withApp(ctx, (app) =>
        app.store.update(
          portfolioId,
          (current) => removeBusiness(current, businessId, ctx.now().toISOString()),
          cliEdit(app.config, 'portfolio remove-business'),
        ),
      );
      printWritten(ctx, p, options.json, `Removed ${businessId} from portfolio ${p.id}`);
    });

  portfolio
    .command('set-allocation')
    .description(
      "set one allocation's weight, priority, lock, bounds or target; the other unlocked allocations " +
        'absorb a weight change in proportion',
    )
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .argument('<business-id>', 'business id', parseId)
    .option('--weight <weight>', 'weight, 0..1', parseNumber)
    .option('--priority <n>', 'priority, a whole number from 1 to 10', parseNumber)
    .option('--locked <bool>', 'true: no automatic operation changes it; false: unlock', parseBoolean)
    .option('--min <weight>', 'lower bound on the weight, 0..1, or "none"', parseNumberOrNone)
    .option('--max <weight>', 'upper bound on the weight, 0..1, or "none"', parseNumberOrNone)
    .option('--target <weight>', 'target weight for the custom strategy, 0..1, or "none"', parseNumberOrNone)
    .addHelpText(
      'after',
      '\nExample:\n  ballast portfolio set-allocation north-star harbor-coffee --weight 0.2 --locked true\n',
    )
    .action(async (portfolioId: string, businessId: string, options: SetAllocationOptions) => {
      const input: SetAllocationInput = {
        weight: options.weight,
        priority: options.priority,
        locked: options.locked,
        minWeight: orNull(options.min),
        maxWeight: orNull(options.max),
        targetWeight: orNull(options.target),
      };
      if (Object.values(input).every((value) => value === undefined)) {
        throw new UsageError(
          'nothing to set: give at least one of --weight, --priority, --locked, --min, --max, --target',
        );
      }
      const p = await withApp(ctx, (app) =>
        app.store.update(
          portfolioId,
          (current) => setAllocation(current, businessId, input, ctx.now().toISOString()),
          cliEdit(app.config, 'portfolio set-allocation'),
        ),
      );
      printWritten(ctx, p, options.json, `Set ${businessId} in portfolio ${p.id}`);
    });

  portfolio
    .command('set-allocations')
    .description(
      'set several weights at once, as one version: the other unlocked allocations absorb the ' +
        'difference once, in proportion',
    )
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .argument(
      '<business=weight...>',
      'weights to set, e.g. harbor-coffee=0.3 tidy-books=0.2',
      parseAssignment,
    )
    .option('--json', 'print the portfolio as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  ballast portfolio set-allocations north-star harbor-coffee=0.3 tidy-books=0.2\n',
    )
    .action(async (portfolioId: string, assignments: Assignment[], options: JsonOption) => {
      const weights = new Map<string, number>();
      for (const [businessId, weight] of assignments) {
        if (weights.has(businessId)) throw new UsageError(`${businessId} is given twice`);
        weights.set(businessId, weight);
      }
      const p = await withApp(ctx, (app) =>
        app.store.update(
          portfolioId,
          (current) => setWeights(current, weights, ctx.now().toISOString()),
          cliEdit(app.config, 'portfolio set-allocations'),
        ),
      );
      printWritten(ctx, p, options.json, `Set ${weights.size} weights in portfolio ${p.id}`);
    });
}

type Assignment = readonly [string, number];

/** `business=weight`, collected by commander into a list (a variadic argument). */
function parseAssignment(value: string, previous: Assignment[] = []): Assignment[] {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    throw new InvalidArgumentError(
      `${JSON.stringify(value)} is not BUSINESS=WEIGHT (e.g. harbor-coffee=0.3)`,
    );
  }
  return [...previous, [parseId(value.slice(0, eq)), parseNumber(value.slice(eq + 1))]];
}
