import { applyRecommendation, countChanges } from './apply.js';
import { RefusedError } from './errors.js';
import type { BusinessMetrics, Portfolio, Strategy } from './model.js';
import { type RankingEntry, rank } from './ranking.js';
import { type Action, recommend } from './recommend.js';
import { type PortfolioRollup, rollUp } from './rollup.js';

export type Trigger = 'cron' | 'manual';

export interface Report {
  readonly reportId: string;
  readonly portfolioId: string;
  readonly runId: string;
  readonly trigger: Trigger;
  /** A nightly slot that was missed while no scheduler ran, run late at start. */
  readonly catchUp: boolean;
  readonly strategy: Strategy;
  readonly applied: boolean;
  readonly dryRun: boolean;
  readonly createdAt: string;
  readonly versionBefore: number;
  readonly versionAfter: number;
  readonly turnover: number;
  readonly turnoverScale: number | null;
  /** Allocations whose weight the run changes (maintain, locked and no-metrics excluded). */
  readonly changes: number;
  readonly metrics: PortfolioRollup | null;
  readonly ranking: readonly RankingEntry[];
  readonly actions: readonly Action[];
  readonly skipped: { readonly reason: string } | null;
  /** Milliseconds per phase, filled by the runtime. */
  readonly durations: Readonly<Record<string, number>> | null;
}

export interface RunInput {
  readonly portfolio: Portfolio;
  readonly metrics: ReadonlyMap<string, BusinessMetrics>;
  readonly missingReasons?: ReadonlyMap<string, string>;
  readonly runId: string;
  readonly reportId: string;
  readonly trigger: Trigger;
  readonly catchUp?: boolean;
  /** ISO timestamp from the caller's clock. */
  readonly now: string;
  readonly dryRun: boolean;
}

export interface RunOutcome {
  readonly report: Report;
  /** The portfolio after the run: the input itself for a dry run. */
  readonly portfolio: Portfolio;
}

/** Roll up, rank, recommend and (unless dry-run) apply: everything a run decides, without I/O. */
export function runPortfolio(input: RunInput): RunOutcome {
  const { portfolio, metrics } = input;
  const recommendation = recommend(
    portfolio,
    metrics,
    input.missingReasons ? { missingReasons: input.missingReasons } : {},
  );
  const after = input.dryRun
    ? portfolio
    : applyRecommendation(portfolio, recommendation, {
        runId: input.runId,
        reportId: input.reportId,
        at: input.now,
      });
  const report: Report = {
    reportId: input.reportId,
    portfolioId: portfolio.id,
    runId: input.runId,
    trigger: input.trigger,
    catchUp: input.catchUp ?? false,
    strategy: portfolio.strategy,
    applied: !input.dryRun,
    dryRun: input.dryRun,
    createdAt: input.now,
    versionBefore: portfolio.version,
    versionAfter: after.version,
    turnover: recommendation.turnover,
    turnoverScale: recommendation.turnoverScale,
    changes: countChanges(recommendation),
    metrics: rollUp(portfolio, metrics),
    ranking: rank(portfolio, metrics),
    actions: recommendation.actions,
    skipped: null,
    durations: null,
  };
  return { report, portfolio: after };
}

export interface SkipInput {
  readonly portfolio: Portfolio;
  readonly reason: string;
  readonly runId: string;
  readonly reportId: string;
  readonly trigger: Trigger;
  readonly catchUp?: boolean;
  readonly now: string;
}

export function skippedReport(input: SkipInput): Report {
  return {
    reportId: input.reportId,
    portfolioId: input.portfolio.id,
    runId: input.runId,
    trigger: input.trigger,
    catchUp: input.catchUp ?? false,
    strategy: input.portfolio.strategy,
    applied: false,
    dryRun: false,
    createdAt: input.now,
    versionBefore: input.portfolio.version,
    versionAfter: input.portfolio.version,
    turnover: 0,
    turnoverScale: null,
    changes: 0,
    metrics: null,
    ranking: [],
    actions: [],
    skipped: { reason: input.reason },
    durations: null,
  };
}

/**
 * Whether a portfolio takes part in a run: the nightly run skips paused and archived portfolios
 * (returns the reason); a manual run of an archived portfolio is refused.
 */
export function skipReason(portfolio: Portfolio, trigger: Trigger): string | null {
  if (portfolio.status === 'active') return null;
  if (trigger === 'cron') return `portfolio is ${portfolio.status}`;
  if (portfolio.status === 'archived') {
    throw new RefusedError(
      `portfolio ${portfolio.id} is archived; set its status to active or paused to run it`,
    );
  }
  return null;
}
