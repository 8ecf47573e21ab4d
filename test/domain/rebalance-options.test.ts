/**
 * The rebalancing options of issue 16 by example: rebalance_trigger, drift_type, min_trade, and
 * the reasons that say why a target was not reached. Their properties are in
 * rebalance-properties.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  type BusinessMetrics,
  changesNothing,
  createPortfolio,
  describeDiff,
  diffPortfolios,
  type Portfolio,
  portfolioFromWire,
  portfolioToWire,
  type Recommendation,
  recommend,
  updatePortfolio,
  ValidationError,
} from '../../src/domain/index.js';
import { expectWeightsValid, metricsMap, T0, T1, wirePortfolio, withAllocations } from './fixtures.js';

function metricsFor(ids: readonly string[]): Map<string, BusinessMetrics> {
  return metricsMap(
    Object.fromEntries(
      ids.map((id) => [id, { revenue: 100, expenses: 50, growth_rate: 5, health_score: 50 }]),
    ),
  );
}

/** Custom strategy: the targets are the target weights, the current weights given. */
function custom(
  entries: Record<string, [weight: number, target: number]>,
  settings: Record<string, unknown> = {},
): { p: Portfolio; m: Map<string, BusinessMetrics> } {
  const allocations = Object.fromEntries(
    Object.entries(entries).map(([id, [weight, target]]) => [id, { weight, target_weight: target }]),
  );
  const p = wirePortfolio({ strategy: 'custom', allocations, ...settings });
  return { p, m: metricsFor(Object.keys(entries)) };
}

function weights(rec: Recommendation): Record<string, number> {
  return Object.fromEntries(rec.actions.map((a) => [a.businessId, Number(a.recommendedWeight.toFixed(12))]));
}

function reasons(rec: Recommendation): Record<string, string> {
  return Object.fromEntries(rec.actions.map((a) => [a.businessId, a.reason]));
}

const QUARTERS = {
  b1: { weight: 0.1 },
  b2: { weight: 0.2 },
  b3: { weight: 0.3 },
  b4: { weight: 0.4 },
};

describe('rebalance_trigger', () => {
  it('allocation (the default): 10/20/30/40 under equal with drift 0.05 become 25/20/30/25', () => {
    const p = wirePortfolio({ strategy: 'equal', drift_threshold: 0.05, allocations: QUARTERS });
    const rec = recommend(p, metricsFor(['b1', 'b2', 'b3', 'b4']));

    expect(weights(rec)).toEqual({ b1: 0.25, b2: 0.2, b3: 0.3, b4: 0.25 });
    expect(reasons(rec)['b2']).toBe('within the drift band (5.0 points of target 25.0%); kept at 20%');
    expect(reasons(rec)['b3']).toBe('within the drift band (5.0 points of target 25.0%); kept at 30%');
  });

  it('portfolio: one allocation outside its band takes every allocation to its target (25/25/25/25)', () => {
    const p = wirePortfolio({
      strategy: 'equal',
      drift_threshold: 0.05,
      rebalance_trigger: 'portfolio',
      allocations: QUARTERS,
    });
    const rec = recommend(p, metricsFor(['b1', 'b2', 'b3', 'b4']));

    expect(weights(rec)).toEqual({ b1: 0.25, b2: 0.25, b3: 0.25, b4: 0.25 });
    expect(rec.actions.map((a) => a.action)).toEqual(['increase', 'increase', 'decrease', 'decrease']);
    // b1 and b4 are both 10 points outside their band: the first in portfolio order is named.
    expect(reasons(rec)['b2']).toBe(
      'equal share 25% of free mass; was 20%; every allocation to its target: b1 is outside its drift band (rebalance_trigger portfolio)',
    );
    expect(reasons(rec)['b1']).toMatch(/every allocation to its target: this one is outside its drift band/);
    expect(rec.turnover).toBeCloseTo(0.2, 12);
  });

  it('portfolio: when every allocation is within its band, none moves, and the reasons say so', () => {
    const p = wirePortfolio({
      strategy: 'equal',
      drift_threshold: 0.05,
      rebalance_trigger: 'portfolio',
      allocations: { b1: { weight: 0.21 }, b2: { weight: 0.29 }, b3: { weight: 0.25 }, b4: { weight: 0.25 } },
    });
    const rec = recommend(p, metricsFor(['b1', 'b2', 'b3', 'b4']));

    expect(rec.actions.every((a) => a.action === 'maintain' && a.recommendedWeight === a.currentWeight)).toBe(
      true,
    );
    expect(reasons(rec)['b1']).toBe(
      'within the drift band (5.0 points of target 25.0%); kept at 21%, as every allocation is (rebalance_trigger portfolio)',
    );
    expect(rec.turnover).toBe(0);
  });

  it('portfolio: locked and metric-less allocations stay, bounds and max_turnover still apply', () => {
    const p = wirePortfolio({
      strategy: 'equal',
      drift_threshold: 0.05,
      rebalance_trigger: 'portfolio',
      max_turnover: 0.05,
      allocations: {
        b1: { weight: 0.1, locked: true },
        b2: { weight: 0.2 },
        b3: { weight: 0.3 },
        b4: { weight: 0.25 },
        b5: { weight: 0.15, max_weight: 0.2 },
      },
    });
    const rec = recommend(p, metricsFor(['b1', 'b2', 'b3', 'b5']));
    const a = Object.fromEntries(rec.actions.map((x) => [x.businessId, x]));

    expect(a['b1']?.action).toBe('locked');
    expect(a['b4']?.action).toBe('no-metrics');
    // Free mass 0.65 over b2, b3, b5: b5 capped at 20%, b2 and b3 22.5% each. b3 is 7.5 points
    // from its target, so all three move (b5 too, 5 points from its target), scaled so that
    // turnover is 5%.
    expect(rec.turnover).toBeCloseTo(0.05, 12);
    expect(a['b5']?.reason).toMatch(
      /every allocation to its target: b3 is outside its drift band .*; capped at max 20%; move scaled to .* by max turnover 5%/,
    );
    expectWeightsValid({
      ...p,
      allocations: p.allocations.map((x, i) => ({ ...x, weight: rec.actions[i]!.recommendedWeight })),
    });
  });
});

describe('drift_type', () => {
  it('absolute (the default): a custom target of 30% stays at 25% with drift 0.05, and says why', () => {
    const { p, m } = custom({ a: [0.25, 0.3], b: [0.75, 0.7] });
    const rec = recommend(p, m);

    expect(weights(rec)).toEqual({ a: 0.25, b: 0.75 });
    expect(reasons(rec)['a']).toBe('within the drift band (5.0 points of target 30.0%); kept at 25%');
  });

  it('relative: the band is drift_threshold x the target (0.25 x 20% = 5 points)', () => {
    const settings = { drift_threshold: 0.25, drift_type: 'relative' };
    // a and b: 4 points from their 20% target, inside 5; c: 5 points from 60%, inside 15.
    const inside = custom({ a: [0.16, 0.2], b: [0.24, 0.2], c: [0.6, 0.6] }, settings);
    const kept = recommend(inside.p, inside.m);
    expect(kept.actions.map((x) => x.action)).toEqual(['maintain', 'maintain', 'maintain']);
    expect(reasons(kept)['a']).toBe('within the drift band (5.0 points = 25% of target 20.0%); kept at 16%');

    // a and b: 6 points from their 20% target, outside 5: they move; c is kept.
    const outside = custom({ a: [0.14, 0.2], b: [0.26, 0.2], c: [0.6, 0.6] }, settings);
    const moved = recommend(outside.p, outside.m);
    expect(moved.actions.map((x) => x.action)).toEqual(['increase', 'decrease', 'maintain']);
    expect(weights(moved)).toEqual({ a: 0.2, b: 0.2, c: 0.6 });
  });

  it('relative with the same threshold keeps a small allocation that an absolute band would move', () => {
    // 4 points from a 10% target: outside an absolute band of 3 points, inside 50% of 10%.
    const absolute = custom({ a: [0.06, 0.1], b: [0.94, 0.9] }, { drift_threshold: 0.03 });
    const relative = custom(
      { a: [0.06, 0.1], b: [0.94, 0.9] },
      { drift_threshold: 0.5, drift_type: 'relative' },
    );
    expect(recommend(absolute.p, absolute.m).actions[0]?.action).toBe('increase');
    expect(recommend(relative.p, relative.m).actions[0]?.action).toBe('maintain');
  });
});

describe('min_trade', () => {
  it('a move below min_trade is not made; the other side is scaled so that weights sum to 1', () => {
    // Targets: a +0.4 points (below 1 point), b +4.6, c -5. Without a's move, the decreases
    // shrink to what is increased: c moves 4.6 points, 92% of its 5.
    const { p, m } = custom(
      { a: [0.3, 0.304], b: [0.35, 0.396], c: [0.35, 0.3] },
      { drift_threshold: 0, min_trade: 0.01 },
    );
    const rec = recommend(p, m);

    expect(weights(rec)).toEqual({ a: 0.3, b: 0.396, c: 0.304 });
    expect(rec.actions.map((x) => x.action)).toEqual(['maintain', 'increase', 'decrease']);
    expect(reasons(rec)['a']).toBe(
      'custom target share 30.4% of free mass; was 30%; move of 0.4 points below min_trade 1.0 points, not made: kept at 30%',
    );
    expect(reasons(rec)['c']).toBe(
      'custom target share 30% of free mass; was 35%; move scaled to 92% to offset the moves below min_trade 1.0 points',
    );
    expect(rec.turnover).toBeCloseTo(0.046, 12);
  });

  it('when scaling takes the other moves below min_trade too, nothing moves', () => {
    // a +0.8 (kept out), b +0.8 (kept out): the decrease of c (1.6) has nothing to go to.
    const { p, m } = custom(
      { a: [0.3, 0.308], b: [0.3, 0.308], c: [0.4, 0.384] },
      { drift_threshold: 0, min_trade: 0.01 },
    );
    const rec = recommend(p, m);

    expect(rec.actions.map((x) => x.action)).toEqual(['maintain', 'maintain', 'maintain']);
    expect(rec.turnover).toBe(0);
    expect(reasons(rec)['c']).toMatch(/move of 1\.6 points below min_trade 1\.0 points, not made/);
  });

  it('applies after max_turnover: a move that max_turnover makes small is not made', () => {
    const { p, m } = custom(
      { a: [0.2, 0.4], b: [0.4, 0.2], c: [0.4, 0.4] },
      { drift_threshold: 0, max_turnover: 0.005, min_trade: 0.01 },
    );
    const rec = recommend(p, m);
    expect(rec.turnover).toBe(0);
    expect(reasons(rec)['a']).toMatch(
      /move scaled to 2.5% by max turnover 0.5%; move of 0\.5 points below min_trade/,
    );
  });

  it('an allocation outside its bounds moves into them even by less than min_trade', () => {
    const base = custom(
      { a: [0.3, 0.3], b: [0.35, 0.35], c: [0.35, 0.35] },
      { drift_threshold: 0, min_trade: 0.01 },
    );
    // a's weight 30.5% is past its max 30%: it must move 0.5 points; b and c move 3 and 2.5.
    const p = withAllocations(base.p, {
      a: { weight: 0.305, maxWeight: 0.3 },
      b: { weight: 0.32 },
      c: { weight: 0.375 },
    });
    const rec = recommend(p, base.m);

    expect(weights(rec)).toEqual({ a: 0.3, b: 0.35, c: 0.35 });
    expect(reasons(rec)['a']).toMatch(/below min_trade 1\.0 points but made: outside its bounds/);
  });

  it('is waived when an allocation outside its bounds needs moves that it would forbid', () => {
    const base = custom(
      { a: [0.3, 0.5], b: [0.35, 0.25], c: [0.35, 0.25] },
      { drift_threshold: 0, min_trade: 0.01 },
    );
    // a must come down 0.5 points; b and c would take 0.25 each, below min_trade.
    const p = withAllocations(base.p, {
      a: { weight: 0.305, maxWeight: 0.3 },
      b: { weight: 0.3475 },
      c: { weight: 0.3475 },
    });
    const rec = recommend(p, base.m);

    expect(weights(rec)).toEqual({ a: 0.3, b: 0.35, c: 0.35 });
    expect(reasons(rec)['b']).toMatch(
      /below min_trade 1\.0 points but made: an allocation outside its bounds needs the moves/,
    );
  });
});

describe('the settings', () => {
  const input = { id: 'p1', name: 'P', ownerId: 'o1' };

  it('default to allocation, absolute and none; read so from documents written before them', () => {
    const p = createPortfolio(input, T0);
    expect(p.rebalanceTrigger).toBe('allocation');
    expect(p.driftType).toBe('absolute');
    expect(p.minTrade).toBeUndefined();
    const wire = portfolioToWire(p);
    expect(wire).toMatchObject({ rebalance_trigger: 'allocation', drift_type: 'absolute', min_trade: null });

    const { rebalance_trigger: _t, drift_type: _d, min_trade: _m, ...old } = wire;
    const read = portfolioFromWire(old, T0);
    expect(read).toMatchObject({
      rebalanceTrigger: 'allocation',
      driftType: 'absolute',
      minTrade: undefined,
    });
    // A stored document without them (the codec keeps the domain object) is the same portfolio.
    const { rebalanceTrigger: _a, driftType: _b, minTrade: _c, ...stored } = p;
    expect(changesNothing(stored, p)).toBe(true);
  });

  it('are validated, naming the field and the allowed values', () => {
    expect(() => createPortfolio({ ...input, rebalanceTrigger: 'sometimes' as never }, T0)).toThrow(
      new ValidationError('unknown rebalance_trigger "sometimes": use one of allocation, portfolio'),
    );
    expect(() => createPortfolio({ ...input, driftType: 'percent' as never }, T0)).toThrow(
      /unknown drift_type "percent": use one of absolute, relative/,
    );
    for (const bad of [1, -0.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createPortfolio({ ...input, minTrade: bad }, T0)).toThrow(
        /min_trade must be a weight from 0 up to \(not including\) 1/,
      );
    }
    expect(() => portfolioFromWire({ id: 'p1', name: 'P', owner_id: 'o1', min_trade: 1 }, T0)).toThrow(
      /min_trade/,
    );
    expect(() => portfolioFromWire({ id: 'p1', name: 'P', owner_id: 'o1', drift_type: 'x' }, T0)).toThrow(
      /unknown drift_type "x"/,
    );
  });

  it('update sets them, null resets min_trade, and the history diff names them', () => {
    const p = createPortfolio(input, T0);
    const q = updatePortfolio(
      p,
      { rebalanceTrigger: 'portfolio', driftType: 'relative', minTrade: 0.01 },
      T1,
    );
    expect(q).toMatchObject({ rebalanceTrigger: 'portfolio', driftType: 'relative', minTrade: 0.01 });
    const diff = diffPortfolios(p, q);
    expect(diff.settings).toEqual({
      rebalanceTrigger: { old: 'allocation', new: 'portfolio' },
      driftType: { old: 'absolute', new: 'relative' },
      minTrade: { old: null, new: 0.01 },
    });
    expect(describeDiff(diff)).toBe(
      'rebalance trigger allocation -> portfolio, drift type absolute -> relative, min trade none -> 0.01',
    );

    const r = updatePortfolio(q, { minTrade: null }, T1);
    expect(r.minTrade).toBeUndefined();
    expect(updatePortfolio(q, { minTrade: undefined }, T1).minTrade).toBe(0.01);
    expect(() => updatePortfolio(q, { minTrade: 2 }, T1)).toThrow(ValidationError);
  });
});
