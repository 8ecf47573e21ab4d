/** `ballast reports show | tail`: the run reports Ballast publishes to Redis. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import { NotFoundError, RefusedError, type WireReport } from '../../domain/index.js';
import type { CliContext } from '../context.js';
import { withApp } from '../lazy-with-app.js';
import { integerIn, parseId } from '../option-parsers.js';
import { formatJson } from '../output.js';
import {
  formatReportHistory,
  formatReportLine,
  parseStoredReport,
  parseStoredSummary,
} from '../report-summary.js';
import { formatReportText } from '../report-text.js';

/** Matches the default trim length of the streams: asking for more cannot return more. */
const MAX_LIMIT = 10_000;

interface ShowOptions {
  readonly limit?: number;
  readonly json?: boolean;
}

interface TailOptions {
  readonly portfolio?: string;
  readonly fromStart?: boolean;
  readonly count?: number;
  readonly json?: boolean;
}

export function registerReportsCommand(program: Command, ctx: CliContext): void {
  const reports = program.command('reports').description('run reports published to Redis');

  reports
    .command('show')
    .description("a portfolio's latest report, or with --limit its last N reports (newest first)")
    .argument('<portfolio-id>', 'portfolio id', parseId)
    .option(
      '--limit <n>',
      `list the last n reports of the portfolio's stream (1..${MAX_LIMIT})`,
      integerIn(1, MAX_LIMIT),
    )
    .option('--json', 'print the report as stored (with --limit: a JSON array, newest first)')
    .action(async (portfolioId: string, options: ShowOptions) => {
      await withApp(ctx, (app) =>
        options.limit === undefined
          ? showLatest(app, ctx, portfolioId, options)
          : showHistory(app, ctx, portfolioId, options.limit, options),
      );
    });

  reports
    .command('tail')
    .description(
      'follow the report stream (every portfolio, or one) and print each report as it is published, ' +
        'until Ctrl-C / SIGTERM (or --count reports)',
    )
    .option('--portfolio <portfolio-id>', "follow one portfolio's stream instead of the global one", parseId)
    .option('--from-start', 'print the reports still in the stream first, oldest first')
    .option('--count <n>', 'stop after n reports', integerIn(1, Number.MAX_SAFE_INTEGER))
    .option(
      '--json',
      "print one JSON per line (NDJSON): report summaries from the global stream (with stream_id, the full report's id in the portfolio's stream), full reports with --portfolio",
    )
    .action(async (options: TailOptions) => {
      await withApp(ctx, (app) => tail(app, ctx, options));
    });
}

async function showLatest(
  app: App,
  ctx: CliContext,
  portfolioId: string,
  options: ShowOptions,
): Promise<void> {
  const json = await app.reports.latest(portfolioId);
  if (json === null) {
    await app.store.require(portfolioId);
    throw new NotFoundError(`no report yet for portfolio ${portfolioId}`);
  }
  const report = readReport(json, portfolioId);
  ctx.out(options.json ? formatJson(report) : formatReportText(report));
}

async function showHistory(
  app: App,
  ctx: CliContext,
  portfolioId: string,
  limit: number,
  options: ShowOptions,
): Promise<void> {
  const entries = await app.reports.list(portfolioId, limit);
  if (entries.length === 0) {
    await app.store.require(portfolioId);
    throw new NotFoundError(`no report yet for portfolio ${portfolioId}`);
  }
  const reports = entries.map((entry) => readReport(entry.report, portfolioId));
  ctx.out(options.json ? formatJson(reports) : formatReportHistory(reports));
}

function readReport(json: string, portfolioId: string): WireReport {
  const report = parseStoredReport(json);
  if (!report)
    throw new RefusedError(`the stored report of portfolio ${portfolioId} is not a readable report`);
  return report;
}

async function tail(app: App, ctx: CliContext, options: TailOptions): Promise<void> {
  if (options.portfolio !== undefined) await app.store.require(options.portfolio);
  const key =
    options.portfolio === undefined ? app.keys.reports : app.keys.portfolioReports(options.portfolio);
  // Start after the newest entry as of now rather than at `$`, which the first blocking read
  // would resolve later: a report published after the line below is never missed.
  const from = options.fromStart ? '0-0' : await lastEntryId(app, key);
  const controller = new AbortController();
  const stopListening = ctx.onInterrupt?.(() => controller.abort()) ?? (() => {});
  ctx.err(`Following ${key}${options.fromStart ? ' from the start' : ''} (Ctrl-C to stop)\n`);
  let printed = 0;
  try {
    for await (const entry of app.reports.tail({
      portfolioId: options.portfolio,
      from,
      signal: controller.signal,
    })) {
      // The global stream carries summaries; a portfolio's stream full reports.
      const report =
        options.portfolio === undefined ? parseStoredSummary(entry.report) : parseStoredReport(entry.report);
      if (!report) {
        ctx.err(`ballast: skipped stream entry ${entry.id}: not a readable report\n`);
        continue;
      }
      // Re-serialised so that each report is exactly one line, whatever the writer's formatting.
      ctx.out(options.json ? `${JSON.stringify(report)}\n` : formatReportLine(report));
      printed++;
      if (options.count !== undefined && printed >= options.count) break;
    }
  } finally {
    stopListening();
  }
}

async function lastEntryId(app: App, key: string): Promise<string> {
  const [newest] = await app.redis.xrevrange(key, '+', '-', 'COUNT', 1);
  return newest ? newest[0] : '0-0';
}
