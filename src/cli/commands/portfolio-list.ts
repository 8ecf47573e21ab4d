/** `ballast portfolio list [--owner O]`: every portfolio, a page at a time. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import { type Portfolio, portfolioToWire } from '../../domain/index.js';
import type { CliContext } from '../context.js';
import { withApp } from '../lazy-with-app.js';
import { parseId } from '../option-parsers.js';
import { formatPortfolioList, type PortfolioSummary, summarise } from '../portfolio-text.js';

/** Portfolios read per round trip. */
const PAGE_SIZE = 200;

interface ListOptions {
  readonly owner?: string;
  readonly json?: boolean;
}

export function registerPortfolioList(portfolio: Command, ctx: CliContext): void {
  portfolio
    .command('list')
    .description("list portfolios (id order), or one owner's with --owner")
    .option('--owner <owner-id>', "only this owner's portfolios", parseId)
    .option('--json', 'print a JSON array of portfolios in the wire shape')
    .action(async (options: ListOptions) => {
      await withApp(ctx, async (app) => {
        // JSON is written a page at a time, so a large installation never sits in memory at once;
        // the table keeps only one short row per portfolio.
        const rows: PortfolioSummary[] = [];
        let first = true;
        if (options.json) ctx.out('[');
        for await (const page of pages(app, options.owner)) {
          for (const p of page) {
            const wire = portfolioToWire(p);
            if (options.json) {
              ctx.out(`${first ? '\n' : ',\n'}${indent(JSON.stringify(wire, null, 2))}`);
              first = false;
            } else rows.push(summarise(wire));
          }
        }
        ctx.out(options.json ? (first ? ']\n' : '\n]\n') : formatPortfolioList(rows));
        if (first && rows.length === 0) {
          const { emptyPrefixWarning } = await import('../../services/prefix-check.js');
          const warning = await emptyPrefixWarning(app);
          if (warning) ctx.err(warning);
        }
      });
    });
}

async function* pages(app: App, owner: string | undefined): AsyncGenerator<Portfolio[]> {
  if (owner === undefined) {
    for await (const ids of app.store.idChunks(PAGE_SIZE)) yield await app.store.getMany(ids);
    return;
  }
  const ids = await app.store.ownerIds(owner);
  for (let i = 0; i < ids.length; i += PAGE_SIZE) {
    const page = await app.store.getMany(ids.slice(i, i + PAGE_SIZE));
    // The owner index is written before the portfolio and never pruned: trust the document.
    yield page.filter((p) => p.ownerId === owner);
  }
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}
