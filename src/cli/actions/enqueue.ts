import { nightlyJobId, recalculateJobId } from '../../../jobs/payloads.js';
import { GONE_WITHOUT_REPORT, PORTFOLIO_GONE } from '../../../jobs/recalculate.js';
import { JobFailedError, OPERATOR_PRIORITY, type RunProgress } from '../../adapters/queue.js';
import { redactUrl } from '../../adapters/redis.js';
import type { RunOutcome } from '../../adapters/redis-report-store.js';
import type { App } from '../../app.js';
import { RefusedError, skipReason } from '../../domain/index.js';
import { followRun } from '../../runtime/follow-run.js';
import { liveWorkerHosts } from '../../runtime/heartbeat.js';
import { manualRunId } from '../../runtime/run-ids.js';
import { cliActor } from '../../services/actor.js';
import { type RunSummary, runSummary } from '../../services/run-summary.js';
import { enqueueNightly as enqueueNightlyRun } from '../../services/runs.js';
import type { CliContext } from '../context.js';
import { HeldError, UsageError } from '../errors.js';
import { formatJson, formatTable, tableStream } from '../output.js';
import { describeReason } from '../proposal-text.js';

export interface RecalculateOptions {
  portfolio: string;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
  failOnHeld?: boolean;
}

export interface NightlyOptions {
  wait?: boolean;
  json?: boolean;
  failOnHeld?: boolean;
  /** Portfolios whose reports are read back and printed at once (default 500; tests use less). */
  pageSize?: number;
}

export async function enqueueRecalculate(
  app: App,
  ctx: CliContext,
  options: RecalculateOptions,
): Promise<void> {
  if (options.failOnHeld && !options.wait) throw new UsageError('--fail-on-held needs --wait');
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
    // First, before waiting, on stderr (stdout keeps the result): an interrupted wait still
    // leaves the run id to follow with `runs show`.
    ctx.err(`queued job ${jobId} (run ${runId}); waiting for it\n`);
    const warning = warnWithoutWorker(app, ctx, ctx.noWorkerWarnMs);
    try {
      await app.queue.waitFor(jobId, events, undefined, {
        // Trimmed from the kept completed jobs (a busy queue): its report says it finished.
        ifGone: async () => {
          const summary = await app.reports.runSummary(portfolio.id, runId);
          if (summary === null) throw new JobFailedError(jobId, GONE_WITHOUT_REPORT);
          return summary;
        },
      });
    } catch (err) {
      throw new RefusedError(`job ${jobId} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      warning.cancel();
    }
    const report = await app.reports.runReport(portfolio.id, runId);
    if (!report) throw new RefusedError(`job ${jobId} finished but its report is missing`);
    const parsed = JSON.parse(report) as WireReportLike;
    ctx.out(options.json ? `${report}\n` : describeReport(parsed));
    if (options.failOnHeld && parsed.held && !parsed.dry_run) {
      throw new HeldError(`the recommendation for ${portfolio.id} was held for approval (--fail-on-held)`);
    }
  } finally {
    await events?.close();
  }
}

export async function enqueueNightly(app: App, ctx: CliContext, options: NightlyOptions): Promise<void> {
  if (options.failOnHeld && !options.wait) throw new UsageError('--fail-on-held needs --wait');
  const runId = manualRunId(ctx.now(), 'nightly');
  const jobId = nightlyJobId(runId);
  const events = options.wait ? await app.queue.events(app.redis) : undefined;
  // Stops the watch if anything below throws (its quiet timer would keep the process alive).
  const stop = new AbortController();
  try {
    const watching = events
      ? followRun(app, events, runId, progressPrinter(ctx, ctx.now()), { signal: stop.signal })
      : undefined;
    await enqueueNightlyRun(app, { trigger: 'manual', actor: cliActor(app.config.actor), runId });
    if (!watching) {
      ctx.out(
        options.json
          ? formatJson({ job_id: jobId, run_id: runId })
          : `queued nightly run ${runId} (job ${jobId})\n`,
      );
      return;
    }
    // First, before waiting, on stderr (stdout keeps the result): an interrupted wait still
    // leaves the run id to follow.
    ctx.err(
      `queued nightly run ${runId} (job ${jobId}); follow it with: ballast runs show ${runId} --wait\n`,
    );
    const warning = warnWithoutWorker(app, ctx, ctx.noWorkerWarnMs);
    const progress = await watching.finally(() => warning.cancel());
    const summary = await runSummary(app, runId);
    await printRun(app, ctx, runId, progress, summary, options.json === true, options.pageSize ?? PAGE);
    if (progress.failed > 0) {
      throw new RefusedError(`${progress.failed} of ${progress.total} portfolios failed in run ${runId}`);
    }
    if (options.failOnHeld && summary.outcomes.held > 0) {
      throw new HeldError(
        `${summary.outcomes.held} of ${progress.total} portfolios were held for approval in run ${runId} (--fail-on-held)`,
      );
    }
  } finally {
    stop.abort();
    await events?.close();
  }
}

/** Portfolios whose run reports are read (and printed) at once: memory does not grow with the run. */
const PAGE = 500;

/**
 * The run's outcome, printed as it is read back from Redis a page of portfolios at a time: the
 * counts, one row (or, with --json, one report) per portfolio in id order, then those that were
 * gone when their job ran and the failures. --json is still one JSON document, written as it goes:
 * `{run_id, total, completed, failed, failures, reports: [...], gone: [portfolio ids]}`, one report
 * per line.
 */
async function printRun(
  app: App,
  ctx: CliContext,
  runId: string,
  progress: RunProgress,
  summary: RunSummary,
  json: boolean,
  pageSize: number,
): Promise<void> {
  const failures = progress.failures.map((f) => ({ job_id: f.jobId, reason: f.reason }));
  if (json) {
    const head = {
      run_id: runId,
      total: progress.total,
      completed: progress.completed,
      failed: progress.failed,
      outcomes: summary.outcomes,
      held: summary.outcomes.held,
      circuit_open: summary.circuitOpen,
    };
    const fields = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`);
    ctx.out(`{\n${fields.join('')}  "failures": ${JSON.stringify(failures)},\n  "reports": `);
    const reports = jsonArray(ctx.out);
    for await (const page of runReports(app, runId, pageSize)) reports.items(page);
    reports.close();
    ctx.out(',\n  "gone": ');
    const gone = jsonArray(ctx.out);
    for await (const ids of app.reports.goneIds(runId, pageSize))
      gone.items(ids.map((id) => JSON.stringify(id)));
    gone.close();
    ctx.out('\n}\n');
    return;
  }
  ctx.out(
    `run ${runId}: ${progress.completed} of ${progress.total} portfolios done, ${progress.failed} failed\n` +
      `${describeOutcomes(summary.outcomes)}\n`,
  );
  if (summary.circuitOpen) ctx.out(`CIRCUIT BREAKER OPEN: ${summary.circuitOpen}\n`);
  if (summary.outcomes.held > 0) ctx.out('held recommendations wait for approval: ballast proposals list\n');
  const table = tableStream<RunRow>([
    { header: 'portfolio', value: (r) => r.portfolio_id },
    { header: 'strategy', value: (r) => r.strategy },
    { header: 'outcome', value: (r) => r.outcome },
    { header: 'changes', value: (r) => r.changes, align: 'right' },
    { header: 'turnover', value: (r) => r.turnover, align: 'right' },
  ]);
  for await (const page of runReports(app, runId, pageSize)) {
    ctx.out(
      table(
        page.map((json) => {
          const r = JSON.parse(json) as WireReportLike;
          return {
            portfolio_id: r.portfolio_id,
            strategy: r.strategy,
            outcome: outcome(r),
            changes: String(r.changes),
            turnover: `${(r.turnover * 100).toFixed(1)}%`,
          };
        }),
      ),
    );
  }
  for await (const ids of app.reports.goneIds(runId, pageSize)) {
    const reason = `skipped (${PORTFOLIO_GONE})`;
    ctx.out(
      table(
        ids.map((id) => ({ portfolio_id: id, strategy: '-', outcome: reason, changes: '0', turnover: '-' })),
      ),
    );
  }
  ctx.out(failures.map((f) => `failed: ${f.job_id}: ${f.reason}\n`).join(''));
  const oom = notWrittenForMemory(runId, failures);
  if (oom.length > 0) ctx.out(`not written (Redis out of memory): ${oom.join(', ')}\n`);
}

/** Redis's refusal at maxmemory with noeviction, as BullMQ records it as a failure reason. */
const OOM_REASON = /\bOOM command not allowed\b/;

/**
 * The portfolios whose job failed because Redis was full: nothing of the run was written for
 * them (its commit is refused whole, docs/operations.md "Redis settings").
 */
function notWrittenForMemory(
  runId: string,
  failures: readonly { job_id: string; reason: string }[],
): string[] {
  const childPrefix = `${runId}.`;
  return failures
    .filter((f) => OOM_REASON.test(f.reason) && f.job_id.startsWith(childPrefix))
    .map((f) => f.job_id.slice(childPrefix.length))
    .sort();
}

/** A JSON array written as its items come (each already JSON), one per line. */
function jsonArray(out: (text: string) => void): { items(json: readonly string[]): void; close(): void } {
  let count = 0;
  return {
    items(json) {
      if (json.length === 0) return;
      out(json.map((item) => `${count++ === 0 ? '[' : ','}\n    ${item}`).join(''));
    },
    close() {
      out(count === 0 ? '[]' : '\n  ]');
    },
  };
}

interface RunRow {
  readonly portfolio_id: string;
  readonly strategy: string;
  readonly outcome: string;
  readonly changes: string;
  readonly turnover: string;
}

/** The stored report JSON of every portfolio that committed the run, a page of portfolios at a time. */
async function* runReports(app: App, runId: string, pageSize: number): AsyncGenerator<string[]> {
  for await (const ids of app.store.idChunks(pageSize)) {
    const reports = await app.reports.runReports(ids, runId);
    const page = reports.filter((r): r is string => r !== null);
    if (page.length > 0) yield page;
  }
}

function describeOutcomes(o: Record<RunOutcome, number>): string {
  const parts = [`${o.changed} changed`, `${o.unchanged} unchanged`, `${o.held} held for approval`];
  if (o.advisory > 0) parts.push(`${o.advisory} advisory`);
  if (o.skipped > 0) parts.push(`${o.skipped} skipped`);
  return parts.join(', ');
}

interface WireReportLike {
  portfolio_id: string;
  run_id: string;
  strategy: string;
  applied: boolean;
  dry_run: boolean;
  apply_mode?: string;
  held?: { reasons: { guard: string; business_id?: string; detail: string }[] } | null;
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
  const guards = r.held ? [...new Set(r.held.reasons.map((x) => x.guard))].join(', ') : '';
  if (r.dry_run) return r.held ? `dry run (would be held: ${guards})` : 'dry run';
  if (r.held) return `held (${guards})`;
  if (r.apply_mode === 'advisory') return 'advisory (not applied)';
  return 'applied';
}

function describeReport(r: WireReportLike): string {
  let head = `portfolio ${r.portfolio_id}, run ${r.run_id}: ${outcome(r)}, ${r.changes} changes, turnover ${(r.turnover * 100).toFixed(1)}%\n`;
  if (r.held) {
    head += `${r.dry_run ? 'a run would hold it' : 'held for approval'}:\n${r.held.reasons.map((x) => `  - ${describeReason(x)}\n`).join('')}`;
    if (!r.dry_run)
      head += `approve: ballast proposals approve ${r.portfolio_id}   reject: ballast proposals reject ${r.portfolio_id}\n`;
  }
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

const NO_WORKER_WARN_MS = 10_000;

/**
 * Warns once, on stderr, when no worker under this prefix has a heartbeat `afterMs` into a wait:
 * with no worker (or under a mistyped BALLAST_PREFIX) the job would wait silently forever.
 */
function warnWithoutWorker(app: App, ctx: CliContext, afterMs = NO_WORKER_WARN_MS): { cancel(): void } {
  let cancelled = false;
  const timer = setTimeout(() => {
    void liveWorkerHosts(app.redis, app.keys)
      .then((hosts) => {
        if (cancelled || hosts.length > 0) return;
        ctx.err(
          `warning: no worker is running for prefix ${app.keys.prefix} on ${redactUrl(app.config.redisUrl)} ` +
            '(no worker heartbeat): the job waits until one starts (node bin/ballast.js worker), ' +
            'or check BALLAST_PREFIX and REDIS_URL\n',
        );
      })
      .catch(() => undefined);
  }, afterMs);
  timer.unref();
  return {
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}
