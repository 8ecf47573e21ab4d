/** Checks shared by the property tests: each throws (through `check`) so that fast-check shrinks. */
import {
  type Allocation,
  type Portfolio,
  type Recommendation,
  type RefusedError,
  SUM_TOLERANCE,
  scoreContext,
  strategyScore,
  type ValidationError,
} from '../../src/domain/index.js';
import type { Scenario } from './scenarios.js';

export const SEED = readSeed(process.env['FC_SEED']);
export const RUNS = { numRuns: 1000, seed: SEED } as const;
/** Waterfill's feasibility slack and the room allowed for float sums. */
export const SLACK = 1e-9;

/** fast-check keeps 32 bits of a seed: so do we, so that the seed it prints and ours agree. */
export function readSeed(raw: string | undefined): number {
  if (raw === undefined || raw === '') return Date.now() | 0;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return seed | 0;
}

/** A failed check: thrown inside a property so that fast-check shrinks and reports the seed. */
export function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new Error(`${message()} (FC_SEED=${SEED})`);
}

export const lo = (a: Allocation) => a.minWeight ?? 0;
export const hi = (a: Allocation) => a.maxWeight ?? 1;
export const inBounds = (a: Allocation, w: number) => w >= lo(a) - SLACK && w <= hi(a) + SLACK;
export const distanceToBounds = (a: Allocation, w: number) => Math.max(0, lo(a) - w, w - hi(a));

/** Invariant 1. */
export function checkWeights(p: Portfolio, what: string): void {
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
export function snapshot(s: Scenario): () => void {
  const before = JSON.stringify(s.portfolio);
  return () => check(JSON.stringify(s.portfolio) === before, () => 'the input portfolio was modified');
}

/** Whether `mass` can be split over allocations within their bounds (waterfill's own slack). */
export function fits(allocations: readonly Allocation[], mass: number): boolean {
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
export function checkSpread(
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
export function checkProportional(
  items: readonly { id: string; weight: number; score: number }[],
  what: string,
): void {
  if (items.length < 2) return;
  let ref = items[0]!;
  for (const item of items) if (item.weight > ref.weight) ref = item;
  for (const item of items) {
    // A ratio of scores, not weight / score: scores may be 1e15 or 1e-310.
    const expected = ref.weight * (item.score / ref.score);
    check(
      Math.abs(item.weight - expected) <= 1e-12 + 1e-9 * expected,
      () => `${what}: ${item.id} has ${item.weight}, ${expected} in proportion to its score ${item.score}`,
    );
  }
}

export function checkLockedKept(
  before: readonly Allocation[],
  after: readonly Allocation[],
  what: string,
): void {
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

export function expectRefusal(
  err: unknown,
  kinds: readonly (typeof RefusedError | typeof ValidationError)[],
  what: string,
) {
  check(
    kinds.some((kind) => err instanceof kind),
    () => `${what}: expected ${kinds.map((k) => k.name).join(' or ')}, got ${String(err)}`,
  );
}

/**
 * Everything a recommendation must satisfy (invariants 1-3 plus the action contract). `proportional`
 * false skips the check that the movers split in proportion to their scores (min_trade scales one
 * side of the moves, so it no longer holds).
 */
export function checkRecommendation(s: Scenario, rec: Recommendation, proportional = true): void {
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
    if (
      proportional &&
      rec.turnoverScale === null &&
      (action.action === 'increase' || action.action === 'decrease')
    ) {
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
export function recommendFeasible(s: Scenario): boolean {
  let fixed = 0;
  const movers: Allocation[] = [];
  for (const a of s.portfolio.allocations) {
    if (a.locked || !s.metrics.has(a.businessId)) fixed += a.weight;
    else movers.push(a);
  }
  return movers.length === 0 || fits(movers, Math.max(0, 1 - fixed));
}

/** Every number in a (wire) value is finite: JSON would write NaN and Infinity as null. */
export function checkFiniteNumbers(value: unknown, path: string): void {
  if (typeof value === 'number') {
    check(Number.isFinite(value), () => `${path} is ${value}`);
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) checkFiniteNumbers(item, `${path}[${i}]`);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) checkFiniteNumbers(item, `${path}.${key}`);
  }
}
