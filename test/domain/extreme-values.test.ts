/**
 * Invariant 1 for numbers at the edge of what the wire schema accepts (the review's cases):
 * metric limits with clear messages, scale-safe splits, finite derived figures, and a typed
 * error instead of a NaN weight for numbers that reach recommend some other way.
 */
import { describe, expect, it } from 'vitest';
import {
  applyRecommendation,
  type BusinessMetrics,
  metricsFromWire,
  type Portfolio,
  recommend,
  reportToWire,
  rollUp,
  runPortfolio,
  ValidationError,
} from '../../src/domain/index.js';
import { expectWeightsValid, T1, wirePortfolio, withAllocations } from './fixtures.js';

const base = { business_id: 'a', revenue: 10, expenses: 5, growth_rate: 5, health_score: 50 };

function metricsOf(entries: Record<string, Record<string, unknown>>): Map<string, BusinessMetrics> {
  return new Map(
    Object.entries(entries).map(([id, m]) => [id, metricsFromWire({ ...base, business_id: id, ...m })]),
  );
}

const three = (strategy: 'growth' | 'revenue') =>
  wirePortfolio({
    strategy,
    drift_threshold: 0,
    allocations: { a: { weight: 0.3 }, b: { weight: 0.3 }, c: { weight: 0.4 } },
  });

function weightsAfter(p: Portfolio, metrics: Map<string, BusinessMetrics>): number[] {
  const rec = recommend(p, metrics);
  const after = applyRecommendation(p, rec, { runId: 'r', reportId: 'r', at: T1 });
  expectWeightsValid(after);
  return after.allocations.map((a) => a.weight);
}

describe('metric limits', () => {
  it('refuses a growth rate of 1.5e308, naming the field and the limit', () => {
    // Before: accepted, and the growth strategy gave `a maintain 30% -> NaN%`, apply left 0.3.
    expect(() => metricsFromWire({ ...base, growth_rate: 1.5e308, stage: 'ideation' })).toThrow(
      'invalid metrics: growth_rate: must be a finite number (percent) between -1e12 and 1e12',
    );
  });

  it('refuses revenues of 1.7e308 and derived profits beyond the limit', () => {
    expect(() => metricsFromWire({ ...base, revenue: 1.7e308 })).toThrow(
      'revenue: must be a finite number between -1e15 and 1e15',
    );
    // 1e15 - (-1e15) = 2e15: given, it would be refused, so derived it is too.
    expect(() => metricsFromWire({ ...base, revenue: 1e15, expenses: -1e15 })).toThrow(
      'profit: revenue - expenses is 2000000000000000, beyond the limit of 1e15: give profit',
    );
    expect(() => metricsFromWire({ ...base, margin: 1e13 })).toThrow(/margin: must be a finite number/);
    expect(() => metricsFromWire({ ...base, customers: 1e16 })).toThrow(/customers: must be a whole number/);
  });

  it('refuses a derived margin that is not a number a report can carry', () => {
    // profit / revenue * 100 = -1e312: Infinity. Given explicitly, the margin is taken as it is.
    expect(() => metricsFromWire({ ...base, revenue: 1e-310, expenses: 1 })).toThrow(
      /margin: profit \/ revenue is -Infinity%, beyond the limit of 1e12%: revenue 1e-310 is too small to divide by; give margin/,
    );
    expect(metricsFromWire({ ...base, revenue: 1e-310, expenses: 1, margin: -100 }).margin).toBe(-100);
  });

  it('accepts the limits themselves', () => {
    const m = metricsFromWire({ ...base, revenue: 1e15, expenses: 0, growth_rate: -1e12, margin: 1e12 });
    expect(m).toMatchObject({ revenue: 1e15, profit: 1e15, growthRate: -1e12, margin: 1e12 });
  });
});

describe('recommend at the limits and below them', () => {
  it('growth 1e12 (the limit) at the ideation stage: finite weights that sum to 1', () => {
    const w = weightsAfter(
      three('growth'),
      metricsOf({ a: { growth_rate: 1e12, stage: 'ideation' }, b: {}, c: {} }),
    );
    expect(w[0]).toBeCloseTo(1, 9);
  });

  it('three equal revenues of 1e15: a third each, and finite totals', () => {
    const metrics = metricsOf({ a: { revenue: 1e15 }, b: { revenue: 1e15 }, c: { revenue: 1e15 } });
    for (const w of weightsAfter(three('revenue'), metrics)) expect(w).toBeCloseTo(1 / 3, 12);
    const totals = rollUp(three('revenue'), metrics);
    expect(totals.totalRevenue).toBe(3e15);
    expect(Number.isFinite(totals.totalProfit)).toBe(true);
  });

  it('subnormal revenues 1e-310, 1e-310, 2e-310: a quarter, a quarter, a half', () => {
    // Before: 0, 0, 1 (lambda = 1 / 4e-310 overflowed).
    const w = weightsAfter(
      three('revenue'),
      metricsOf({
        a: { revenue: 1e-310, expenses: 0 },
        b: { revenue: 1e-310, expenses: 0 },
        c: { revenue: 2e-310, expenses: 0 },
      }),
    );
    expect(w[0]).toBeCloseTo(0.25, 12);
    expect(w[1]).toBeCloseTo(0.25, 12);
    expect(w[2]).toBeCloseTo(0.5, 12);
  });

  it('custom targets of 5e-324 and 1e-310 split in proportion', () => {
    const p = wirePortfolio({
      strategy: 'custom',
      drift_threshold: 0,
      allocations: {
        a: { weight: 0.5, target_weight: 5e-324 },
        b: { weight: 0.5, target_weight: 1e-310 },
      },
    });
    const w = weightsAfter(p, metricsOf({ a: {}, b: {} }));
    expect(w[0]! / w[1]!).toBeCloseTo(5e-324 / 1e-310, 6);
  });

  it('keeps the net margin and ROI finite when revenue or budget is next to nothing', () => {
    const p = { ...three('revenue'), totalBudget: 1e-310 };
    const metrics = metricsOf({
      a: { revenue: 1e-310, profit: 1e15, expenses: 0, margin: 0 },
      b: { revenue: 0, expenses: 0 },
      c: { revenue: 0, expenses: 0 },
    });
    const { report } = runPortfolio({
      portfolio: p,
      metrics,
      runId: 'r',
      reportId: 'r',
      trigger: 'manual',
      now: T1,
      dryRun: true,
    });
    const wire = reportToWire(report);
    // JSON writes Infinity as null: before the fix net_margin and roi came out null.
    expect(JSON.parse(JSON.stringify(wire))).toEqual(wire);
    expect(wire.metrics?.net_margin).toBe(Number.MAX_VALUE);
    expect(wire.metrics?.roi).toBe(Number.MAX_VALUE);
  });
});

describe('numbers that reach recommend without the wire schema', () => {
  const p = three('growth');

  it('a NaN or infinite metric is a ValidationError naming the business, not a NaN weight', () => {
    const ok = metricsOf({ b: {}, c: {} });
    for (const growthRate of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const bad = { ...metricsFromWire({ ...base }), growthRate };
      const metrics = new Map([['a', bad], ...ok]);
      expect(() => recommend(p, metrics)).toThrow(ValidationError);
      expect(() => recommend(p, metrics)).toThrow(/growth score of business a is (NaN|Infinity)/);
    }
  });

  it('a NaN weight or bound is a ValidationError naming the business', () => {
    const metrics = metricsOf({ a: {}, b: {}, c: {} });
    expect(() => recommend(withAllocations(p, { b: { weight: Number.NaN } }), metrics)).toThrow(
      /business b has weight NaN/,
    );
    expect(() => recommend(withAllocations(p, { c: { maxWeight: Number.NaN } }), metrics)).toThrow(
      ValidationError,
    );
  });
});
