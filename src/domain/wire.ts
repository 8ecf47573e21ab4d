/**
 * The snake_case wire format of SPEC section 6 (HTTP bodies, CLI --json, reports in Redis), kept
 * compatible with the sketch's field names. zod validates and translates at the boundary; inside
 * the code everything is camelCase. The portfolio's schemas are in portfolio-schema.ts.
 */

import type { z } from 'zod';
import { ValidationError } from './errors.js';
import type { GuardReason } from './guards.js';
import { checkWireMetrics } from './metrics-check.js';
import { type MetricsReadOptions, metricsSchema, toMetrics } from './metrics-wire.js';
import {
  type Allocation,
  type BusinessMetrics,
  type Portfolio,
  SUM_TOLERANCE,
  viewAllocation,
} from './model.js';
import { checkWirePortfolio } from './portfolio-check.js';
import { type WirePortfolioHead, wirePortfolioSchema } from './portfolio-schema.js';
import type { RankingEntry } from './ranking.js';
import type { Action } from './recommend-types.js';
import type { Report } from './run.js';
import { describeIssues, parseWith } from './zod-issues.js';

export * from './portfolio-schema.js';

/** Reads a portfolio as `portfolio show --json` prints it (derived and optional fields may be left out). */
export function portfolioFromWire(input: unknown, fallbackNow = '1970-01-01T00:00:00.000Z'): Portfolio {
  refuseProtoKey(input);
  // The typed check reads a valid portfolio; zod reads the rest, and explains what is wrong.
  const checked = checkWirePortfolio(input);
  if (checked) return buildPortfolio(checked.head, checked.allocations, fallbackNow);
  const p = parseWith(wirePortfolioSchema, input, 'portfolio');
  const allocations = zodAllocations(p);
  return buildPortfolio(p, allocations, fallbackNow);
}

/** The allocations of zod's reading, in the portfolio's order (the typed check reads the same). */
export function zodAllocations(p: z.output<typeof wirePortfolioSchema>): Allocation[] {
  const order = p.businesses ?? Object.keys(p.allocations);
  return order.map((businessId) => {
    const a = p.allocations[businessId]!;
    return {
      businessId,
      weight: a.weight,
      priority: a.priority,
      locked: a.locked,
      minWeight: a.min_weight ?? undefined,
      maxWeight: a.max_weight ?? undefined,
      targetWeight: a.target_weight ?? undefined,
    };
  });
}

function buildPortfolio(p: WirePortfolioHead, allocations: Allocation[], fallbackNow: string): Portfolio {
  return {
    id: p.id,
    name: p.name,
    ownerId: p.owner_id,
    status: p.status,
    strategy: p.strategy,
    totalBudget: p.total_budget,
    targetRoi: p.target_roi,
    driftThreshold: p.drift_threshold,
    attentionHoursPerWeek: p.attention_hours_per_week,
    maxTurnover: p.max_turnover ?? undefined,
    applyMode: p.apply_mode,
    maxAutoTurnover: p.max_auto_turnover ?? undefined,
    rebalanceTrigger: p.rebalance_trigger,
    driftType: p.drift_type,
    minTrade: p.min_trade ?? undefined,
    allocations: normaliseWeights(allocations),
    version: p.version,
    createdAt: p.created_at ?? fallbackNow,
    updatedAt: p.updated_at ?? p.created_at ?? fallbackNow,
    lastRun: p.last_run
      ? { runId: p.last_run.run_id, reportId: p.last_run.report_id, at: p.last_run.at }
      : undefined,
  };
}

/** JSON.parse keeps an own "__proto__" key, which zod's record would drop without a word. */
function refuseProtoKey(input: unknown): void {
  const allocations =
    typeof input === 'object' && input !== null
      ? (input as { allocations?: unknown }).allocations
      : undefined;
  if (typeof allocations === 'object' && allocations !== null && Object.hasOwn(allocations, '__proto__')) {
    const detail = 'allocations.__proto__: business id "__proto__" is not valid';
    throw new ValidationError(`invalid portfolio: ${detail}`, [detail]);
  }
}

/**
 * Scale the unlocked weights so the sum is exactly 1 (input was within INPUT_SUM_TOLERANCE). When
 * no unlocked weight can take the difference, every weight is scaled: each moves by at most about
 * 1e-6, and invariant 1 must hold from the moment a portfolio is read.
 */
function normaliseWeights(allocations: Allocation[]): Allocation[] {
  if (allocations.length === 0) return allocations;
  const sum = allocations.reduce((total, a) => total + a.weight, 0);
  if (Math.abs(sum - 1) <= SUM_TOLERANCE) return allocations;
  const locked = allocations.reduce((total, a) => total + (a.locked ? a.weight : 0), 0);
  const unlocked = sum - locked;
  if (unlocked <= 0 || locked > 1)
    return allocations.map((a) => ({ ...a, weight: Math.min(1, a.weight / sum) }));
  const factor = (1 - locked) / unlocked;
  return allocations.map((a) => (a.locked ? a : { ...a, weight: Math.min(1, a.weight * factor) }));
}

export function portfolioToWire(p: Portfolio) {
  const allocations: Record<string, unknown> = {};
  for (const a of p.allocations) {
    const v = viewAllocation(p, a);
    allocations[a.businessId] = {
      weight: v.weight,
      budget_percent: v.budgetPercent,
      budget_amount: v.budgetAmount,
      attention_hours: v.attentionHours,
      priority: v.priority,
      locked: v.locked,
      min_weight: v.minWeight ?? null,
      max_weight: v.maxWeight ?? null,
      target_weight: v.targetWeight ?? null,
    };
  }
  return {
    id: p.id,
    name: p.name,
    owner_id: p.ownerId,
    status: p.status,
    strategy: p.strategy,
    total_budget: p.totalBudget,
    target_roi: p.targetRoi,
    drift_threshold: p.driftThreshold,
    attention_hours_per_week: p.attentionHoursPerWeek,
    max_turnover: p.maxTurnover ?? null,
    apply_mode: p.applyMode ?? 'auto',
    max_auto_turnover: p.maxAutoTurnover ?? null,
    rebalance_trigger: p.rebalanceTrigger ?? 'allocation',
    drift_type: p.driftType ?? 'absolute',
    min_trade: p.minTrade ?? null,
    version: p.version,
    business_count: p.allocations.length,
    businesses: p.allocations.map((a) => a.businessId),
    allocations,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    last_run: p.lastRun ? { run_id: p.lastRun.runId, report_id: p.lastRun.reportId, at: p.lastRun.at } : null,
  };
}

export type WirePortfolio = ReturnType<typeof portfolioToWire>;

/** profit defaults to revenue - expenses; margin to profit/revenue*100 (0 when revenue <= 0). */
export function metricsFromWire(input: unknown, options: MetricsReadOptions = {}): BusinessMetrics {
  return checkedMetrics(input, options) ?? toMetrics(parseWith(metricsSchema(options), input, 'metrics'));
}

export function safeMetricsFromWire(
  input: unknown,
  options: MetricsReadOptions = {},
): { ok: true; metrics: BusinessMetrics } | { ok: false; error: string } {
  const checked = checkedMetrics(input, options);
  if (checked) return { ok: true, metrics: checked };
  const parsed = metricsSchema(options).safeParse(input);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error.issues) };
  return { ok: true, metrics: toMetrics(parsed.data) };
}

/** The typed check's answer where it has one (cosmetic faults refused): zod runs only when it has not. */
function checkedMetrics(input: unknown, options: MetricsReadOptions): BusinessMetrics | undefined {
  return options.cosmetic === 'refuse'
    ? checkWireMetrics(input, options.unknownFields === 'refuse')
    : undefined;
}

export function reportToWire(r: Report) {
  return reportToWireWith(r, r.ranking.map(rankingEntryToWire), r.actions.map(actionToWire));
}

/**
 * The report in the wire shape with `ranking` and `actions` as given: a writer of a large report
 * passes the domain's and maps them a slice at a time (rankingEntryToWire, actionToWire), rather
 * than holding a second copy of 100,000 entries.
 */
export function reportToWireWith<Ranking, Actions>(r: Report, ranking: Ranking, actions: Actions) {
  const m = r.metrics;
  return {
    report_id: r.reportId,
    portfolio_id: r.portfolioId,
    run_id: r.runId,
    trigger: r.trigger,
    catch_up: r.catchUp,
    strategy: r.strategy,
    apply_mode: r.applyMode,
    applied: r.applied,
    dry_run: r.dryRun,
    held: r.held ? { reasons: r.held.reasons.map(guardReasonToWire) } : null,
    flags: r.flags.map(guardReasonToWire),
    created_at: r.createdAt,
    version_before: r.versionBefore,
    version_after: r.versionAfter,
    turnover: r.turnover,
    turnover_scale: r.turnoverScale,
    changes: r.changes,
    metrics: m
      ? {
          total_revenue: m.totalRevenue,
          total_expenses: m.totalExpenses,
          total_profit: m.totalProfit,
          net_margin: m.netMargin,
          average_margin: m.averageMargin,
          total_customers: m.totalCustomers,
          active_businesses: m.businessCount,
          businesses_with_metrics: m.businessesWithMetrics,
          businesses_without_metrics: m.businessesWithoutMetrics,
          growth_rate: m.growthRate,
          revenue_weighted_growth_rate: m.revenueWeightedGrowthRate,
          roi: m.roi,
          target_roi: m.targetRoi,
          roi_met: m.roiMet,
          best_performer: m.bestPerformerId,
          worst_performer: m.worstPerformerId,
        }
      : null,
    ranking,
    actions,
    skipped: r.skipped,
    durations: r.durations,
  };
}

export function rankingEntryToWire(e: RankingEntry) {
  return {
    rank: e.rank,
    business_id: e.businessId,
    name: e.name,
    score: e.score,
    revenue: e.revenue,
    profit: e.profit,
    margin: e.margin,
    growth_rate: e.growthRate,
    health_score: e.healthScore,
    customers: e.customers,
    stage: e.stage,
  };
}

export function actionToWire(a: Action) {
  return {
    business_id: a.businessId,
    action: a.action,
    current_weight: a.currentWeight,
    recommended_weight: a.recommendedWeight,
    reason: a.reason,
  };
}

export type WireReport = ReturnType<typeof reportToWire>;

export function guardReasonToWire(r: GuardReason) {
  return r.businessId === undefined
    ? { guard: r.guard, detail: r.detail }
    : { guard: r.guard, business_id: r.businessId, detail: r.detail };
}

export type WireGuardReason = ReturnType<typeof guardReasonToWire>;

export { describeIssues, parseWith } from './zod-issues.js';
