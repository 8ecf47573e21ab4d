import { describe, expect, it } from 'vitest';
import { RANKING_WEIGHTS, rank, rollUp } from '../../src/domain/index.js';
import { metricsMap, wirePortfolio } from './fixtures.js';

describe('rollUp', () => {
  // Portfolio order puts the tie winners second, so ties cannot be won by position.
  const portfolio = wirePortfolio({
    total_budget: 100_000,
    target_roi: 20,
    allocations: {
      b: { weight: 0.2 },
      a: { weight: 0.2 },
      d: { weight: 0.2 },
      c: { weight: 0.2 },
      e: { weight: 0.2 },
    },
  });
  const metrics = metricsMap({
    a: { revenue: 1000, expenses: 500, customers: 10, growth_rate: 10, health_score: 80 },
    b: { revenue: 3000, expenses: 2500, customers: 20, growth_rate: 20, health_score: 60 },
    c: { revenue: 0, expenses: 10, growth_rate: 100, health_score: 40 },
    d: { revenue: -50, profit: -10, growth_rate: -30, health_score: 20 },
  });

  it('sums the businesses with metrics and counts the others apart', () => {
    const r = rollUp(portfolio, metrics);

    expect(r).toMatchObject({
      totalRevenue: 3950,
      // d's expenses default to revenue - profit = -40.
      totalExpenses: 2970,
      totalProfit: 980,
      totalCustomers: 30,
      businessCount: 5,
      businessesWithMetrics: 4,
      businessesWithoutMetrics: 1,
    });
    expect(r.netMargin).toBeCloseTo((980 / 3950) * 100, 12);
    // Margins: 50, 16.67, and 0 for the two without positive revenue.
    expect(r.averageMargin).toBeCloseTo((50 + 500 / 30) / 4, 12);
  });

  it('averages growth plainly and weighted by (positive) revenue', () => {
    const r = rollUp(portfolio, metrics);

    expect(r.growthRate).toBe(25);
    expect(r.revenueWeightedGrowthRate).toBeCloseTo((1000 * 10 + 3000 * 20) / 4000, 12);
  });

  it('compares ROI = total profit / total budget with the target', () => {
    expect(rollUp(portfolio, metrics)).toMatchObject({ roi: 0.98, targetRoi: 20, roiMet: false });
    const small = rollUp({ ...portfolio, totalBudget: 4000 }, metrics);
    expect(small.roi).toBeCloseTo(24.5, 12);
    expect(small.roiMet).toBe(true);
    expect(rollUp({ ...portfolio, totalBudget: 0 }, metrics)).toMatchObject({ roi: null, roiMet: null });
  });

  it('names the best and worst performer by profit, ties to the smaller id', () => {
    const r = rollUp(portfolio, metrics);

    // a and b both made 500; c and d both lost 10.
    expect(r.bestPerformerId).toBe('a');
    expect(r.worstPerformerId).toBe('c');
  });

  it('gives zeros and nulls, not NaN, without any metrics', () => {
    expect(rollUp(portfolio, new Map())).toEqual({
      totalRevenue: 0,
      totalExpenses: 0,
      totalProfit: 0,
      netMargin: 0,
      averageMargin: 0,
      totalCustomers: 0,
      businessCount: 5,
      businessesWithMetrics: 0,
      businessesWithoutMetrics: 5,
      growthRate: 0,
      revenueWeightedGrowthRate: 0,
      roi: 0,
      targetRoi: 20,
      roiMet: false,
      bestPerformerId: null,
      worstPerformerId: null,
    });
  });

  it('ignores metrics of businesses that are not in the portfolio', () => {
    const extra = new Map([
      ...metrics,
      ...metricsMap({ zz: { revenue: 1e9, profit: 1e9, growth_rate: 1, health_score: 1 } }),
    ]);
    expect(rollUp(portfolio, extra)).toEqual(rollUp(portfolio, metrics));
  });
});

describe('rank', () => {
  it('weights the normalised components 0.4 / 0.3 / 0.3', () => {
    const p = wirePortfolio({
      allocations: { a: { weight: 0.5 }, b: { weight: 0.25 }, c: { weight: 0.25 } },
    });
    const metrics = metricsMap({
      a: { revenue: 1, profit: 100, growth_rate: 0, health_score: 50 },
      b: { revenue: 1, profit: 0, growth_rate: 10, health_score: 100 },
      c: { revenue: 1, profit: 50, growth_rate: 5, health_score: 0 },
    });

    const ranking = rank(p, metrics);

    const score = Object.fromEntries(ranking.map((e) => [e.businessId, e.score]));
    expect(score['a']).toBeCloseTo(RANKING_WEIGHTS.profit * 1 + 0 + RANKING_WEIGHTS.healthScore * 0.5, 12);
    expect(score['b']).toBeCloseTo(0 + RANKING_WEIGHTS.growthRate + RANKING_WEIGHTS.healthScore, 12);
    expect(score['c']).toBeCloseTo(0.4 * 0.5 + 0.3 * 0.5 + 0, 12);
    expect(ranking.map((e) => e.businessId)).toEqual(['b', 'a', 'c']);
  });

  it('breaks ties by business id, whatever the portfolio order, and lists the unranked last', () => {
    const p = wirePortfolio({
      allocations: {
        z: { weight: 0.2 },
        none2: { weight: 0.2 },
        y: { weight: 0.2 },
        none1: { weight: 0.2 },
        x: { weight: 0.2 },
      },
    });
    const same = { revenue: 10, profit: 5, growth_rate: 3, health_score: 70, stage: 'growth' as const };
    const metrics = metricsMap({ z: same, y: same, x: same });

    const ranking = rank(p, metrics);

    // A component equal everywhere counts 1: every composite is 1.
    expect(ranking.map((e) => [e.rank, e.businessId, e.score])).toEqual([
      [1, 'x', 1],
      [2, 'y', 1],
      [3, 'z', 1],
      [null, 'none2', null],
      [null, 'none1', null],
    ]);
    expect(ranking[0]).toMatchObject({
      revenue: 10,
      profit: 5,
      margin: 50,
      growthRate: 3,
      healthScore: 70,
      stage: 'growth',
    });
  });
});
