/** `ballast portfolio show PID`: settings and allocations, or the wire JSON that `plan` reads. */
import type { Command } from 'commander';
import { portfolioToWire } from '../../domain/index.js';
import type { CliContext } from '../context.js';
import { withApp } from '../lazy-with-app.js';
import { parseId } from '../option-parsers.js';
import { formatJson } from '../output.js';
import { formatPortfolioText } from '../portfolio-text.js';

export function registerPortfolioShow(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('show')
    .description('show a portfolio: settings, version, last run and one row per allocation')
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .option('--json', 'print the portfolio in the wire shape (what `ballast plan --portfolio` reads)')
    .action(async (portfolioId: string, options: { json?: boolean }) => {
      const p = await withApp(ctx, (app) => app.store.require(portfolioId));
      const wire = portfolioToWire(p);
      ctx.out(options.json ? formatJson(wire) : formatPortfolioText(wire));
    });
}
