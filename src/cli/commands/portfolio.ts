/** `ballast portfolio ...`: create, inspect and edit portfolios in Redis. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerPortfolioAllocations } from './portfolio-allocations.js';
import { registerPortfolioCreate } from './portfolio-create.js';
import { registerPortfolioDelete } from './portfolio-delete.js';
import { registerPortfolioHistory } from './portfolio-history.js';
import { registerPortfolioImport } from './portfolio-import.js';
import { registerPortfolioList } from './portfolio-list.js';
import { registerPortfolioShow } from './portfolio-show.js';
import { registerPortfolioUpdate } from './portfolio-update.js';

export function registerPortfolioCommand(program: Command, ctx: CliContext): void {
  const portfolio = program
    .command('portfolio')
    .description(
      'create, show, list, edit and restore portfolios (writes are compare-and-set: no lost updates)',
    );
  registerPortfolioCreate(portfolio, ctx);
  registerPortfolioShow(portfolio, ctx);
  registerPortfolioList(portfolio, ctx);
  registerPortfolioUpdate(portfolio, ctx);
  registerPortfolioAllocations(portfolio, ctx);
  registerPortfolioHistory(portfolio, ctx);
  registerPortfolioDelete(portfolio, ctx);
  registerPortfolioImport(portfolio, ctx);
}
