/** `ballast portfolio delete PID --yes`: a portfolio and everything Ballast keeps of it, gone. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { cliEdit } from '../edit-meta.js';
import { UsageError } from '../errors.js';
import { withApp } from '../lazy-with-app.js';
import { parseId } from '../option-parsers.js';
import { formatJson } from '../output.js';

export function registerPortfolioDelete(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('delete')
    .description(
      'delete a portfolio: its document, reports, history, proposal and index entries (refused while ' +
        'one of its jobs runs; the audit keeps who deleted it)',
    )
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .option('--yes', 'confirm: nothing of it can be restored afterwards')
    .option('--json', 'print {portfolio_id, deleted, version, businesses}')
    .action(async (portfolioId: string, options: { yes?: boolean; json?: boolean }) => {
      if (!options.yes) {
        throw new UsageError(
          `deleting portfolio ${portfolioId} removes its history and reports for good: add --yes to confirm ` +
            '(or archive it: portfolio update --status archived)',
        );
      }
      const result = await withApp(ctx, async (app) => {
        const { deletePortfolio } = await import('../../services/portfolio-delete.js');
        return deletePortfolio(app, portfolioId, cliEdit(app.config, 'portfolio delete'));
      });
      ctx.out(
        options.json
          ? formatJson(result)
          : `Deleted portfolio ${result.portfolio_id} (version ${result.version}, ${result.businesses} businesses)\n`,
      );
    });
}
