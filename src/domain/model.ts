export const STRATEGIES = ['equal', 'performance', 'growth', 'revenue', 'custom'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const STATUSES = ['active', 'paused', 'archived'] as const;
export type PortfolioStatus = (typeof STATUSES)[number];

/**
 * What a run does with a recommendation: `auto` applies it unless a guard holds it, `approve`
 * holds every one that changes a weight for an operator's approval, `advisory` only reports.
 */
export const APPLY_MODES = ['auto', 'approve', 'advisory'] as const;
export type ApplyMode = (typeof APPLY_MODES)[number];

/**
 * When the drift band lets allocations move: `allocation` moves each allocation outside its band
 * and keeps the others; `portfolio` moves every allocation to its target as soon as one is
 * outside its band, and none otherwise (bt's RunIfOutOfBounds, Alpaca's drift bands).
 */
export const REBALANCE_TRIGGERS = ['allocation', 'portfolio'] as const;
export type RebalanceTrigger = (typeof REBALANCE_TRIGGERS)[number];

/** `absolute`: the band is drift_threshold in weight; `relative`: drift_threshold x the target. */
export const DRIFT_TYPES = ['absolute', 'relative'] as const;
export type DriftType = (typeof DRIFT_TYPES)[number];

export const STAGES = [
  'ideation',
  'validation',
  'growth',
  'scaling',
  'mature',
  'declining',
  'unknown',
] as const;
export type Stage = (typeof STAGES)[number];

export interface Allocation {
  readonly businessId: string;
  /** Share of the portfolio in [0,1]; all weights of a portfolio sum to 1. */
  readonly weight: number;
  /** 1..10, default 5. */
  readonly priority: number;
  /** A locked allocation is never changed by an automatic operation. */
  readonly locked: boolean;
  readonly minWeight?: number | undefined;
  readonly maxWeight?: number | undefined;
  /** Used by the custom strategy only. */
  readonly targetWeight?: number | undefined;
}

export interface LastRun {
  readonly runId: string;
  readonly reportId: string;
  readonly at: string;
}

export interface Portfolio {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly status: PortfolioStatus;
  readonly strategy: Strategy;
  readonly totalBudget: number;
  /** Percent. */
  readonly targetRoi: number;
  /** Absolute weight: a target this close to the current weight is not worth a move. */
  readonly driftThreshold: number;
  readonly attentionHoursPerWeek: number;
  /** Upper bound on half the sum of |new - old| per run, in [0,1]. */
  readonly maxTurnover?: number | undefined;
  /** Unset means `auto` (documents written before apply modes existed). */
  readonly applyMode?: ApplyMode | undefined;
  /**
   * A recommendation turning over more than this is held for approval instead of applied (in
   * [0,1]); unset, the guard's default (BALLAST_GUARD_MAX_TURNOVER) applies.
   */
  readonly maxAutoTurnover?: number | undefined;
  /** Unset means `allocation` (documents written before rebalancing options existed). */
  readonly rebalanceTrigger?: RebalanceTrigger | undefined;
  /** Unset means `absolute`. */
  readonly driftType?: DriftType | undefined;
  /** Moves smaller than this weight, in [0,1), are not made; unset means none. */
  readonly minTrade?: number | undefined;
  /** Insertion order is the portfolio's order. */
  readonly allocations: readonly Allocation[];
  /** +1 on every write. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastRun?: LastRun | undefined;
}

export interface BusinessMetrics {
  readonly businessId: string;
  readonly name?: string | undefined;
  readonly revenue: number;
  readonly expenses: number;
  readonly profit: number;
  /** Percent. */
  readonly margin: number;
  readonly customers: number;
  /** Percent. */
  readonly growthRate: number;
  /** 0..100. */
  readonly healthScore: number;
  readonly stage: Stage;
  readonly asOf?: string | undefined;
}

export const DEFAULTS = {
  status: 'active' as PortfolioStatus,
  strategy: 'equal' as Strategy,
  totalBudget: 0,
  targetRoi: 20,
  driftThreshold: 0.05,
  attentionHoursPerWeek: 40,
  priority: 5,
};

/** Weights of a portfolio must sum to 1 within this tolerance (SPEC invariant 1). */
export const SUM_TOLERANCE = 1e-9;

export interface AllocationView extends Allocation {
  readonly budgetPercent: number;
  readonly budgetAmount: number;
  readonly attentionHours: number;
}

/** Derived figures are computed, never stored. */
export function viewAllocation(portfolio: Portfolio, allocation: Allocation): AllocationView {
  return {
    ...allocation,
    budgetPercent: allocation.weight * 100,
    budgetAmount: allocation.weight * portfolio.totalBudget,
    attentionHours: allocation.weight * portfolio.attentionHoursPerWeek,
  };
}
