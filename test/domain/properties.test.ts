/**
 * Property tests of SPEC section 1's invariants over random portfolios: every strategy, random
 * locks, random bounds (sometimes impossible to meet), missing metrics, drift 0..0.2, max
 * turnover sometimes set, 1..200 businesses.
 *
 * Seeded: FC_SEED=<n> replays a run; without it the seed is Date.now(). On failure fast-check
 * prints the seed, the path and the counterexample; every message below also names the seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Allocation,
  addBusiness,
  applyRecommendation,
  type BusinessMetrics,
  type Portfolio,
  type Recommendation,
  RefusedError,
  rank,
  recommend,
  removeBusiness,
  runPortfolio,
  STAGES,
  STRATEGIES,
  SUM_TOLERANCE,
  scoreContext,
  setAllocation,
  strategyScore,
  ValidationError,
} from '../../src/domain/index.js';

const SEED = readSeed(process.env['FC_SEED']);
const RUNS = { numRuns: 1000, seed: SEED } as const;
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
/** Waterfill's feasibility slack and the room allowed for float sums. */
const SLACK = 1e-9;

/** fast-check keeps 32 bits of a seed: so do we, so that the seed it prints and ours agree. */
function readSeed(raw: string | undefined): number {
  if (raw === undefined || raw === '') return Date.now() | 0;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return seed | 0;
}

/** A failed check: thrown inside a property so that fast-check shrinks and reports the seed. */
function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new Error(`${message()} (FC_SEED=${SEED})`);
}

// ---------------------------------------------------------------------------------------------
// Generators

/**
 * How a business's bounds are drawn. 'around' brackets the current weight (always holdable);
 * 'wild' is any [min, max] and may exclude the current weight, which is what makes recommend
 * infeasible; a portfolio's bounds mode sets how often each kind appears.
 */
interface BusinessSeed {
  readonly tag: number;
  readonly raw: number;
  readonly lockDraw: number;
  readonly boundsDraw: number;
  readonly below: number;
  readonly above: number;
  readonly wildA: number;
  readonly wildB: number;
  readonly minOnly: boolean;
  readonly target: number | null;
  readonly priority: number;
  readonly metrics: {
    readonly revenue: number;
    readonly profit: number;
    readonly growth: number;
    readonly health: number;
    readonly stage: (typeof STAGES)[number];
  } | null;
}

const metricsSeedArb = fc.oneof(
  // Wide ranges: negative revenue and profit included.
  fc.record({
    revenue: fc.integer({ min: -5000, max: 200_000 }),
    profit: fc.integer({ min: -80_000, max: 80_000 }),
    growth: fc.integer({ min: -60, max: 300 }),
    health: fc.integer({ min: 0, max: 100 }),
    stage: fc.constantFrom(...STAGES),
  }),
  // Tiny ranges: many ties, all-zero scores.
  fc.record({
    revenue: fc.integer({ min: -1, max: 2 }),
    profit: fc.integer({ min: -1, max: 1 }),
    growth: fc.integer({ min: -1, max: 1 }),
    health: fc.constantFrom(0, 50, 100),
    stage: fc.constantFrom('growth', 'mature'),
  }),
);

const businessSeedArb: fc.Arbitrary<BusinessSeed> = fc.record({
  tag: fc.integer({ min: 0, max: 999 }),
  raw: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(1)),
  lockDraw: fc.integer({ min: 0, max: 99 }),
  boundsDraw: fc.integer({ min: 0, max: 99 }),
  below: fc.integer({ min: 0, max: 300 }),
  above: fc.integer({ min: 0, max: 300 }),
  wildA: fc.integer({ min: 0, max: 100 }),
  wildB: fc.integer({ min: 0, max: 100 }),
  minOnly: fc.boolean(),
  target: fc.option(fc.integer({ min: 0, max: 100 }), { freq: 3 }),
  priority: fc.integer({ min: 1, max: 10 }),
  metrics: fc.option(metricsSeedArb, { freq: 6 }),
});

type BoundsMode = 'none' | 'around' | 'mixed' | 'wild';

interface Scenario {
  readonly portfolio: Portfolio;
  readonly metrics: ReadonlyMap<string, BusinessMetrics>;
  /** A permutation of 0..n-1 for reordering maps and allocations. */
  readonly order: readonly number[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    businesses: fc.array(businessSeedArb, { minLength: 1, maxLength: 200, size: 'max' }),
    strategy: fc.constantFrom(...STRATEGIES),
    lockRate: fc.constantFrom(0, 10, 30, 90),
    boundsMode: fc.oneof(
      { arbitrary: fc.constant<BoundsMode>('none'), weight: 3 },
      { arbitrary: fc.constant<BoundsMode>('around'), weight: 4 },
      { arbitrary: fc.constant<BoundsMode>('mixed'), weight: 2 },
      { arbitrary: fc.constant<BoundsMode>('wild'), weight: 1 },
    ),
    drift: fc.oneof(fc.constant(0), fc.constant(200), fc.integer({ min: 0, max: 200 })),
    maxTurnover: fc.option(fc.oneof(fc.constant(0), fc.constant(1000), fc.integer({ min: 0, max: 1000 })), {
      freq: 2,
    }),
    version: fc.integer({ min: 1, max: 50 }),
    sortKeys: fc.array(fc.integer(), { minLength: 200, maxLength: 200 }),
  })
  .map((g) => buildScenario(g));

function buildScenario(g: {
  businesses: BusinessSeed[];
  strategy: Portfolio['strategy'];
  lockRate: number;
  boundsMode: BoundsMode;
  drift: number;
  maxTurnover: number | null;
  version: number;
  sortKeys: number[];
}): Scenario {
  const seeds = g.businesses;
  let total = seeds.reduce((sum, b) => sum + b.raw, 0);
  const raws = seeds.map((b) => b.raw);
  if (total === 0) {
    raws[0] = 1;
    total = 1;
  }
  const metrics = new Map<string, BusinessMetrics>();
  const allocations: Allocation[] = seeds.map((b, i) => {
    // Unique ids whose sort order has nothing to do with the portfolio order.
    const businessId = `b${String(b.tag).padStart(3, '0')}-${i}`;
    const weight = raws[i]! / total;
    let minWeight: number | undefined;
    let maxWeight: number | undefined;
    const kind = boundsKind(g.boundsMode, b.boundsDraw);
    if (kind === 'around') {
      minWeight = Math.max(0, weight - b.below / 1000);
      maxWeight = b.minOnly ? undefined : Math.min(1, weight + b.above / 1000);
    } else if (kind === 'wild') {
      // Mixed: scaled to the business's fair share, so that some portfolios can hold them and
      // some not. Wild: anywhere in [0,1], which few portfolios can hold.
      const scale = (g.boundsMode === 'wild' ? 1 : Math.min(1, 2 / seeds.length)) / 100;
      minWeight = Math.min(b.wildA, b.wildB) * scale;
      maxWeight = b.minOnly ? undefined : Math.max(b.wildA, b.wildB) * scale;
    }
    if (b.metrics) {
      const m = b.metrics;
      metrics.set(businessId, {
        businessId,
        revenue: m.revenue,
        expenses: m.revenue - m.profit,
        profit: m.profit,
        margin: m.revenue > 0 ? (m.profit / m.revenue) * 100 : 0,
        customers: Math.max(0, m.revenue) % 97,
        growthRate: m.growth,
        healthScore: m.health,
        stage: m.stage,
      });
    }
    return {
      businessId,
      weight,
      priority: b.priority,
      locked: b.lockDraw < g.lockRate,
      minWeight,
      maxWeight,
      targetWeight: b.target === null ? undefined : b.target / 100,
    };
  });
  const order = allocations.map((_, i) => i).sort((x, y) => g.sortKeys[x]! - g.sortKeys[y]! || x - y);
  const portfolio: Portfolio = {
    id: 'prop-portfolio',
    name: 'Property portfolio',
    ownerId: 'owner-1',
    status: 'active',
    strategy: g.strategy,
    totalBudget: 100_000,
    targetRoi: 20,
    driftThreshold: g.drift / 1000,
    attentionHoursPerWeek: 40,
    maxTurnover: g.maxTurnover === null ? undefined : g.maxTurnover / 1000,
    allocations,
    version: g.version,
    createdAt: T0,
    updatedAt: T0,
  };
  return { portfolio, metrics, order };
}

function boundsKind(mode: BoundsMode, draw: number): 'none' | 'around' | 'wild' {
  switch (mode) {
    case 'none':
      return 'none';
    case 'around':
      return draw < 50 ? 'around' : 'none';
    case 'mixed':
      return draw < 40 ? 'around' : draw < 45 ? 'wild' : 'none';
    case 'wild':
      return draw < 60 ? 'wild' : 'none';
  }
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the properties

const lo = (a: Allocation) => a.minWeight ?? 0;
const hi = (a: Allocation) => a.maxWeight ?? 1;
const inBounds = (a: Allocation, w: number) => w >= lo(a) - SLACK && w <= hi(a) + SLACK;
const distanceToBounds = (a: Allocation, w: number) => Math.max(0, lo(a) - w, w - hi(a));

/** Invariant 1. */
function checkWeights(p: Portfolio, what: string): void {
  let sum = 0;
  for (const a of p.allocations) {
    check(
      Number.isFinite(a.weight) && a.weight >= 0 && a.weight <= 1,
      () => `${what}: ${a.businessId} has weight ${a.weight}`,
    );
    sum += a.weight;
  }
  if (p.allocations.length > 0) {
    check(Math.abs(sum - 1) <= SUM_TOLERANCE, () => `${what}: weights sum to ${sum}`);
  }
}

/** The input of a pure operation must come out as it went in, whether the operation succeeded or not. */
function snapshot(s: Scenario): () => void {
  const before = JSON.stringify(s.portfolio);
  return () => check(JSON.stringify(s.portfolio) === before, () => 'the input portfolio was modified');
}

/** Whether `mass` can be split over allocations within their bounds (waterfill's own slack). */
function fits(allocations: readonly Allocation[], mass: number): boolean {
  let sumLo = 0;
  let sumHi = 0;
  for (const a of allocations) {
    sumLo += lo(a);
    sumHi += hi(a);
  }
  return sumLo <= mass + SLACK && sumHi >= mass - SLACK;
}

/**
 * The respread of add/remove/set: unlocked allocations that are not held at a bound keep one
 * common ratio new/old (in proportion) or one common weight (equal).
 */
function checkSpread(
  before: readonly Allocation[],
  after: readonly Allocation[],
  mode: 'equal' | 'proportional',
  what: string,
  respread = true,
): void {
  const byId = new Map(before.map((a) => [a.businessId, a]));
  const scored: { id: string; weight: number; score: number }[] = [];
  for (const a of after) {
    const old = byId.get(a.businessId);
    if (!old || a.locked) continue;
    // Invariant 3 for every allocation a respread placed (without one, nothing else moved).
    check(
      !respread || inBounds(a, a.weight),
      () => `${what}: ${a.businessId} at ${a.weight} outside [${lo(a)}, ${hi(a)}]`,
    );
    if (a.weight <= lo(a) + 1e-12 || a.weight >= hi(a) - 1e-12) continue;
    const score = mode === 'equal' ? 1 : old.weight;
    if (score > 0) scored.push({ id: a.businessId, weight: a.weight, score });
  }
  checkProportional(scored, `${what} (${mode})`);
}

/**
 * Weights in proportion to scores: w = lambda * score for one lambda, taken from the heaviest
 * item; float residue (absorbed by one item) is allowed for.
 */
function checkProportional(
  items: readonly { id: string; weight: number; score: number }[],
  what: string,
): void {
  if (items.length < 2) return;
  let ref = items[0]!;
  for (const item of items) if (item.weight > ref.weight) ref = item;
  const lambda = ref.weight / ref.score;
  for (const item of items) {
    const expected = lambda * item.score;
    check(
      Math.abs(item.weight - expected) <= 1e-12 + 1e-9 * expected,
      () => `${what}: ${item.id} has ${item.weight}, ${expected} in proportion to its score ${item.score}`,
    );
  }
}

function checkLockedKept(before: readonly Allocation[], after: readonly Allocation[], what: string): void {
  const byId = new Map(after.map((a) => [a.businessId, a]));
  for (const a of before) {
    if (!a.locked) continue;
    const now = byId.get(a.businessId);
    check(
      now === undefined || JSON.stringify(now) === JSON.stringify(a),
      () => `${what}: locked ${a.businessId} changed from ${JSON.stringify(a)} to ${JSON.stringify(now)}`,
    );
  }
}

function expectRefusal(
  err: unknown,
  kinds: readonly (typeof RefusedError | typeof ValidationError)[],
  what: string,
) {
  check(
    kinds.some((kind) => err instanceof kind),
    () => `${what}: expected ${kinds.map((k) => k.name).join(' or ')}, got ${String(err)}`,
  );
}

/** Everything a recommendation must satisfy (invariants 1-3 plus the action contract). */
function checkRecommendation(s: Scenario, rec: Recommendation): void {
  const p = s.portfolio;
  check(rec.actions.length === p.allocations.length, () => 'one action per business');
  let sum = 0;
  let moved = 0;
  // The scenario's metrics are all for businesses of the portfolio, as the runtime's are.
  const ctx = scoreContext(s.metrics.values());
  const scored: { id: string; weight: number; score: number }[] = [];
  const equalShares: { id: string; weight: number }[] = [];
  for (const [i, a] of p.allocations.entries()) {
    const action = rec.actions[i]!;
    const c = a.weight;
    const w = action.recommendedWeight;
    const id = a.businessId;
    check(action.businessId === id, () => `action ${i} is for ${action.businessId}, not ${id}`);
    check(action.currentWeight === c, () => `${id}: current weight ${action.currentWeight} is not ${c}`);
    check(Number.isFinite(w) && w >= 0 && w <= 1, () => `${id}: recommended ${w}`);
    check(
      action.reason.length > 0 && !/NaN|Infinity|undefined/.test(action.reason),
      () => `${id}: reason "${action.reason}"`,
    );
    sum += w;
    moved += Math.abs(w - c);
    const m = s.metrics.get(id);
    // Invariant 2: locked and metric-less allocations keep their weight, flagged as such.
    if (a.locked) {
      check(action.action === 'locked' && w === c, () => `${id}: locked but ${action.action} ${c} -> ${w}`);
      continue;
    }
    if (!m) {
      check(
        action.action === 'no-metrics' && w === c,
        () => `${id}: no metrics but ${action.action} ${c} -> ${w}`,
      );
      continue;
    }
    switch (action.action) {
      case 'maintain':
        check(w === c, () => `${id}: maintain moved ${c} -> ${w}`);
        break;
      case 'increase':
        check(w > c, () => `${id}: increase ${c} -> ${w}`);
        break;
      case 'decrease':
        check(w < c, () => `${id}: decrease ${c} -> ${w}`);
        break;
      default:
        check(false, () => `${id}: action ${action.action} for an unlocked business with metrics`);
    }
    // Invariant 3: bounds hold, except that max_turnover may stop a move from outside the
    // bounds short of them; then it must at least not move away.
    if (rec.turnoverScale === null || inBounds(a, c)) {
      check(inBounds(a, w), () => `${id}: ${w} outside [${lo(a)}, ${hi(a)}] (was ${c})`);
    } else {
      check(
        distanceToBounds(a, w) <= distanceToBounds(a, c) + SLACK,
        () => `${id}: moved away from its bounds`,
      );
    }
    // The split is in proportion to the strategy's scores among the movers that no bound holds.
    if (rec.turnoverScale === null && (action.action === 'increase' || action.action === 'decrease')) {
      if (w > lo(a) + 1e-12 && w < hi(a) - 1e-12) {
        const score = strategyScore(p.strategy, a, m, ctx);
        if (score > 0) scored.push({ id, weight: w, score });
        else equalShares.push({ id, weight: w });
      }
    }
  }
  if (p.allocations.length > 0)
    check(Math.abs(sum - 1) <= SUM_TOLERANCE, () => `recommended weights sum to ${sum}`);
  check(Math.abs(rec.turnover - moved / 2) <= 1e-12, () => `turnover ${rec.turnover} is not ${moved / 2}`);
  if (p.maxTurnover !== undefined) {
    check(rec.turnover <= p.maxTurnover + SLACK, () => `turnover ${rec.turnover} above max ${p.maxTurnover}`);
  }
  check(scored.length === 0 || equalShares.length === 0, () => 'score and equal splits mixed among movers');
  checkProportional(scored, 'recommend');
  for (const e of equalShares) {
    const ref = equalShares[0]!.weight;
    check(Math.abs(e.weight - ref) <= 1e-12, () => `${e.id}: equal share ${e.weight} vs ${ref}`);
  }
}

/** Feasibility as SPEC invariant 3 states it: recommend refuses only when bounds cannot hold. */
function recommendFeasible(s: Scenario): boolean {
  let fixed = 0;
  const movers: Allocation[] = [];
  for (const a of s.portfolio.allocations) {
    if (a.locked || !s.metrics.has(a.businessId)) fixed += a.weight;
    else movers.push(a);
  }
  return movers.length === 0 || fits(movers, Math.max(0, 1 - fixed));
}

const RUN = { runId: 'run-prop', reportId: 'report-prop', at: T1 };

// ---------------------------------------------------------------------------------------------

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
        check(after.version === s.portfolio.version + 1, () => 'apply bumps the version once');
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
