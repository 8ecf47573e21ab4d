import { nightlyJobId, recalculateJobId } from '../../../jobs/payloads.js';
import { GONE_WITHOUT_REPORT } from '../../../jobs/recalculate.js';
import { JobFailedError, OPERATOR_PRIORITY, type RunProgress } from '../../adapters/queue.js';
import type { App } from '../../app.js';
import { RefusedError, skipReason } from '../../domain/index.js';
import { followRun } from '../../runtime/follow-run.js';
import { manualRunId } from '../../runtime/run-ids.js';
import type { CliContext } from '../context.js';
import { formatJson, formatTable } from '../output.js';

export interface RecalculateOptions {
  portfolio: string;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
}

export interface NightlyOptions {
  wait?: boolean;
  json?: boolean;
}

export async function enqueueRecalculate(
  app: App,
  ctx: CliContext,
  options: RecalculateOptions,
): Promise<void> {
  const portfolio = await app.store.require(options.portfolio);
  skipReason(portfolio, 'manual'); // an archived portfolio is refused here, before anything is queued
  const runId = manualRunId(ctx.now());
  const jobId = recalculateJobId(runId, portfolio.id);
  const events = options.wait ? await app.queue.events(app.redis) : undefined;
  try {
    await app.queue.add({
      name: 'recalculate',
      data: { portfolioId: portfolio.id, runId, trigger: 'manual', dryRun: options.dryRun === true },
      jobId,
      priority: OPERATOR_PRIORITY,
    });
    if (!events) {
      ctx.out(
        options.json ? formatJson({ job_id: jobId, run_id: runId }) : `queued job ${jobId} (run ${runId})\n`,
      );
      return;
    }
    try {
      await app.queue.waitFor(jobId, events, undefined, {
        // Trimmed from the kept completed jobs (a busy queue): its report says it finished.
        ifGone: async () => {
          const report = await app.reports.runReport(portfolio.id, runId);
          if (report === null) throw new JobFailedError(jobId, GONE_WITHOUT_REPORT);
          return report;
        },
      });
    } catch (err) {
      throw new RefusedError(`job ${jobId} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const report = await app.reports.runReport(portfolio.id, runId);
    if (!report) throw new RefusedError(`job ${jobId} finished but its report is missing`);
    ctx.out(options.json ? `${report}\n` : describeReport(JSON.parse(report)));
  } finally {
    await events?.close();
  }
}

export async function enqueueNightly(app: App, ctx: CliContext, options: NightlyOptions): Promise<void> {
  const runId = manualRunId(ctx.now(), 'nightly');
  const jobId = nightlyJobId(runId);
  const events = options.wait ? await app.queue.events(app.redis) : undefined;
  // Stops the watch if anything below throws (its quiet timer would keep the process alive).
  const stop = new AbortController();
  try {
    const watching = events
      ? followRun(app, events, runId, progressPrinter(ctx, ctx.now()), { signal: stop.signal })
      : undefined;
    await app.queue.add({
      name: 'nightly',
      data: { runId, trigger: 'manual' },
      jobId,
      priority: OPERATOR_PRIORITY,
    });
    if (!watching) {
      ctx.out(
        options.json
          ? formatJson({ job_id: jobId, run_id: runId })
          : `queued nightly run ${runId} (job ${jobId})\n`,
      );
      return;
    }
    const progress = await watching;
    const reports = await collectReports(app, runId);
    if (options.json) {
      ctx.out(
        formatJson({
          run_id: runId,
          total: progress.total,
          completed: progress.completed,
          failed: progress.failed,
          failures: progress.failures.map((f) => ({ job_id: f.jobId, reason: f.reason })),
          reports,
        }),
      );
    } else {
      ctx.out(describeRun(runId, progress, reports));
    }
    if (progress.failed > 0) {
      throw new RefusedError(`${progress.failed} of ${progress.total} portfolios failed in run ${runId}`);
    }
  } finally {
    stop.abort();
    await events?.close();
  }
}

/** Every report of a run, a chunk of portfolios at a time. */
async function collectReports(app: App, runId: string): Promise<WireReportLike[]> {
  const out: WireReportLike[] = [];
  for await (const ids of app.store.idChunks(500)) {
    const pipeline = app.redis.pipeline();
    for (const id of ids) pipeline.hget(app.keys.runMarker(id, runId), 'report');
    for (const [err, value] of (await pipeline.exec()) ?? []) {
      if (!err && typeof value === 'string') out.push(JSON.parse(value) as WireReportLike);
    }
  }
  return out;
}

interface WireReportLike {
  portfolio_id: string;
  run_id: string;
  strategy: string;
  applied: boolean;
  dry_run: boolean;
  changes: number;
  turnover: number;
  skipped: { reason: string } | null;
  actions: {
    business_id: string;
    action: string;
    current_weight: number;
    recommended_weight: number;
    reason: string;
  }[];
}

function outcome(r: WireReportLike): string {
  if (r.skipped) return `skipped (${r.skipped.reason})`;
  return r.dry_run ? 'dry run' : 'applied';
}

function describeReport(r: WireReportLike): string {
  const head = `portfolio ${r.portfolio_id}, run ${r.run_id}: ${outcome(r)}, ${r.changes} changes, turnover ${(r.turnover * 100).toFixed(1)}%\n`;
  if (r.actions.length === 0) return head;
  return (
    head +
    formatTable(
      [
        { header: 'business', value: (a: WireReportLike['actions'][number]) => a.business_id },
        { header: 'action', value: (a) => a.action },
        {
          header: 'weight',
          value: (a) =>
            `${(a.current_weight * 100).toFixed(1)}% -> ${(a.recommended_weight * 100).toFixed(1)}%`,
        },
        { header: 'reason', value: (a) => a.reason },
      ],
      r.actions,
    )
  );
}

function describeRun(runId: string, progress: RunProgress, reports: WireReportLike[]): string {
  const head = `run ${runId}: ${progress.completed} of ${progress.total} portfolios done, ${progress.failed} failed\n`;
  const table = formatTable(
    [
      { header: 'portfolio', value: (r: WireReportLike) => r.portfolio_id },
      { header: 'strategy', value: (r) => r.strategy },
      { header: 'outcome', value: (r) => outcome(r) },
      { header: 'changes', value: (r) => String(r.changes), align: 'right' },
      { header: 'turnover', value: (r) => `${(r.turnover * 100).toFixed(1)}%`, align: 'right' },
    ],
    reports,
  );
  const failures = progress.failures.map((f) => `failed: ${f.jobId}: ${f.reason}\n`).join('');
  return head + table + failures;
}

/** A progress bar on a terminal; plain lines (at most one per second) otherwise. */
function progressPrinter(ctx: CliContext, started: Date): (p: RunProgress) => void {
  let lastLine = 0;
  return (p) => {
    const done = p.completed + p.failed;
    const elapsed = ((ctx.now().getTime() - started.getTime()) / 1000).toFixed(1);
    const total = p.total ?? '?';
    const finished = p.total !== null && done >= p.total;
    if (ctx.interactive) {
      const width = 30;
      const filled = p.total ? Math.round((done / Math.max(1, p.total)) * width) : 0;
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      ctx.err(
        `\r[${bar}] ${done}/${total} portfolios, ${p.failed} failed, ${elapsed}s${finished ? '\n' : ''}`,
      );
      return;
    }
    const now = ctx.now().getTime();
    if (!finished && now - lastLine < 1000) return;
    lastLine = now;
    ctx.err(`progress: ${done}/${total} portfolios, ${p.failed} failed, ${elapsed}s\n`);
  };
}
