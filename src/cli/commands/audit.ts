/**
 * `ballast audit`: every change to every portfolio, newest first, filtered by portfolio, actor and
 * time. services/history.js is light (the domain only), see portfolio-history.ts.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { isBallastError } from '../../domain/index.js';
import { DEFAULT_AUDIT_LIMIT, MAX_LIMIT, parseSince, readAudit } from '../../services/history.js';
import type { CliContext } from '../context.js';
import { formatAuditText } from '../history-text.js';
import { withApp } from '../lazy-with-app.js';
import { integerIn, parseId } from '../option-parsers.js';
import { formatJson } from '../output.js';

interface AuditOptions {
  readonly portfolio?: string;
  readonly actor?: string;
  readonly since?: string;
  readonly limit: number;
  readonly json?: boolean;
}

export function registerAuditCommand(program: Command, ctx: CliContext): void {
  program
    .command('audit')
    .description(
      'every change to every portfolio, newest first: when | actor | portfolio | cause | versions | changes',
    )
    .option('--portfolio <portfolio-id>', "only this portfolio's changes", parseId)
    .option('--actor <actor>', 'only the changes this actor made (ops:dana, api:deploy-bot, run:cron-…)')
    .option(
      '--since <when>',
      'only changes at or after: an ISO date or timestamp with a zone (2026-12-01, 2026-12-01T02:00:00Z) or a duration back from now (30m, 24h, 7d)',
      checkSince(ctx),
    )
    .option(
      '--limit <n>',
      `at most n entries (1..${MAX_LIMIT})`,
      integerIn(1, MAX_LIMIT),
      DEFAULT_AUDIT_LIMIT,
    )
    .option('--json', 'print {entries: [...]} (as GET /audit)')
    .action(async (options: AuditOptions) => {
      const entries = await withApp(ctx, (app) =>
        readAudit(app, {
          portfolioId: options.portfolio,
          actor: options.actor,
          since: options.since,
          limit: options.limit,
        }),
      );
      ctx.out(options.json ? formatJson({ entries }) : formatAuditText(entries));
    });
}

/**
 * Refuses a `--since` that is not a time before Redis is reached (bad usage, naming the option).
 * The value is kept as given: readAudit measures a duration from the app's clock.
 */
function checkSince(ctx: CliContext): (value: string) => string {
  return (value) => {
    try {
      parseSince(value, ctx.now());
    } catch (err) {
      if (!isBallastError(err)) throw err;
      throw new InvalidArgumentError(err.message.replace(/^since: /, ''));
    }
    return value;
  };
}
