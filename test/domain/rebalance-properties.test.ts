/**
 * Properties of the rebalancing options (rebalance_trigger, drift_type, min_trade) over the random
 * portfolios of scenarios.ts. Seeded as properties.test.ts is: FC_SEED=<n> replays a run.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  type Allocation,
  type DriftType,
  type Portfolio,
  type RebalanceTrigger,
  type Recommendation,
  RefusedError,
  recommend,
  scoreContext,
  strategyScore,
} from '../../src/domain/index.js';
import { waterFill } from '../../src/domain/water-fill.js';
import {
  check,
  checkRecommendation,
  expectRefusal,
  hi,
  lo,
  RUNS,
  recommendFeasible,
  SLACK,
  snapshot,
} from './property-checks.js';
import { type Scenario, scenarioArb } from './scenarios.js';

interface Options {
  readonly trigger: RebalanceTrigger;
  readonly driftType: DriftType;
  /** Replaces the scenario's drift threshold (relative bands are wider: up to 1). */
  readonly drift: number | null;
  readonly minTrade: number | null;
}

const optionsArb: fc.Arbitrary<Options> = fc.record({
  trigger: fc.constantFrom<RebalanceTrigger>('allocation', 'portfolio'),
  driftType: fc.constantFrom<DriftType>('absolute', 'relative'),
  drift: fc.option(
    fc.oneof(
      fc.constantFrom(0, 0.25, 1),
      fc.integer({ min: 0, max: 1000 }).map((d) => d / 1000),
    ),
    {
      freq: 2,
    },
  ),
  minTrade: fc.option(
    fc.oneof(
      fc.constantFrom(0, 0.5, 0.999),
      fc.integer({ min: 1, max: 100 }).map((m) => m / 1000),
      fc.double({ min: 1e-6, max: 0.2, noNaN: true }),
    ),
    { freq: 2 },
  ),
});

function withOptions(s: Scenario, o: Options, extra: Partial<Portfolio> = {}): Scenario {
  const portfolio: Portfolio = {
    ...s.portfolio,
    rebalanceTrigger: o.trigger,
    driftType: o.driftType,
    driftThreshold: o.drift ?? s.portfolio.driftThreshold,
    minTrade: o.minTrade ?? undefined,
    ...extra,
  };
  return { ...s, portfolio };
}

/** recommend, or undefined when it refuses (only when the bounds cannot hold, changing nothing). */
function tryRecommend(s: Scenario): Recommendation | undefined {
  const unchanged = snapshot(s);
  try {
    const rec = recommend(s.portfolio, s.metrics);
    check(recommendFeasible(s), () => 'recommend accepted bounds that cannot hold');
    return rec;
  } catch (err) {
    expectRefusal(err, [RefusedError], 'recommend');
    check(!recommendFeasible(s), () => `recommend refused a feasible portfolio: ${String(err)}`);
    unchanged();
    return undefined;
  }
}

const movable = (s: Scenario, a: Allocation) => !a.locked && s.metrics.has(a.businessId);
const outsideBounds = (a: Allocation) => a.weight < lo(a) || a.weight > hi(a);

/** The strategy's split of the free mass over the movable allocations, within bounds (one round). */
function targets(s: Scenario): Map<string, number> {
  const p = s.portfolio;
  const ctx = scoreContext(s.metrics.values());
  let fixed = 0;
  const movers: Allocation[] = [];
  for (const a of p.allocations) {
    if (movable(s, a)) movers.push(a);
    else fixed += a.weight;
  }
  const scores = movers.map((a) => strategyScore(p.strategy, a, s.metrics.get(a.businessId)!, ctx));
  const fill = waterFill(scores, movers.map(lo), movers.map(hi), Math.max(0, 1 - fixed));
  if (!fill.ok) throw new Error('targets of an infeasible portfolio');
  return new Map(movers.map((a, j) => [a.businessId, fill.weights[j]!]));
}

/** The band's width at target t, as the portfolio defines it. */
function band(p: Portfolio, t: number): number {
  return p.driftType === 'relative' ? p.driftThreshold * t : p.driftThreshold;
}

describe('rebalancing options: properties', () => {
  it('keep invariants 1-3 and max_turnover, whatever the trigger, drift type and min_trade', () => {
    fc.assert(
      fc.property(scenarioArb, optionsArb, (base, o) => {
        const s = withOptions(base, o);
        const rec = tryRecommend(s);
        if (rec) checkRecommendation(s, rec, !(o.minTrade !== null && o.minTrade > 0));
      }),
      RUNS,
    );
  });

  it('rebalance_trigger portfolio: nothing moves, or every allocation goes to its target', () => {
    fc.assert(
      fc.property(scenarioArb, optionsArb, (base, o) => {
        const s = withOptions(base, { ...o, trigger: 'portfolio', minTrade: null });
        const rec = tryRecommend(s);
        if (!rec) return;
        const p = s.portfolio;
        const target = targets(s);
        const alpha = rec.turnoverScale ?? 1;
        let moved = 0;
        let kept = 0;
        let outside = false;
        let onEdge = false;
        for (const [i, a] of p.allocations.entries()) {
          if (!movable(s, a)) continue;
          const t = target.get(a.businessId)!;
          const c = a.weight;
          const excess = Math.abs(t - c) - band(p, t);
          if (excess > 1e-9 || outsideBounds(a)) outside = true;
          else if (excess > -1e-9) onEdge = true;
          const action = rec.actions[i]!;
          if (action.action === 'maintain' && action.recommendedWeight === c) kept++;
          const expected = c + alpha * (t - c);
          if (Math.abs(action.recommendedWeight - expected) <= SLACK) moved++;
        }
        const count = p.allocations.filter((a) => movable(s, a)).length;
        check(
          kept === count || moved === count,
          () => `${kept} kept and ${moved} at their target of ${count} movable allocations`,
        );
        // Which of the two depends on the band alone (an allocation on its edge may go either way).
        if (outside) check(moved === count, () => 'an allocation is outside its band, but not all moved');
        else if (!onEdge) check(kept === count, () => 'every allocation is within its band, but some moved');
      }),
      RUNS,
    );
  });

  it('min_trade: moves only shrink, and none is below min_trade but for an allocation outside its bounds', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        optionsArb,
        fc.oneof(
          fc.integer({ min: 1, max: 100 }).map((m) => m / 1000),
          fc.constantFrom(0.3, 0.999),
        ),
        (base, o, minTrade) => {
          const s = withOptions(base, { ...o, minTrade });
          const rec = tryRecommend(s);
          if (!rec) return;
          const free = recommend(withOptions(base, { ...o, minTrade: null }).portfolio, s.metrics);
          check(
            rec.turnover <= free.turnover + SLACK,
            () => `turnover ${rec.turnover} above ${free.turnover}`,
          );
          const forced = s.portfolio.allocations.some((a) => movable(s, a) && outsideBounds(a));
          let below = false;
          for (const [i, a] of s.portfolio.allocations.entries()) {
            const c = a.weight;
            const d = rec.actions[i]!.recommendedWeight - c;
            const d0 = free.actions[i]!.recommendedWeight - c;
            if (d === 0) continue;
            check(
              Math.sign(d) === Math.sign(d0) && Math.abs(d) <= Math.abs(d0) + 1e-12,
              () => `${a.businessId}: moves ${d} with min_trade, ${d0} without`,
            );
            if (Math.abs(d) < minTrade - SLACK && !outsideBounds(a)) below = true;
          }
          // Only when min_trade is waived: then the moves are those made without it.
          if (below) {
            check(forced, () => 'a move below min_trade without an allocation outside its bounds');
            for (const [i, action] of rec.actions.entries()) {
              const d = Math.abs(action.recommendedWeight - free.actions[i]!.recommendedWeight);
              check(d <= 1e-12, () => `waived min_trade, but ${action.businessId} differs by ${d}`);
            }
          }
        },
      ),
      RUNS,
    );
  });

  it('drift_type relative is the absolute band of threshold x target (equal targets, one split)', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 1000 }), (base, raw) => {
        const r = raw / 1000;
        const allocations = base.portfolio.allocations.map((a) => ({
          ...a,
          minWeight: undefined,
          maxWeight: undefined,
        }));
        const plain = {
          ...base,
          portfolio: { ...base.portfolio, strategy: 'equal' as const, allocations, maxTurnover: undefined },
        };
        const relative = withOptions(plain, {
          trigger: 'portfolio',
          driftType: 'relative',
          drift: r,
          minTrade: null,
        });
        const target = targets(relative);
        const t = target.values().next().value;
        if (t === undefined) return;
        // Too close to the band's edge for two roundings to agree.
        for (const a of allocations) {
          if (movable(relative, a) && Math.abs(Math.abs(t - a.weight) - r * t) < 1e-9) return;
        }
        const absolute = withOptions(plain, {
          trigger: 'portfolio',
          driftType: 'absolute',
          drift: r * t,
          minTrade: null,
        });
        const a = recommend(relative.portfolio, relative.metrics);
        const b = recommend(absolute.portfolio, absolute.metrics);
        for (const [i, x] of a.actions.entries()) {
          const y = b.actions[i]!;
          check(
            x.action === y.action && Math.abs(x.recommendedWeight - y.recommendedWeight) <= 1e-12,
            () =>
              `${x.businessId}: relative ${x.action} ${x.recommendedWeight}, absolute ${y.action} ${y.recommendedWeight}`,
          );
        }
      }),
      RUNS,
    );
  });

  it('drift_type relative: every allocation that moves is outside its band at its final target', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 1000 }), (base, raw) => {
        const allocations = base.portfolio.allocations.map((a) => ({
          ...a,
          minWeight: undefined,
          maxWeight: undefined,
        }));
        const plain = { ...base, portfolio: { ...base.portfolio, allocations, maxTurnover: undefined } };
        const s = withOptions(plain, {
          trigger: 'allocation',
          driftType: 'relative',
          drift: raw / 1000,
          minTrade: null,
        });
        const rec = recommend(s.portfolio, s.metrics);
        for (const action of rec.actions) {
          if (action.action !== 'increase' && action.action !== 'decrease') continue;
          const w = action.recommendedWeight;
          check(
            Math.abs(w - action.currentWeight) > (raw / 1000) * w - SLACK,
            () => `${action.businessId} moves ${action.currentWeight} -> ${w}, inside its band`,
          );
        }
      }),
      RUNS,
    );
  });

  it('drift_type relative: the indexed drift-band rounds decide as the plain rounds do', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 1000 }), (base, raw) => {
        const s = withOptions(base, {
          trigger: 'allocation',
          driftType: 'relative',
          drift: raw / 1000,
          minTrade: null,
        });
        let plain: Recommendation;
        try {
          plain = recommend(s.portfolio, s.metrics, { plainRounds: Number.POSITIVE_INFINITY });
        } catch (err) {
          expectRefusal(err, [RefusedError], 'recommend');
          return;
        }
        const indexed = recommend(s.portfolio, s.metrics, { plainRounds: 0 });
        checkRecommendation(s, indexed);
        for (const [i, a] of indexed.actions.entries()) {
          const b = plain.actions[i]!;
          check(
            a.action === b.action && Math.abs(a.recommendedWeight - b.recommendedWeight) <= 1e-9,
            () =>
              `${a.businessId}: indexed ${a.action} ${a.recommendedWeight}, plain ${b.action} ${b.recommendedWeight}`,
          );
        }
      }),
      RUNS,
    );
  });
});
