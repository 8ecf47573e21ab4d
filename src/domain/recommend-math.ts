/**
 * The recommendation's arithmetic helpers: sums over index sets, the float residue absorbed so that
 * weights sum to 1, the in-order metrics lookup, and the refusals' messages (recommend.ts).
 */
import { RefusedError, ValidationError } from './errors.js';
import { pct } from './format.js';
import type { Allocation, BusinessMetrics, Portfolio } from './model.js';

/** recommend.ts's state column: an allocation the strategy may move, */
export const MOVABLE = 0;
/** one the operator locked, one without metrics this run, one the drift band keeps. */
export const LOCKED = 1;
export const NO_METRICS = 2;
export const MAINTAINED = 3;

export function sumOver(indices: Int32Array, values: Float64Array): number {
  let total = 0;
  for (let j = 0; j < indices.length; j++) total += values[indices[j]!]!;
  return total;
}

/**
 * The movers absorb the float residue so that the whole portfolio sums to 1 (or stays as it
 * was): like absorbRounding over the allocations that moved, without copying them out.
 */
export function keepSumExact(
  next: Float64Array,
  state: Uint8Array,
  lo: Float64Array,
  hi: Float64Array,
  current: Float64Array,
): void {
  const n = next.length;
  let before = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    before += current[i]!;
    total += next[i]!;
  }
  const target = n > 0 && Math.abs(before - 1) <= 1e-6 ? 1 : before;
  const residue = target - total;
  if (residue === 0) return;
  let best = -1;
  let bestRoom = 0;
  for (let i = 0; i < n; i++) {
    if (state[i] !== MOVABLE || next[i] === current[i]) continue;
    const room = residue > 0 ? hi[i]! - next[i]! : next[i]! - lo[i]!;
    if (room > bestRoom) {
      bestRoom = room;
      best = i;
    }
  }
  if (best >= 0)
    next[best] = next[best]! + (residue > 0 ? Math.min(residue, bestRoom) : -Math.min(-residue, bestRoom));
}

/**
 * Map.get on 100,000 string keys costs a cache miss each. Metrics are usually fetched, and so
 * inserted, in portfolio order: walk the map's entries alongside the allocations and fall back
 * to get() for any business that is not next in line. Same answers as get(), whatever the order.
 */
export class InOrderLookup<V> {
  readonly #map: ReadonlyMap<string, V>;
  readonly #entries: Iterator<[string, V]>;
  #cursor: IteratorResult<[string, V]>;

  constructor(map: ReadonlyMap<string, V>) {
    this.#map = map;
    this.#entries = map.entries();
    this.#cursor = this.#entries.next();
  }

  get(key: string): V | undefined {
    const cursor = this.#cursor;
    if (cursor.done !== true && cursor.value[0] === key) {
      this.#cursor = this.#entries.next();
      return cursor.value[1];
    }
    return this.#map.get(key);
  }
}

export function badScore(
  portfolio: Portfolio,
  a: Allocation,
  m: BusinessMetrics,
  score: number,
): ValidationError {
  const figures = `revenue ${m.revenue}, profit ${m.profit}, growth_rate ${m.growthRate}, health_score ${m.healthScore}, target_weight ${a.targetWeight}`;
  return new ValidationError(
    `cannot rebalance portfolio ${portfolio.id}: the ${portfolio.strategy} score of business ${a.businessId} is ${score} (${figures}); metrics must be finite numbers`,
  );
}

export function infeasible(
  portfolio: Portfolio,
  problem: 'min-too-high' | 'max-too-low',
  sumLo: number,
  sumHi: number,
  mass: number,
): RefusedError {
  const why =
    problem === 'min-too-high'
      ? `the minimum weights of the allocations that can move add up to ${pct(sumLo)}, but only ${pct(mass)} is free after locked and metric-less allocations`
      : `the maximum weights of the allocations that can move add up to ${pct(sumHi)}, but ${pct(mass)} must be placed after locked and metric-less allocations`;
  return new RefusedError(
    `cannot rebalance portfolio ${portfolio.id}: ${why}; change the bounds or unlock an allocation`,
  );
}
