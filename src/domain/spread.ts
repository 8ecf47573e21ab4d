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
    out[i] = { ...allocations[i]!, weight: result.weights[j]! };
  }
  return out;
}

export function sumWeights(allocations: readonly Allocation[], pick: (a: Allocation) => boolean): number {
  let total = 0;
  for (const a of allocations) if (pick(a)) total += a.weight;
  return total;
}
