import type { BusinessMetrics, Portfolio, Stage } from './model.js';

export interface RankingEntry {
  /** 1 is best; null for a business without metrics this run. */
  readonly rank: number | null;
  readonly businessId: string;
  readonly name: string | null;
  readonly score: number | null;
  readonly revenue: number | null;
  readonly profit: number | null;
  readonly margin: number | null;
  readonly growthRate: number | null;
  readonly healthScore: number | null;
  readonly customers: number | null;
  readonly stage: Stage | null;
}

export const RANKING_WEIGHTS = { profit: 0.4, growthRate: 0.3, healthScore: 0.3 } as const;

/**
 * composite = 0.4*profit + 0.3*growth + 0.3*health, each min-max normalised across the
 * portfolio first (a component equal everywhere counts 1) so dollars do not drown percentages.
 * Ties go to the smaller business id. Businesses without metrics follow, unranked, in portfolio order.
 */
export function rank(portfolio: Portfolio, metrics: ReadonlyMap<string, BusinessMetrics>): RankingEntry[] {
  const present: BusinessMetrics[] = [];
  const missing: string[] = [];
  for (const a of portfolio.allocations) {
    const m = metrics.get(a.businessId);
    if (m) present.push(m);
    else missing.push(a.businessId);
  }
  const profit = normaliser(present, (m) => m.profit);
  const growth = normaliser(present, (m) => m.growthRate);
  const health = normaliser(present, (m) => m.healthScore);
  const scored = present.map((m) => ({
    m,
    score:
      RANKING_WEIGHTS.profit * profit(m.profit) +
      RANKING_WEIGHTS.growthRate * growth(m.growthRate) +
      RANKING_WEIGHTS.healthScore * health(m.healthScore),
  }));
  scored.sort((a, b) => b.score - a.score || compareIds(a.m.businessId, b.m.businessId));
  const ranked: RankingEntry[] = scored.map(({ m, score }, i) => ({
    rank: i + 1,
    businessId: m.businessId,
    name: m.name ?? null,
    score,
    revenue: m.revenue,
    profit: m.profit,
    margin: m.margin,
    growthRate: m.growthRate,
    healthScore: m.healthScore,
    customers: m.customers,
    stage: m.stage,
  }));
  for (const businessId of missing) {
    ranked.push({
      rank: null,
      businessId,
      name: null,
      score: null,
      revenue: null,
      profit: null,
      margin: null,
      growthRate: null,
      healthScore: null,
      customers: null,
      stage: null,
    });
  }
  return ranked;
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function normaliser<T>(items: readonly T[], get: (item: T) => number): (value: number) => number {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const item of items) {
    const v = get(item);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  return span > 0 ? (v) => (v - min) / span : () => 1;
}
