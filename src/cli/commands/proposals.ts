/** `ballast proposals ...`: recommendations held for approval, and approving or rejecting them. */
import type { Command } from 'commander';
import { cliActor } from '../../services/actor.js';
import { DEFAULT_PROPOSALS_LIMIT, MAX_PROPOSALS_LIMIT } from '../../services/proposals.js';
import type { CliContext } from '../context.js';
import { withApp } from '../lazy-with-app.js';
import { integerIn, parseId, parseNote } from '../option-parsers.js';
import { formatJson } from '../output.js';
import {
  formatApproveText,
  formatProposalListText,
  formatProposalText,
  formatRejectText,
} from '../proposal-text.js';

interface ListOptions {
  readonly limit?: number;
  readonly json?: boolean;
}

interface ResolveOptions {
  readonly note?: string;
  readonly json?: boolean;
}

const services = () => import('../../services/proposals.js');

export function registerProposalsCommand(program: Command, ctx: CliContext): void {
  const proposals = program
    .command('proposals')
    .description('recommendations held by a guard or the apply mode, waiting for approval');

  proposals
    .command('list')
    .description('pending proposals, the longest-waiting first')
    .option(
      '--limit <n>',
      `at most this many (default ${DEFAULT_PROPOSALS_LIMIT}, up to ${MAX_PROPOSALS_LIMIT})`,
      integerIn(1, MAX_PROPOSALS_LIMIT),
    )
    .option(
      '--json',
      'print an array of {portfolio_id, report_id, run_id, version, created_at, reasons, actions, ...}',
    )
    .action(async (options: ListOptions) => {
      const list = await withApp(ctx, async (app) =>
        (await services()).listProposals(app, options.limit ?? DEFAULT_PROPOSALS_LIMIT),
      );
      ctx.out(options.json ? formatJson(list.proposals) : formatProposalListText(list));
    });

  proposals
    .command('show')
    .description("a portfolio's pending proposal: why it was held and the weights it would set")
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .option('--json', 'print the proposal as JSON')
    .action(async (portfolioId: string, options: { json?: boolean }) => {
      const proposal = await withApp(ctx, async (app) => (await services()).showProposal(app, portfolioId));
      ctx.out(options.json ? formatJson(proposal) : formatProposalText(proposal));
    });

  proposals
    .command('approve')
    .description(
      "apply exactly the proposal's weights to the version it was computed on; refused (exit 1) " +
        'saying what changed when the portfolio changed since',
    )
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .option('--note <text>', 'why, kept in history and audit', parseNote)
    .option('--json', 'print {portfolio_id, report_id, version_before, version_after, changes, portfolio}')
    .action(async (portfolioId: string, options: ResolveOptions) => {
      const result = await withApp(ctx, async (app) =>
        (await services()).approvePendingProposal(app, portfolioId, {
          actor: cliActor(app.config.actor),
          note: options.note,
        }),
      );
      ctx.out(options.json ? formatJson(result) : formatApproveText(result));
    });

  proposals
    .command('reject')
    .description('discard the proposal; the weights stay (recorded in audit)')
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .option('--note <text>', 'why, kept in audit', parseNote)
    .option('--json', 'print {portfolio_id, report_id, version}')
    .action(async (portfolioId: string, options: ResolveOptions) => {
      const result = await withApp(ctx, async (app) =>
        (await services()).rejectPendingProposal(app, portfolioId, {
          actor: cliActor(app.config.actor),
          note: options.note,
        }),
      );
      ctx.out(options.json ? formatJson(result) : formatRejectText(result));
    });
}
