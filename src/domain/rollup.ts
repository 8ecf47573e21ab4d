import type { BusinessMetrics, Portfolio } from './model.js';

export interface PortfolioRollup {
  readonly totalRevenue: number;
  readonly totalExpenses: number;
  /** Sum of each business's own profit. */
  readonly totalProfit: number;
  /** totalProfit / totalRevenue * 100, 0 when revenue <= 0. */
  readonly netMargin: number;
  readonly averageMargin: number;
  readonly totalCustomers: number;
  readonly businessCount: number;
  readonly businessesWithMetrics: number;
  readonly businessesWithoutMetrics: number;
  /** Plain average of growth rates. */
  readonly growthRate: number;
  readonly revenueWeightedGrowthRate: number;
  /** totalProfit / totalBudget * 100; null without a budget. */
  readonly roi: number | null;
  readonly targetRoi: number;
  readonly roiMet: boolean | null;
  readonly bestPerformerId: string | null;
  readonly worstPerformerId: string | null;
}

export function rollUp(portfolio: Portfolio, metrics: ReadonlyMap<string, BusinessMetrics>): PortfolioRollup {
  let totalRevenue = 0;
  let totalExpenses = 0;
  let totalProfit = 0;
  let marginSum = 0;
  let growthSum = 0;
  let weightedGrowth = 0;
  let positiveRevenue = 0;
  let totalCustomers = 0;
  let withMetrics = 0;
  let best: BusinessMetrics | undefined;
  let worst: BusinessMetrics | undefined;
  for (const allocation of portfolio.allocations) {
    const m = metrics.get(allocation.businessId);
    if (!m) continue;
    withMetrics++;
    totalRevenue += m.revenue;
    totalExpenses += m.expenses;
    totalProfit += m.profit;
    marginSum += m.margin;
    growthSum += m.growthRate;
    totalCustomers += m.customers;
    if (m.revenue > 0) {
      weightedGrowth += m.revenue * m.growthRate;
      positiveRevenue += m.revenue;
    }
    if (!best || m.profit > best.profit || (m.profit === best.profit && m.businessId < best.businessId))
      best = m;
    if (!worst || m.profit < worst.profit || (m.profit === worst.profit && m.businessId < worst.businessId)) {
      worst = m;
    }
  }
  const roi = portfolio.totalBudget > 0 ? percentOf(totalProfit, portfolio.totalBudget) : null;
  return {
    totalRevenue,
    totalExpenses,
    totalProfit,
    netMargin: totalRevenue > 0 ? percentOf(totalProfit, totalRevenue) : 0,
    averageMargin: withMetrics > 0 ? marginSum / withMetrics : 0,
    totalCustomers,
    businessCount: portfolio.allocations.length,
    businessesWithMetrics: withMetrics,
    businessesWithoutMetrics: portfolio.allocations.length - withMetrics,
    growthRate: withMetrics > 0 ? growthSum / withMetrics : 0,
    revenueWeightedGrowthRate: positiveRevenue > 0 ? weightedGrowth / positiveRevenue : 0,
    roi,
    targetRoi: portfolio.targetRoi,
    roiMet: roi === null ? null : roi >= portfolio.targetRoi,
    bestPerformerId: best?.businessId ?? null,
    worstPerformerId: worst?.businessId ?? null,
  };
}

/**
 * part / whole * 100 for a positive whole, kept finite: a whole next to nothing (revenues of
 * 1e-310, a budget of 1e-300) gives Infinity, which a report cannot carry (JSON writes null).
 * Beyond the range of a double the ratio stops at the largest one, with its sign.
 */
export function percentOf(part: number, whole: number): number {
  const ratio = (part / whole) * 100;
  if (Number.isFinite(ratio)) return ratio;
  return ratio > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}
