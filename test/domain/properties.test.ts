/**
 * Property tests of SPEC section 1's invariants over random portfolios: every strategy, random
 * locks, random bounds (sometimes impossible to meet), missing metrics, drift 0..0.2, max
 * turnover sometimes set, 1..200 businesses.
 *
 * Seeded: FC_SEED=<n> replays a run; without it the seed is Date.now(). On failure fast-check
 * prints the seed, the path and the counterexample; every check message also names the seed.
 * Generators are in scenarios.ts, the shared checks in property-checks.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusiness,
  applyRecommendation,
  type BusinessMetrics,
  countChanges,
  type Portfolio,
  type Recommendation,
  RefusedError,
  type Report,
  rank,
  recommend,
  removeBusiness,
  reportToWire,
  runPortfolio,
  setAllocation,
  ValidationError,
} from '../../src/domain/index.js';
import {
  check,
  checkFiniteNumbers,
  checkLockedKept,
  checkRecommendation,
  checkSpread,
  checkWeights,
  expectRefusal,
  fits,
  hi,
  lo,
  RUNS,
  recommendFeasible,
  SLACK,
  snapshot,
} from './property-checks.js';
import { bandChainArb, type Scenario, scenarioArb } from './scenarios.js';

const T1 = '2026-01-02T00:00:00.000Z';
const RUN = { runId: 'run-prop', reportId: 'report-prop', at: T1 };

describe('domain properties', () => {
  it('recommend and apply keep invariants 1-3; refusals only when bounds cannot hold, changing nothing', () => {
    let refused = 0;
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const unchanged = snapshot(s);
        const feasible = recommendFeasible(s);
        let rec: Recommendation;
        try {
          rec = recommend(s.portfolio, s.metrics);
        } catch (err) {
          expectRefusal(err, [RefusedError], 'recommend');
          check(!feasible, () => `recommend refused a feasible portfolio: ${String(err)}`);
          unchanged();
          refused++;
          return;
        }
        check(feasible, () => 'recommend accepted bounds that cannot hold');
        checkRecommendation(s, rec);
        const after = applyRecommendation(s.portfolio, rec, RUN);
        checkWeights(after, 'apply');
        if (countChanges(rec) === 0)
          check(after === s.portfolio, () => 'an apply that moves nothing writes nothing');
        else check(after.version === s.portfolio.version + 1, () => 'apply bumps the version once');
        for (const [i, a] of after.allocations.entries()) {
          const action = rec.actions[i]!;
          check(a.weight === action.recommendedWeight, () => `apply wrote ${a.weight} for ${a.businessId}`);
          const old = s.portfolio.allocations[i]!;
          if (action.action !== 'increase' && action.action !== 'decrease') {
            check(a === old, () => `apply touched ${a.businessId} (${action.action})`);
          }
        }
        unchanged();
      }),
      RUNS,
    );
    // The generator must reach the refusal branch at all: ~5% of runs when this was written.
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(RUNS.numRuns);
  });

  // Add, remove and set take no metrics (they are not part of a run), so for them invariant 2
  // is about locked allocations only.
  it('add keeps invariants 1-3: locked untouched, others shrink in proportion (or share equally)', () => {
    let refused = 0;
    fc.assert(
      fc.property(scenarioArb, fc.option(fc.integer({ min: 0, max: 1000 }), { freq: 2 }), (s, w) => {
        const p = s.portfolio;
        const unchanged = snapshot(s);
        const weight = p.strategy === 'equal' || w === null ? undefined : w / 1000;
        const n = p.allocations.length + 1;
        const locked = p.allocations.filter((a) => a.locked);
        const unlocked = p.allocations.filter((a) => !a.locked);
        const lockedSum = locked.reduce((t, a) => t + a.weight, 0);
        let feasible: boolean;
        if (p.strategy === 'equal') {
          feasible = fits(
            [...unlocked, { businessId: 'new', weight: 0, priority: 5, locked: false }],
            1 - lockedSum,
          );
        } else {
          const rest = 1 - lockedSum - (weight ?? 1 / n);
          feasible =
            rest >= -SLACK &&
            (unlocked.length === 0 ? Math.abs(rest) <= SLACK : fits(unlocked, Math.max(0, rest)));
        }
        let after: Portfolio;
        try {
          after = addBusiness(p, 'new-business', { weight }, T1);
        } catch (err) {
          expectRefusal(err, [RefusedError], 'add');
          check(!feasible, () => `add refused a feasible portfolio: ${String(err)}`);
          unchanged();
          refused++;
          return;
        }
        check(feasible, () => 'add accepted bounds that cannot hold');
        checkWeights(after, 'add');
        checkLockedKept(p.allocations, after.allocations, 'add');
        check(
          after.allocations.map((a) => a.businessId).join() ===
            [...p.allocations.map((a) => a.businessId), 'new-business'].join(),
          () => 'add keeps the order and appends',
        );
        const added = after.allocations.at(-1)!;
        if (weight !== undefined)
          check(added.weight === weight, () => `new business got ${added.weight}, not ${weight}`);
        else if (p.strategy !== 'equal')
          check(added.weight === 1 / n, () => `new business got ${added.weight}, not 1/${n}`);
        checkSpread(
          [...p.allocations, { ...added, weight: 0 }],
          after.allocations.filter((a) => p.strategy === 'equal' || a.businessId !== 'new-business'),
          p.strategy === 'equal' ? 'equal' : 'proportional',
          'add',
        );
        check(after.version === p.version + 1, () => 'add bumps the version once');
        unchanged();
      }),
      RUNS,
    );
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(RUNS.numRuns);
  });

  it('remove keeps invariants 1-3: its weight goes back to the unlocked allocations', () => {
    let refused = 0;
    fc.assert(
      fc.property(scenarioArb, fc.nat(), (s, pick) => {
        const p = s.portfolio;
        const unchanged = snapshot(s);
        const gone = p.allocations[pick % p.allocations.length]!;
        const rest = p.allocations.filter((a) => a !== gone);
        const unlocked = rest.filter((a) => !a.locked);
        const mass = 1 - rest.filter((a) => a.locked).reduce((t, a) => t + a.weight, 0);
        const feasible =
          rest.length === 0 ||
          (mass >= -SLACK && (unlocked.length === 0 ? Math.abs(mass) <= SLACK : fits(unlocked, mass)));
        let after: Portfolio;
        try {
          after = removeBusiness(p, gone.businessId, T1);
        } catch (err) {
          expectRefusal(err, [RefusedError], 'remove');
          check(!feasible, () => `remove refused a feasible portfolio: ${String(err)}`);
          unchanged();
          refused++;
          return;
        }
        check(feasible, () => 'remove accepted bounds that cannot hold');
        checkWeights(after, 'remove');
        checkLockedKept(p.allocations, after.allocations, 'remove');
        check(
          after.allocations.map((a) => a.businessId).join() === rest.map((a) => a.businessId).join(),
          () => 'remove keeps the order of the others',
        );
        checkSpread(rest, after.allocations, p.strategy === 'equal' ? 'equal' : 'proportional', 'remove');
        unchanged();
      }),
      RUNS,
    );
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(RUNS.numRuns);
  });

  it('setAllocation keeps invariants 1-3: the others absorb the difference in proportion', () => {
    let refused = 0;
    fc.assert(
      fc.property(
        scenarioArb,
        fc.nat(),
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        fc.option(fc.boolean()),
        (s, pick, u, inside, lock) => {
          const p = s.portfolio;
          const unchanged = snapshot(s);
          const index = pick % p.allocations.length;
          const target = p.allocations[index]!;
          // Mostly a weight inside the allocation's own bounds, sometimes anything.
          const weight = inside ? lo(target) + (u / 1000) * (hi(target) - lo(target)) : u / 1000;
          const others = p.allocations.filter((_, i) => i !== index);
          const unlocked = others.filter((a) => !a.locked);
          const mass = 1 - others.filter((a) => a.locked).reduce((t, a) => t + a.weight, 0) - weight;
          const ownBounds = weight >= lo(target) && weight <= hi(target);
          let feasible: boolean;
          if (others.length === 0) feasible = Math.abs(weight - 1) <= SLACK;
          else if (weight === target.weight) feasible = true;
          else
            feasible =
              mass >= -SLACK && (unlocked.length === 0 ? Math.abs(mass) <= SLACK : fits(unlocked, mass));
          let after: Portfolio;
          try {
            after = setAllocation(p, target.businessId, { weight, locked: lock ?? undefined }, T1);
          } catch (err) {
            if (!ownBounds) expectRefusal(err, [ValidationError], 'set outside own bounds');
            else {
              expectRefusal(err, [RefusedError], 'set');
              check(!feasible, () => `set refused a feasible change: ${String(err)}`);
              refused++;
            }
            unchanged();
            return;
          }
          check(ownBounds, () => 'set accepted a weight outside the allocation bounds');
          check(feasible, () => 'set accepted bounds that cannot hold');
          const set = after.allocations[index]!;
          check(set.weight === weight, () => `set wrote ${set.weight}, not ${weight}`);
          check(set.locked === (lock ?? target.locked), () => 'set wrote the lock');
          checkWeights(after, 'set');
          checkLockedKept(
            others,
            after.allocations.filter((_, i) => i !== index),
            'set',
          );
          // An unchanged weight moves nothing else.
          const respread = weight !== target.weight;
          const afterOthers = after.allocations.filter((_, i) => i !== index);
          if (!respread)
            check(
              afterOthers.every((a, i) => a === others[i]),
              () => 'set moved the others',
            );
          checkSpread(others, afterOthers, 'proportional', 'set', respread);
          unchanged();
        },
      ),
      RUNS,
    );
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(RUNS.numRuns);
  });

  it('determinism: same inputs, same outputs, whatever the order of the metrics map', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const p = s.portfolio;
        const ids = p.allocations.map((a) => a.businessId);
        const shuffled = new Map<string, BusinessMetrics>();
        for (const i of s.order) {
          const m = s.metrics.get(ids[i]!);
          if (m) shuffled.set(ids[i]!, m);
        }
        const outcome = (metrics: ReadonlyMap<string, BusinessMetrics>) => {
          try {
            return JSON.stringify(
              runPortfolio({
                portfolio: p,
                metrics,
                runId: 'run-1',
                reportId: 'report-1',
                trigger: 'cron',
                now: T1,
                dryRun: false,
              }),
            );
          } catch (err) {
            return `refused: ${String(err)}`;
          }
        };
        const first = outcome(s.metrics);
        check(outcome(s.metrics) === first, () => 'a second run gave another outcome');
        check(outcome(shuffled) === first, () => 'reordering the metrics map changed the outcome');
      }),
      RUNS,
    );
  });

  it('a run report holds finite numbers only, whatever the magnitudes of the metrics', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        let report: Report;
        try {
          report = runPortfolio({
            portfolio: s.portfolio,
            metrics: s.metrics,
            runId: 'run-1',
            reportId: 'report-1',
            trigger: 'manual',
            now: T1,
            dryRun: true,
          }).report;
        } catch (err) {
          expectRefusal(err, [RefusedError], 'run');
          return;
        }
        checkFiniteNumbers(reportToWire(report), 'report');
      }),
      RUNS,
    );
  });

  it('the indexed drift-band rounds decide as the plain rounds do', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => indexedDecidesAsPlain(s, [0], true)),
      RUNS,
    );
  });

  it('the indexed drift-band rounds decide as the plain rounds do, with dominant and tiny scores', () => {
    // Before the fix the indexed rounds kept the unbounded scores' sum by subtraction: with the
    // dominant chain kept, what was left of it was its rounding error, not the tiny ones' sum,
    // and the tiny ones were kept where the plain rounds move them (about 2% of these cases).
    fc.assert(
      fc.property(bandChainArb, (s) => indexedDecidesAsPlain(s, [0, 1, undefined], false)),
      RUNS,
    );
  });

  it('ranking: ties broken by business id, independent of portfolio order; unranked last', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const p = s.portfolio;
        const ranking = rank(p, s.metrics);
        const reordered = rank({ ...p, allocations: s.order.map((i) => p.allocations[i]!) }, s.metrics);
        const ranked = ranking.filter((e) => e.rank !== null);
        check(ranking.length === p.allocations.length, () => 'every business is listed');
        check(
          ranked.length === p.allocations.filter((a) => s.metrics.has(a.businessId)).length,
          () => 'businesses with metrics are ranked, the others not',
        );
        check(
          ranking
            .slice(ranked.length)
            .every((e) => e.rank === null && e.score === null && e.revenue === null),
          () => 'unranked entries come last, with no numbers',
        );
        for (const [i, e] of ranked.entries()) {
          check(e.rank === i + 1, () => `rank ${e.rank} at position ${i}`);
          check(
            e.score !== null && e.score >= 0 && e.score <= 1 + 1e-12,
            () => `score ${e.score} outside [0,1]`,
          );
          const prev = ranked[i - 1];
          if (prev) {
            check(
              prev.score! > e.score! || (prev.score === e.score && prev.businessId < e.businessId),
              () => `${prev.businessId} (${prev.score}) before ${e.businessId} (${e.score})`,
            );
          }
        }
        check(
          JSON.stringify(reordered.filter((e) => e.rank !== null)) === JSON.stringify(ranked),
          () => 'the ranking depends on the portfolio order',
        );
      }),
      RUNS,
    );
  });
});

/**
 * recommend with the indexed drift-band rounds (after `plainRounds` plain ones; undefined: the
 * default) decides every action and weight as with plain rounds only.
 */
function indexedDecidesAsPlain(
  s: Scenario,
  plainRoundsList: readonly (number | undefined)[],
  checkInvariants: boolean,
): void {
  let plain: Recommendation;
  try {
    plain = recommend(s.portfolio, s.metrics, { plainRounds: Number.POSITIVE_INFINITY });
  } catch (err) {
    expectRefusal(err, [RefusedError], 'recommend');
    return;
  }
  for (const plainRounds of plainRoundsList) {
    const indexed = recommend(s.portfolio, s.metrics, plainRounds === undefined ? {} : { plainRounds });
    if (checkInvariants) checkRecommendation(s, indexed);
    for (const [i, a] of indexed.actions.entries()) {
      const b = plain.actions[i]!;
      check(
        a.action === b.action && Math.abs(a.recommendedWeight - b.recommendedWeight) <= 1e-9,
        () =>
          `plainRounds ${plainRounds}, ${a.businessId}: indexed ${a.action} ${a.recommendedWeight}, plain ${b.action} ${b.recommendedWeight}`,
      );
    }
  }
}
