import type { z } from 'zod';
import { RedisPortfolioStore } from '../src/adapters/redis-portfolio-store.js';
import type { ProposalWrite, RunOutcome } from '../src/adapters/redis-report-store.js';
import type { RunInputs } from '../src/adapters/run-inputs.js';
import type { RunTally } from '../src/adapters/run-progress.js';
import {
  type ApplyDecision,
  type Baseline,
  baselineFromJson,
  baselineToJson,
  NotFoundError,
  type Portfolio,
  proposalFromReport,
  proposalToWire,
  type Report,
  reportSummary,
  reportToWire,
  runPortfolio,
  StaleVersionError,
  skippedReport,
  skipReason,
} from '../src/domain/index.js';
import { runActor } from '../src/services/actor.js';
import { checkRunEnd, circuitBefore, commitRunEnd } from './circuit.js';
import { defineJob, type JobContext } from './job.js';
import { recalculatePayload } from './payloads.js';

/** How many times a run recomputes from the current portfolio when operators edit it meanwhile. */
const APPLY_TRIES = 5;

export interface RecalculateResult {
  readonly reportId: string;
  readonly portfolioId: string;
  readonly runId: string;
  readonly applied: boolean;
  readonly dryRun: boolean;
  readonly skipped: string | null;
  readonly changes: number;
  readonly turnover: number;
  /** The recommendation was held for approval (would have been, for a dry run). */
  readonly held: boolean;
  /** The run had been committed before (a retry or a re-run): nothing was applied again. */
  readonly duplicate: boolean;
}

/** Why a nightly run's portfolio that is in the index but has no document left no report. */
export const PORTFOLIO_GONE = 'portfolio no longer exists';

/**
 * A nightly child whose portfolio was gone when it ran (an index entry without its document): it
 * completes, publishes no report, and its index entry is removed.
 */
export interface PortfolioGoneResult {
  readonly portfolioId: string;
  readonly runId: string;
  readonly reportId: null;
  readonly skipped: typeof PORTFOLIO_GONE;
  readonly gone: true;
  /** Recorded gone by an earlier attempt or run of this job. */
  readonly duplicate: boolean;
}

export const recalculateJob = defineJob({
  name: 'recalculate',
  schema: recalculatePayload,
  handler: (payload, ctx) => recalculatePortfolio(payload, ctx),
});

/** What a run reads before it computes (RedisReportStore.runInputs), for the guards too. */
export const runInputsWanted = (
  guards: JobContext['config']['guards'],
  payload: Pick<z.output<typeof recalculatePayload>, 'fanOut' | 'dryRun'>,
) => ({ baseline: guards.enabled, tally: guards.enabled && payload.fanOut && !payload.dryRun });

export type DecodedInputs = readonly [Portfolio | null, Baseline | null, RunTally | null];

export function decodeRunInputs(r: RunInputs): DecodedInputs {
  return [
    r.doc === null ? null : RedisPortfolioStore.decode(r.doc),
    r.baselineJson === null ? null : baselineFromJson(r.baselineJson),
    r.tally,
  ];
}

/**
 * One portfolio's run. `first`: its inputs read already (a block reads its portfolios' at once);
 * a recompute after a concurrent edit reads them again.
 */
export async function recalculatePortfolio(
  payload: z.output<typeof recalculatePayload>,
  ctx: JobContext,
  first?: DecodedInputs,
): Promise<RecalculateResult | PortfolioGoneResult> {
  const { portfolioId, runId } = payload;
  const { log } = ctx; // bound to the job id, run id and portfolio id already
  const started = performance.now();
  const guards = ctx.config.guards;
  // What the guards read is asked for with the portfolio: one round trip for the three.
  const read = async () =>
    decodeRunInputs(await ctx.reports.runInputs(portfolioId, runId, runInputsWanted(guards, payload)));
  let [portfolio, baseline, tally] = first ?? (await read());
  let fetchMs = 0;

  for (let attempt = 0; attempt < APPLY_TRIES; attempt++) {
    if (!portfolio) {
      const previous = await ctx.reports.runSummary(portfolioId, runId);
      if (previous) return summarise(JSON.parse(previous), true);
      // An operator's run of an unknown portfolio is a refusal (the CLI and the API refuse it
      // before queueing); a nightly run fanned out an index entry whose document is gone, and one
      // such entry must not fail every night's run.
      if (!payload.fanOut) throw new NotFoundError(`portfolio ${portfolioId} not found`);
      const first = await ctx.reports.recordGone(runId, portfolioId);
      const pruned = await ctx.store.pruneIndexEntry(portfolioId);
      log.warn({ pruned }, `${PORTFOLIO_GONE}: skipped without a report, its index entry removed`);
      await checkRunEnd(ctx, runId);
      return { portfolioId, runId, reportId: null, skipped: PORTFOLIO_GONE, gone: true, duplicate: !first };
    }
    const now = ctx.clock().toISOString();
    const ids = {
      runId,
      reportId: `${runId}.${portfolioId}`,
      trigger: payload.trigger,
      catchUp: payload.catchUp,
    };
    // A nightly run (scheduled or asked for by an operator) skips paused and archived portfolios.
    const skip = skipReason(portfolio, payload.fanOut ? 'cron' : payload.trigger);
    let report: Report;
    let after: Portfolio | null = null;
    let outcome: RunOutcome = 'skipped';
    let proposal: ProposalWrite = { op: 'keep' };
    let baselineJson: string | null = null;
    let decision: ApplyDecision | null = null;
    if (skip) {
      report = skippedReport({ portfolio, reason: skip, now, ...ids });
    } else {
      const fetchStarted = performance.now();
      const { metrics, missing } = await ctx.metricsFor(runId, { fanOut: payload.fanOut }).fetch(
        portfolio.allocations.map((a) => a.businessId),
        ctx.signal,
      );
      fetchMs += performance.now() - fetchStarted;
      const circuitOpen = tally ? await circuitBefore(ctx, runId, tally) : null;
      const computeStarted = performance.now();
      const run = runPortfolio({
        portfolio,
        metrics,
        missingReasons: missing,
        now,
        dryRun: payload.dryRun,
        guards: { settings: guards, baseline, circuitOpen },
        ...ids,
      });
      decision = run.decision;
      // A run that moves nothing writes nothing: the version stays and no history is recorded.
      after = payload.dryRun || run.portfolio === portfolio ? null : run.portfolio;
      outcome = payload.dryRun
        ? 'dry-run'
        : decision.kind === 'hold'
          ? 'held'
          : decision.kind === 'advisory'
            ? 'advisory'
            : after
              ? 'changed'
              : 'unchanged';
      report = {
        ...run.report,
        durations: {
          fetch_ms: round(fetchMs),
          compute_ms: round(performance.now() - computeStarted),
          total_ms: round(performance.now() - started),
        },
      };
      if (!payload.dryRun) {
        // A later run replaces the pending proposal: with its own when held, else with none.
        if (decision.kind === 'hold') {
          const held = proposalFromReport(report, ctx.reports.proposalTtlMs);
          proposal = {
            op: 'set',
            json: JSON.stringify(proposalToWire(held)),
            baselineJson: baselineToJson(run.baseline()),
            reportId: report.reportId,
          };
        } else {
          proposal = { op: 'clear' };
          // The same figures as stored (a night whose metrics did not move): nothing to write.
          const next = run.baseline();
          baselineJson = sameBaseline(baseline, next) ? null : baselineToJson(next);
        }
      }
    }
    const wire = reportToWire(report);
    const reportJson = JSON.stringify(wire);
    const summaryJson = JSON.stringify(reportSummary(wire));
    const records = after
      ? ctx.store.records(portfolio, after, {
          actor: runActor(runId),
          cause: { type: 'run', runId, reportId: ids.reportId },
        })
      : null;
    // The breaker counts the portfolios of a nightly run that the guards decided on.
    const counted =
      payload.fanOut && (outcome === 'changed' || outcome === 'unchanged' || outcome === 'held')
        ? decision?.kind === 'hold' && decision.byGuard
          ? ('held' as const)
          : ('decided' as const)
        : null;
    const nowMs = Date.parse(now);
    const committed = await ctx.reports.commit({
      portfolioId,
      runId,
      write: after && records ? { after, records } : null,
      checkVersion: !skip && !payload.dryRun,
      expectedVersion: portfolio.version,
      reportJson,
      summaryJson,
      outcome,
      proposal,
      baselineJson,
      tally: counted,
      nowMs,
      finishedAt: payload.fanOut ? ctx.clock().toISOString() : null,
    });
    switch (committed.status) {
      case 'ok':
        if (!committed.published) {
          await ctx.reports.publish(portfolioId, runId, committed.summary, {
            outcome,
            records,
            proposal,
            tally: counted,
            nowMs,
          });
        }
        if (decision?.kind === 'hold' && !payload.dryRun) {
          log.warn(
            { reasons: decision.reasons.map((r) => r.guard), changes: report.changes },
            'recommendation held for approval',
          );
          for (const guard of new Set(decision.reasons.map((r) => r.guard)))
            ctx.observe?.('held', 1, { guard });
        } else {
          log.info({ changes: report.changes, applied: report.applied, skipped: skip }, 'run committed');
        }
        ctx.observe?.('turnover', report.turnover);
        if (payload.fanOut) {
          // On a single Redis the commit script judged the run's end: no round trip of its own.
          if (committed.progress) await commitRunEnd(ctx, runId, committed.progress);
          else await checkRunEnd(ctx, runId);
        }
        return summarise(wire, false);
      case 'dup':
        // On Redis Cluster a commit whose second round trip never happened left what it still
        // owes (outcome, tally, proposals index, audit entry) in its marker: paid now.
        if (!committed.published)
          await ctx.reports.publish(portfolioId, runId, committed.summary, committed.pending);
        log.info('run was committed before; nothing applied again');
        if (payload.fanOut) await checkRunEnd(ctx, runId);
        return summarise(JSON.parse(committed.summary), true);
      case 'stale':
        log.info({ attempt, version: committed.version }, 'portfolio changed during the run; recomputing');
        [portfolio, baseline, tally] = await read();
        continue;
      case 'gone':
        portfolio = null;
        continue;
    }
  }
  // Retried by BullMQ with backoff: the recommendation is never applied stale.
  throw new StaleVersionError(portfolio?.version ?? 0, -1);
}

/** Whether `next` holds the same figures as `stored` (JSON keys may come back in another order). */
function sameBaseline(stored: Baseline | null, next: Baseline): boolean {
  if (!stored || stored.size !== next.size) return false;
  for (const [id, f] of next) {
    const s = stored.get(id);
    if (!s || s.revenue !== f.revenue || s.profit !== f.profit || s.customers !== f.customers) return false;
  }
  return true;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

interface WireSummary {
  report_id: string;
  portfolio_id: string;
  run_id: string;
  applied: boolean;
  dry_run: boolean;
  skipped: { reason: string } | null;
  changes: number;
  turnover: number;
  held?: unknown;
}

/**
 * Why a recalculation job that BullMQ no longer keeps left no report: the commit script writes
 * the run marker before the job completes, so a job gone without one failed (its reason was
 * trimmed with it).
 */
export const GONE_WITHOUT_REPORT =
  'no longer kept by BullMQ and left no report: it failed (its reason was trimmed with the job)';

/**
 * A recalculation's result told from its stored report (the run marker's), for a job that
 * BullMQ no longer keeps; whether that job was a duplicate is not recorded, so it reads false.
 */
export function resultFromReport(reportJson: string): RecalculateResult {
  return summarise(JSON.parse(reportJson) as WireSummary, false);
}

function summarise(r: WireSummary, duplicate: boolean): RecalculateResult {
  return {
    reportId: r.report_id,
    portfolioId: r.portfolio_id,
    runId: r.run_id,
    applied: r.applied,
    dryRun: r.dry_run,
    skipped: r.skipped?.reason ?? null,
    changes: r.changes,
    turnover: r.turnover,
    held: r.held !== null && r.held !== undefined,
    duplicate,
  };
}

export type { JobContext };
