/**
 * Request and response bodies of the sketch's routes, snake_case (SPEC section 6). Requests are
 * strict: an unknown field is a 400, never silently dropped.
 */
import { z } from 'zod';
import {
  ACTION_KINDS,
  APPLY_MODES,
  applyModeSchema,
  DRIFT_TYPES,
  driftTypeSchema,
  GUARDS,
  idSchema,
  minTradeSchema,
  type Portfolio,
  portfolioToWire,
  REBALANCE_TRIGGERS,
  rebalanceTriggerSchema,
  STATUSES,
  STRATEGIES,
  statusSchema,
  strategySchema,
} from '../../domain/index.js';
import { nullAsAbsent } from './common.js';

const FRACTION = 'must be a number from 0 to 1';
const NON_NEGATIVE = 'must be a number >= 0';
const fraction = z.number({ error: FRACTION }).min(0, FRACTION).max(1, FRACTION);
const nonNegative = z.number({ error: NON_NEGATIVE }).min(0, NON_NEGATIVE);
const PRIORITY = 'must be a whole number from 1 to 10';
const priority = z.number({ error: PRIORITY }).int(PRIORITY).min(1, PRIORITY).max(10, PRIORITY);
const NAME = 'must be a non-empty string of at most 200 characters';
const name = z.string({ error: NAME }).min(1, NAME).max(200, NAME);
const finite = z.number({ error: 'must be a number' });
const bool = z.boolean({ error: 'must be true or false' });

export const createPortfolioBody = z
  .strictObject({
    name,
    owner_id: idSchema,
    strategy: strategySchema.optional().describe(`one of ${STRATEGIES.join(', ')}; default equal`),
    total_budget: nonNegative.optional().describe('default 0'),
    id: idSchema.optional().describe('default: p- and 12 random hex digits'),
    status: statusSchema.optional().describe(`one of ${STATUSES.join(', ')}; default active`),
    target_roi: finite.optional().describe('percent; default 20'),
    drift_threshold: fraction.optional().describe('absolute weight; default 0.05'),
    attention_hours_per_week: nonNegative.optional().describe('default 40'),
    max_turnover: fraction.optional().describe('cap on turnover per run; default none'),
    apply_mode: applyModeSchema
      .optional()
      .describe(
        'auto (default: applies unless a guard holds), approve (every change waits), advisory (reports only)',
      ),
    max_auto_turnover: fraction
      .optional()
      .describe('a run turning over more is held for approval; default BALLAST_GUARD_MAX_TURNOVER'),
    rebalance_trigger: rebalanceTriggerSchema
      .optional()
      .describe(
        'allocation (default: each allocation outside its drift band moves) or portfolio (one outside its band moves every allocation to its target)',
      ),
    drift_type: driftTypeSchema
      .optional()
      .describe('absolute (default: the band is drift_threshold) or relative (drift_threshold x the target)'),
    min_trade: minTradeSchema
      .optional()
      .describe('moves smaller than this weight are not made; default none'),
  })
  .meta({ id: 'CreatePortfolio' });

export const updatePortfolioBody = z
  .strictObject({
    name: nullAsAbsent(name),
    status: nullAsAbsent(statusSchema),
    strategy: nullAsAbsent(strategySchema),
    total_budget: nullAsAbsent(nonNegative),
    target_roi: nullAsAbsent(finite),
    drift_threshold: nullAsAbsent(fraction),
    attention_hours_per_week: nullAsAbsent(nonNegative),
    max_turnover: fraction.nullable().optional().describe('null removes the cap'),
    apply_mode: nullAsAbsent(applyModeSchema),
    max_auto_turnover: fraction
      .nullable()
      .optional()
      .describe('null goes back to the default (BALLAST_GUARD_MAX_TURNOVER)'),
    rebalance_trigger: nullAsAbsent(rebalanceTriggerSchema),
    drift_type: nullAsAbsent(driftTypeSchema),
    min_trade: minTradeSchema.nullable().optional().describe('null: every move is made again'),
  })
  .meta({ id: 'UpdatePortfolio' });

export const addBusinessBody = z
  .strictObject({
    business_id: idSchema,
    weight: nullAsAbsent(fraction).describe('default 1/n; not allowed under the equal strategy'),
  })
  .meta({ id: 'AddBusiness' });

export const setAllocationBody = z
  .strictObject({
    weight: nullAsAbsent(fraction),
    priority: nullAsAbsent(priority),
    locked: nullAsAbsent(bool),
    min_weight: fraction.nullable().optional().describe('null removes the bound'),
    max_weight: fraction.nullable().optional().describe('null removes the bound'),
    target_weight: fraction.nullable().optional().describe('custom strategy; null removes it'),
  })
  .meta({ id: 'SetAllocation' });

const allocationWire = z.looseObject({
  weight: z.number(),
  budget_percent: z.number(),
  budget_amount: z.number(),
  attention_hours: z.number(),
  priority: z.number(),
  locked: z.boolean(),
  min_weight: z.number().nullable(),
  max_weight: z.number().nullable(),
  target_weight: z.number().nullable(),
});

/** What `GET /portfolios/{id}` answers and `portfolio show --json` prints. */
export const portfolioWire = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    owner_id: z.string(),
    status: z.enum(STATUSES),
    strategy: z.enum(STRATEGIES),
    total_budget: z.number(),
    target_roi: z.number(),
    drift_threshold: z.number(),
    attention_hours_per_week: z.number(),
    max_turnover: z.number().nullable(),
    apply_mode: z.enum(APPLY_MODES),
    max_auto_turnover: z.number().nullable(),
    rebalance_trigger: z.enum(REBALANCE_TRIGGERS),
    drift_type: z.enum(DRIFT_TYPES),
    min_trade: z.number().nullable(),
    version: z.number(),
    business_count: z.number(),
    businesses: z.array(z.string()).describe('business ids in portfolio order'),
    allocations: z.record(z.string(), allocationWire),
    created_at: z.string(),
    updated_at: z.string(),
    last_run: z.object({ run_id: z.string(), report_id: z.string(), at: z.string() }).nullable(),
  })
  .meta({ id: 'Portfolio' });

export type PortfolioWire = z.output<typeof portfolioWire>;

/** The domain's wire form, typed as the response schema (which the serializer checks again). */
export function wirePortfolio(p: Portfolio): PortfolioWire {
  return portfolioToWire(p) as PortfolioWire;
}

export const statusWithPortfolio = <S extends string>(status: S) =>
  z.object({ status: z.literal(status), portfolio: portfolioWire });

export const ownerPortfoliosResponse = z.object({
  portfolios: z.array(
    z.object({ id: z.string(), name: z.string(), status: z.enum(STATUSES), business_count: z.number() }),
  ),
});

export const rollupWire = z
  .looseObject({
    total_revenue: z.number(),
    total_expenses: z.number(),
    total_profit: z.number(),
    net_margin: z.number(),
    average_margin: z.number(),
    total_customers: z.number(),
    active_businesses: z.number(),
    businesses_with_metrics: z.number(),
    businesses_without_metrics: z.number(),
    growth_rate: z.number(),
    revenue_weighted_growth_rate: z.number(),
    roi: z.number().nullable(),
    target_roi: z.number(),
    roi_met: z.boolean().nullable(),
    best_performer: z.string().nullable(),
    worst_performer: z.string().nullable(),
  })
  .meta({ id: 'PortfolioMetrics' });

export const rankingEntryWire = z.looseObject({
  rank: z.number().nullable().describe('null for a business without metrics'),
  business_id: z.string(),
  name: z.string().nullable(),
  score: z.number().nullable(),
  revenue: z.number().nullable(),
  profit: z.number().nullable(),
  margin: z.number().nullable(),
  growth_rate: z.number().nullable(),
  health_score: z.number().nullable(),
  stage: z.string().nullable(),
});

export const actionWire = z.looseObject({
  business_id: z.string(),
  action: z.enum(ACTION_KINDS),
  current_weight: z.number(),
  recommended_weight: z.number().describe('the weight after the run'),
  reason: z.string(),
});

export const rankingResponse = z.object({ rankings: z.array(rankingEntryWire) });

const guardReasonWire = z.object({
  guard: z.enum(GUARDS),
  business_id: z.string().optional(),
  detail: z.string(),
});

export const previewResponse = z.object({
  portfolio_id: z.string(),
  strategy: z.enum(STRATEGIES),
  version: z.number().describe('the portfolio version the preview was computed from'),
  total_reallocation: z.number().describe('sum of |recommended - current| over every business'),
  turnover: z.number().describe('half of total_reallocation'),
  turnover_scale: z.number().nullable(),
  changes: z.number().describe('businesses an apply would move (maintain, locked, no-metrics excluded)'),
  held: z
    .object({ reasons: z.array(guardReasonWire) })
    .nullable()
    .describe('why a run would hold this recommendation for approval; null when it would apply it'),
  flags: z
    .array(guardReasonWire)
    .describe('metrics the guards set aside (invalid, stale) and figures that jumped'),
  actions: z.array(actionWire),
});

export const applyResponse = z.object({
  status: z
    .enum(['rebalanced', 'held'])
    .describe('held: the recommendation waits for approval as the proposal'),
  changes: z.number().describe('allocations whose weight changed (or would have, when held)'),
  applied: z.boolean(),
  held: z.boolean(),
  turnover: z.number(),
  job_id: z.string(),
  run_id: z.string(),
  report_id: z.string(),
  skipped: z
    .object({ reason: z.string() })
    .nullable()
    .describe("why the run was skipped, the same shape as a report's `skipped`; null when it ran"),
});

export const queuedResponse = z.object({
  status: z.literal('queued'),
  job_id: z.string(),
  run_id: z.string(),
  message: z.string(),
});
