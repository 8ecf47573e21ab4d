import { RefusedError } from './errors.js';
import { pct } from './format.js';
import type { Allocation } from './model.js';
import { waterFill } from './water-fill.js';

export type SpreadMode = 'equal' | 'proportional';

/**
 * Give `mass` to the allocations at `indices` (equally, or in proportion to their current
 * weights), within each one's bounds. Returns a copy of `allocations` with the new weights, or
 * throws a RefusedError that says which bound or lock is in the way.
 */
export function spread(
  allocations: readonly Allocation[],
  indices: readonly number[],
  mass: number,
  mode: SpreadMode,
  context: string,
): Allocation[] {
  const k = indices.length;
  const out = allocations.slice();
  if (mass < -1e-9) {
    throw new RefusedError(
      `${context}: locked allocations and the requested weight already take ${pct(1 - mass)}, more than 100%; unlock an allocation or ask for less`,
    );
  }
  if (k === 0) {
    if (Math.abs(mass) > 1e-9) {
      throw new RefusedError(
        `${context}: no unlocked allocation can take the remaining ${pct(mass)}; unlock an allocation first`,
      );
    }
    return out;
  }
  if (mode === 'proportional' && alreadySpread(allocations, indices, mass)) return out;
  const scores = new Float64Array(k);
  const lo = new Float64Array(k);
  const hi = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const a = allocations[indices[j]!]!;
    scores[j] = mode === 'equal' ? 1 : a.weight;
    lo[j] = a.minWeight ?? 0;
    hi[j] = a.maxWeight ?? 1;
  }
  const result = waterFill(scores, lo, hi, mass);
  if (!result.ok) {
    const why =
      result.problem === 'min-too-high'
        ? `the minimum weights of the unlocked allocations add up to ${pct(result.sumLo)}, more than the ${pct(mass)} left for them`
        : `the maximum weights of the unlocked allocations add up to ${pct(result.sumHi)}, less than the ${pct(mass)} left for them`;
    throw new RefusedError(`${context}: ${why}; change the bounds or unlock an allocation`);
  }
  for (let j = 0; j < k; j++) {
    const i = indices[j]!;
    const a = allocations[i]!;
    const weight = result.weights[j]!;
    // An allocation whose weight does not change is kept as it is, not copied.
    out[i] = weight === a.weight ? a : withWeight(a, weight);
  }
  return out;
}

/**
 * In proportion, a mass equal to the weights the allocations already hold (within their bounds)
 * leaves every one where it is: nothing to move, nothing to copy (an add with weight 0, say).
 */
function alreadySpread(
  allocations: readonly Allocation[],
  indices: readonly number[],
  mass: number,
): boolean {
  let total = 0;
  for (let j = 0; j < indices.length; j++) {
    const a = allocations[indices[j]!]!;
    if (a.weight < (a.minWeight ?? 0) || a.weight > (a.maxWeight ?? 1)) return false;
    total += a.weight;
  }
  return total === mass;
}

/**
 * The allocation with another weight. Written out rather than `{ ...a, weight }`: a re-spread
 * copies every unlocked allocation, and object spread was 80% of an add at 10,000 businesses.
 * Every copy has the same shape, which keeps the next copy fast too.
 */
export function withWeight(a: Allocation, weight: number): Allocation {
  return {
    businessId: a.businessId,
    weight,
    priority: a.priority,
    locked: a.locked,
    minWeight: a.minWeight,
    maxWeight: a.maxWeight,
    targetWeight: a.targetWeight,
  };
}

export function sumWeights(allocations: readonly Allocation[], pick: (a: Allocation) => boolean): number {
  let total = 0;
  for (const a of allocations) if (pick(a)) total += a.weight;
  return total;
}
