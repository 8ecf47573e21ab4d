/** `ballast plan`: what a run would do to a portfolio, offline, from two files. */
import type { Command } from 'commander';
import { InputFileError, readJsonFile, STDIN_PATH } from '../../adapters/input-file.js';
import { type MetricsFile, readMetricsFile } from '../../adapters/metrics-file.js';
import {
  actionToWire,
  isBallastError,
  type Portfolio,
  portfolioFromWire,
  type Report,
  rankingEntryToWire,
  reportToWireWith,
  runPortfolio,
  skipReason,
} from '../../domain/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { formatJsonChunks } from '../output.js';
import { DOMAIN_TABLE } from '../report-table.js';
import { reportTextChunksOf } from '../report-text.js';

export const NOT_IN_METRICS_FILE = 'not in the metrics file';

interface PlanOptions {
  readonly portfolio: string;
  readonly metrics: string;
  readonly json?: boolean;
}

export function registerPlanCommand(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .summary('show what a run would do to a portfolio, offline (no Redis)')
    .description(
      'Reads a portfolio and a metrics file and prints the report a run would publish: ranking, ' +
        'actions, weights after, roll-up and turnover. Nothing is written anywhere.',
    )
    .requiredOption(
      '--portfolio <file>',
      'portfolio JSON, as `ballast portfolio show --json` prints it (- for stdin)',
    )
    .requiredOption(
      '--metrics <file>',
      'business metrics: a JSON array or NDJSON, one object per line (- for stdin)',
    )
    .option('--json', 'print the report as JSON (the wire shape published to Redis)')
    .addHelpText(
      'after',
      '\nExample:\n  ballast plan --portfolio examples/portfolio.json --metrics examples/metrics.json\n',
    )
    .action(async (options: PlanOptions) => {
      const result = await planFromFiles(options.portfolio, options.metrics, ctx);
      // Written as it is made, from the run's own entries: the report of a large portfolio is
      // tens of megabytes, and a wire copy of its entries would be as many again.
      const { ranking, actions } = result.report;
      const wire = reportToWireWith(result.report, ranking, actions);
      if (options.json) {
        await writeChunks(
          ctx,
          formatJsonChunks(wire, { ranking: rankingEntryToWire, actions: actionToWire }),
        );
        return;
      }
      await writeChunks(ctx, reportTextChunksOf(wire, ranking, actions, DOMAIN_TABLE));
      for (const note of planNotes(result)) ctx.out(`Note: ${note}\n`);
    });
}

/**
 * Each slice to `ctx.out` (standard output blocks on Linux until a pipe takes it), with a turn of
 * the event loop every few: a reader that has gone (`ballast plan ... | head`) shows as EPIPE, on
 * which main.ts exits, instead of the rest of the report being made for nobody.
 */
async function writeChunks(ctx: Pick<CliContext, 'out'>, chunks: Iterable<string>): Promise<void> {
  let written = 0;
  for (const chunk of chunks) {
    ctx.out(chunk);
    if (++written % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

export interface PlanResult {
  readonly portfolio: Portfolio;
  readonly metricsFile: MetricsFile;
  readonly report: Report;
  /** How many of the portfolio's businesses the metrics file does not have. */
  readonly missing: number;
}

/** Reads both files, then runs the portfolio as a manual dry run would. */
export async function planFromFiles(
  portfolioPath: string,
  metricsPath: string,
  ctx: Pick<CliContext, 'now' | 'stdin'>,
): Promise<PlanResult> {
  if (portfolioPath === STDIN_PATH && metricsPath === STDIN_PATH) {
    throw new UsageError('only one of --portfolio and --metrics can read standard input');
  }
  const now = ctx.now().toISOString();
  const portfolio = await readPortfolioFile(portfolioPath, now, ctx.stdin);
  const metricsFile = await readMetricsFile(metricsPath, { stdin: ctx.stdin });
  // A manual run of an archived portfolio is refused; so is its plan (paused runs manually).
  skipReason(portfolio, 'manual');
  const missingReasons = new Map<string, string>();
  for (const a of portfolio.allocations) {
    if (!metricsFile.metrics.has(a.businessId)) missingReasons.set(a.businessId, NOT_IN_METRICS_FILE);
  }
  const { report } = runPortfolio({
    portfolio,
    metrics: metricsFile.metrics,
    missingReasons,
    dryRun: true,
    trigger: 'manual',
    runId: 'plan',
    reportId: 'plan',
    now,
  });
  return { portfolio, metricsFile, report, missing: missingReasons.size };
}

async function readPortfolioFile(
  path: string,
  now: string,
  stdin: NodeJS.ReadableStream,
): Promise<Portfolio> {
  const value = await readJsonFile(path, stdin);
  try {
    return portfolioFromWire(value, now);
  } catch (err) {
    if (isBallastError(err)) throw new InputFileError(path, err.message, err.details);
    throw err;
  }
}

/** The rebalancing options that differ from the defaults, in words (the reasons apply them). */
export function rebalancingNotes(p: Portfolio): string[] {
  const notes: string[] = [];
  if (p.rebalanceTrigger === 'portfolio') {
    notes.push(
      'rebalance_trigger portfolio: when one allocation is outside its drift band, every allocation goes to its target; otherwise none moves',
    );
  }
  if (p.driftType === 'relative') {
    notes.push(
      `drift_type relative: an allocation's drift band is ${p.driftThreshold} x its target (${(p.driftThreshold * 100).toFixed(1)}% of it)`,
    );
  }
  if (p.minTrade !== undefined && p.minTrade > 0) {
    notes.push(
      `min_trade ${p.minTrade}: moves under ${(p.minTrade * 100).toFixed(1)} points are not made, and the other moves shrink to match`,
    );
  }
  return notes;
}

/** Things worth a line under the table that the report itself does not say. */
function planNotes({ portfolio, metricsFile, missing }: PlanResult): string[] {
  const notes: string[] = [];
  if (portfolio.status === 'paused') notes.push('the portfolio is paused: the nightly run skips it');
  notes.push(...rebalancingNotes(portfolio));
  // The portfolio's ids are unique: those with metrics are the file's entries inside it.
  const outside = metricsFile.metrics.size - (portfolio.allocations.length - missing);
  if (outside > 0) {
    notes.push(
      `${outside} ${outside === 1 ? 'entry' : 'entries'} of the metrics file ${outside === 1 ? 'is' : 'are'} for businesses outside this portfolio (ignored)`,
    );
  }
  return notes;
}
