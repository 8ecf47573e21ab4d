import { applyRecommendation, countChanges } from './apply.js';
import { RefusedError } from './errors.js';
import {
  type ApplyDecision,
  type Baseline,
  decideApply,
  type GuardReason,
  type GuardSettings,
  type MetricFigures,
  metricJumps,
  nextBaseline,
  screenMetrics,
} from './guards.js';
import type { ApplyMode, BusinessMetrics, Portfolio, Strategy } from './model.js';
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
  readonly applyMode: ApplyMode;
  readonly applied: boolean;
  readonly dryRun: boolean;
  /** Why the recommendation was not applied (would not be, for a dry run); null when it was. */
  readonly held: { readonly reasons: readonly GuardReason[] } | null;
  /** Businesses whose metrics the guards set aside (invalid, stale) and figures that jumped. */
  readonly flags: readonly GuardReason[];
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
  /** Without it, no check runs (the apply mode still decides). */
  readonly guards?: GuardInput;
}

export interface GuardInput {
  readonly settings: GuardSettings;
  /** The figures the portfolio's weights were last set from; null before its first run. */
  readonly baseline: Baseline | null;
  /** Set when the nightly run's circuit breaker is open: what the reason says. */
  readonly circuitOpen: string | null;
}

export interface RunOutcome {
  readonly report: Report;
  /** The portfolio after the run: the input itself for a dry run, a held or an advisory one. */
  readonly portfolio: Portfolio;
  readonly decision: ApplyDecision;
  /**
   * The baseline once this run's metrics are accepted: written when the run is not held, and
   * kept with a proposal so that approving it accepts them. Computed when asked.
   */
  readonly baseline: () => ReadonlyMap<string, MetricFigures>;
}

const NO_GUARDS: GuardSettings = {
  enabled: false,
  maxMetricsAgeMs: 0,
  maxJump: 0,
  maxTurnover: 1,
  maxMissing: 1,
  runHoldShare: 1,
  runMinCount: 0,
};

/**
 * Screen the metrics, roll up, rank, recommend, decide (guards and apply mode) and, unless it is a
 * dry run or the decision holds it, apply: everything a run decides, without I/O.
 */
export function runPortfolio(input: RunInput): RunOutcome {
  const { portfolio } = input;
  const settings = input.guards?.settings ?? NO_GUARDS;
  const screened = settings.enabled
    ? screenMetrics(input.metrics, Date.parse(input.now), settings)
    : { usable: input.metrics, flags: [] };
  const metrics = screened.usable;
  let missingReasons = input.missingReasons;
  if (screened.flags.length > 0) {
    const merged = new Map(missingReasons ?? []);
    for (const f of screened.flags) merged.set(f.businessId!, `${f.guard}: ${f.detail}`);
    missingReasons = merged;
  }
  const recommendation = recommend(portfolio, metrics, missingReasons ? { missingReasons } : {});
  const changes = countChanges(recommendation);
  const baseline = input.guards?.baseline ?? null;
  const jumps = settings.enabled && baseline ? metricJumps(baseline, metrics, settings.maxJump) : [];
  const decision = decideApply({
    portfolio,
    settings,
    changes,
    turnover: recommendation.turnover,
    unlockedWeight: recommendation.unlockedWeight,
    missingWeight: recommendation.missingWeight,
    jumps,
    circuitOpen: input.guards?.circuitOpen ?? null,
  });
  const after =
    input.dryRun || decision.kind !== 'apply'
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
    applyMode: portfolio.applyMode ?? 'auto',
    applied: !input.dryRun && decision.kind === 'apply',
    dryRun: input.dryRun,
    held: decision.kind === 'hold' ? { reasons: decision.reasons } : null,
    flags: jumps.length > 0 ? [...screened.flags, ...jumps] : screened.flags,
    createdAt: input.now,
    versionBefore: portfolio.version,
    versionAfter: after.version,
    turnover: recommendation.turnover,
    turnoverScale: recommendation.turnoverScale,
    changes,
    metrics: rollUp(portfolio, metrics),
    ranking: rank(portfolio, metrics),
    actions: recommendation.actions,
    skipped: null,
    durations: null,
  };
  // A held run's proposal carries the new figures (approval accepts them); any other run keeps the
  // old figures of a business that jumped.
  const keep =
    decision.kind === 'hold' || jumps.length === 0 ? null : new Set(jumps.map((j) => j.businessId!));
  return {
    report,
    portfolio: after,
    decision,
    baseline: () => nextBaseline(portfolio, baseline, metrics, keep),
  };
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
    applyMode: input.portfolio.applyMode ?? 'auto',
    applied: false,
    dryRun: false,
    held: null,
    flags: [],
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
