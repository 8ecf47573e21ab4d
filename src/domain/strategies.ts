import type { Allocation, BusinessMetrics, Stage, Strategy } from './model.js';

export const GROWTH_STAGE_BONUS: Readonly<Partial<Record<Stage, number>>> = {
  ideation: 1.5,
  validation: 1.3,
  growth: 1.2,
};

export interface ScoreContext {
  /** Largest positive profit among the portfolio's businesses with metrics; 0 when none is positive. */
  readonly maxProfit: number;
}

export function scoreContext(metrics: Iterable<BusinessMetrics>): ScoreContext {
  let maxProfit = 0;
  for (const m of metrics) if (m.profit > maxProfit) maxProfit = m.profit;
  return { maxProfit };
}

/**
 * A non-negative score per strategy; weights are split in proportion to scores. Every score is
 * >= 0 and finite, so no weight can go negative (the sketch's performance weights could).
 */
export function strategyScore(
  strategy: Strategy,
  allocation: Allocation,
  m: BusinessMetrics,
  ctx: ScoreContext,
): number {
  switch (strategy) {
    case 'equal':
      return 1;
    case 'performance': {
      const p = ctx.maxProfit > 0 ? Math.max(0, m.profit) / ctx.maxProfit : 0;
      return 0.5 * p + 0.5 * (m.healthScore / 100);
    }
    case 'growth':
      return Math.max(0, m.growthRate) * (GROWTH_STAGE_BONUS[m.stage] ?? 1) + 10;
    case 'revenue':
      return Math.max(0, m.revenue);
    case 'custom':
      return allocation.targetWeight ?? allocation.weight;
  }
}

export const STRATEGY_LABEL: Readonly<Record<Strategy, string>> = {
  equal: 'equal',
  performance: 'performance',
  growth: 'growth',
  revenue: 'revenue',
  custom: 'custom target',
};
