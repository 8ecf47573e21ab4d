/**
 * The snake_case wire format of SPEC section 6 (HTTP bodies, CLI --json, reports in Redis), kept
 * compatible with the sketch's field names. zod validates and translates at the boundary; inside
 * the code everything is camelCase.
 */

import { z } from 'zod';
import { unknownChoice } from './did-you-mean.js';
import { ValidationError } from './errors.js';
import type { GuardReason } from './guards.js';
import { idSchema } from './ids.js';
import { type MetricsReadOptions, metricsSchema, toMetrics } from './metrics-wire.js';
import {
  type Allocation,
  APPLY_MODES,
  type BusinessMetrics,
  DEFAULTS,
  type Portfolio,
  STATUSES,
  STRATEGIES,
  SUM_TOLERANCE,
  viewAllocation,
} from './model.js';
import { driftTypeSchema, minTradeSchema, rebalanceTriggerSchema } from './rebalance-options.js';
import type { Report } from './run.js';
import { isIsoTimestamp, nameProblem } from './validate.js';
import { describeIssues, parseWith } from './zod-issues.js';

const fraction = z.number().min(0).max(1);
const finite = z.number();

const nameSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = nameProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  // One spelling per name, as createPortfolio stores it: NFC.
  .transform((value) => value.normalize('NFC'));

const timestampSchema = z
  .string()
  .refine(isIsoTimestamp, 'must be an ISO-8601 timestamp with a time zone, such as 2026-01-31T02:00:00Z');

/**
 * Keys such as "2" or "10" are array indices to JavaScript: every object lists them first, in
 * numeric order, whatever order the file wrote them in. Such ids are valid, but without a
 * `businesses` list the order of the allocations cannot be known.
 */
const ARRAY_INDEX = /^(0|[1-9][0-9]{0,9})$/;
function isArrayIndex(key: string): boolean {
  return ARRAY_INDEX.test(key) && Number(key) < 2 ** 32 - 1;
}

export const strategySchema = z.enum(STRATEGIES, {
  error: (issue) => unknownChoice('strategy', issue.input, STRATEGIES),
});
export const applyModeSchema = z.enum(APPLY_MODES, {
  error: (issue) => unknownChoice('apply mode', issue.input, APPLY_MODES),
});
export { driftTypeSchema, minTradeSchema, rebalanceTriggerSchema };
export const statusSchema = z.enum(STATUSES, {
  error: (issue) => unknownChoice('status', issue.input, STATUSES),
});

export const wireAllocationSchema = z.strictObject({
  weight: fraction,
  priority: z.number().int().min(1).max(10).default(DEFAULTS.priority),
  locked: z.boolean().default(false),
  min_weight: fraction.nullish(),
  max_weight: fraction.nullish(),
  target_weight: fraction.nullish(),
  // Derived figures that `portfolio show --json` prints; accepted and recomputed.
  budget_percent: finite.optional(),
  budget_amount: finite.optional(),
  attention_hours: finite.optional(),
});

/** Weights written by people may drift a little from 1: accepted within this and re-normalised. */
export const INPUT_SUM_TOLERANCE = 1e-6;

export const wirePortfolioSchema = z
  .strictObject({
    id: idSchema,
    name: nameSchema,
    owner_id: idSchema,
    status: statusSchema.default(DEFAULTS.status),
    strategy: strategySchema.default(DEFAULTS.strategy),
    total_budget: z.number().min(0).default(0),
    target_roi: finite.default(DEFAULTS.targetRoi),
    drift_threshold: fraction.default(DEFAULTS.driftThreshold),
    attention_hours_per_week: z.number().min(0).default(DEFAULTS.attentionHoursPerWeek),
    max_turnover: fraction.nullish(),
    apply_mode: applyModeSchema.default('auto'),
    max_auto_turnover: fraction.nullish(),
    rebalance_trigger: rebalanceTriggerSchema.default('allocation'),
    drift_type: driftTypeSchema.default('absolute'),
    min_trade: minTradeSchema.nullish(),
    version: z.number().int().min(0).default(1),
    business_count: z.number().int().min(0).optional(),
    businesses: z.array(idSchema).optional(),
    allocations: z.record(z.string(), wireAllocationSchema).default({}),
    created_at: timestampSchema.optional(),
    updated_at: timestampSchema.optional(),
    last_run: z.strictObject({ run_id: z.string(), report_id: z.string(), at: timestampSchema }).nullish(),
  })
  .superRefine((p, ctx) => {
    const keys = Object.keys(p.allocations);
    for (const key of keys) {
      if (!idSchema.safeParse(key).success) {
        ctx.addIssue({
          code: 'custom',
          path: ['allocations', key],
          message: `business id ${JSON.stringify(key)} is not valid: use 1..64 characters of letters, digits, "_" or "-"`,
        });
      }
    }
    if (p.businesses === undefined && keys.length > 1) {
      const numeric = keys.filter(isArrayIndex);
      if (numeric.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['businesses'],
          message: `business ids ${numeric.map((k) => JSON.stringify(k)).join(', ')} are numbers, which JSON objects do not keep in order: list the order of the allocations in "businesses"`,
        });
      }
    }
    const order = p.businesses ?? keys;
    const seen = new Set<string>();
    for (const id of order) {
      if (seen.has(id))
        ctx.addIssue({ code: 'custom', path: ['businesses'], message: `duplicate business id ${id}` });
      seen.add(id);
      // Own keys only: "constructor" or "toString" are valid ids and must not match Object.prototype.
      if (!Object.hasOwn(p.allocations, id)) {
        ctx.addIssue({ code: 'custom', path: ['allocations'], message: `business ${id} has no allocation` });
      }
    }
    for (const key of keys) {
      if (!seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['businesses'],
          message: `allocation ${key} is not listed in businesses`,
        });
      }
    }
    if (p.business_count !== undefined && p.business_count !== order.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['business_count'],
        message: `business_count is ${p.business_count} but ${order.length} businesses are listed`,
      });
    }
    for (const key of keys) {
      const a = p.allocations[key]!;
      const min = a.min_weight ?? 0;
      const max = a.max_weight ?? 1;
      if (min > max) {
        ctx.addIssue({
          code: 'custom',
          path: ['allocations', key],
          message: 'min_weight is above max_weight',
        });
      } else if (a.weight < min || a.weight > max) {
        // Invariant 3 holds from the moment a portfolio is read, like invariant 1.
        ctx.addIssue({
          code: 'custom',
          path: ['allocations', key, 'weight'],
          message: `business ${key} has weight ${a.weight}, outside its bounds [${min}, ${max}]: change the weight or the bounds`,
        });
      }
    }
    if (keys.length > 0) {
      const sum = keys.reduce((total, key) => total + p.allocations[key]!.weight, 0);
      if (Math.abs(sum - 1) > INPUT_SUM_TOLERANCE) {
        ctx.addIssue({
          code: 'custom',
          path: ['allocations'],
          message: `weights add up to ${sum}; they must add up to 1`,
        });
      }
    }
  });

export type WirePortfolioInput = z.input<typeof wirePortfolioSchema>;

/** Reads a portfolio as `portfolio show --json` prints it (derived and optional fields may be left out). */
export function portfolioFromWire(input: unknown, fallbackNow = '1970-01-01T00:00:00.000Z'): Portfolio {
  refuseProtoKey(input);
  const p = parseWith(wirePortfolioSchema, input, 'portfolio');
  const order = p.businesses ?? Object.keys(p.allocations);
  const allocations: Allocation[] = order.map((businessId) => {
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
  return toMetrics(parseWith(metricsSchema(options), input, 'metrics'));
}

export function safeMetricsFromWire(
  input: unknown,
  options: MetricsReadOptions = {},
): { ok: true; metrics: BusinessMetrics } | { ok: false; error: string } {
  const parsed = metricsSchema(options).safeParse(input);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error.issues) };
  return { ok: true, metrics: toMetrics(parsed.data) };
}

export function reportToWire(r: Report) {
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
    ranking: r.ranking.map((e) => ({
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
    })),
    actions: r.actions.map((a) => ({
      business_id: a.businessId,
      action: a.action,
      current_weight: a.currentWeight,
      recommended_weight: a.recommendedWeight,
      reason: a.reason,
    })),
    skipped: r.skipped,
    durations: r.durations,
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
