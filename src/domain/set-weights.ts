/**
 * Several weights set at once (`portfolio set-allocations PID a=0.3 b=0.2`): one version, the
 * other unlocked allocations re-spread once, in proportion, to absorb the difference. Setting them
 * one at a time would move the others after each, and the last set would undo the first.
 */
import { NotFoundError, RefusedError, ValidationError } from './errors.js';
import { pct } from './format.js';
import type { Portfolio } from './model.js';
import { touch } from './portfolio-ops.js';
import { spread, sumWeights } from './spread.js';
import { assertFraction, assertId } from './validate.js';

/** `weights`: business id -> its new weight. Given allocations keep their lock; bounds hold. */
export function setWeights(p: Portfolio, weights: ReadonlyMap<string, number>, now: string): Portfolio {
  if (weights.size === 0) throw new ValidationError('no weights given: give at least one BUSINESS=WEIGHT');
  const position = new Map(p.allocations.map((a, i) => [a.businessId, i]));
  const allocations = p.allocations.slice();
  for (const [businessId, raw] of weights) {
    assertId('business id', businessId);
    const i = position.get(businessId);
    if (i === undefined) throw new NotFoundError(`business ${businessId} is not in portfolio ${p.id}`);
    const weight = assertFraction(`weight of ${businessId}`, raw);
    const a = allocations[i]!;
    const min = a.minWeight ?? 0;
    const max = a.maxWeight ?? 1;
    if (weight < min || weight > max) {
      throw new ValidationError(
        `weight ${weight} of ${businessId} is outside its bounds [${min}, ${max}]; change the bounds first`,
      );
    }
    allocations[i] = { ...a, weight };
  }
  const given = sumWeights(allocations, (a) => weights.has(a.businessId));
  const lockedOthers = sumWeights(allocations, (a) => a.locked && !weights.has(a.businessId));
  const others: number[] = [];
  allocations.forEach((a, i) => {
    if (!a.locked && !weights.has(a.businessId)) others.push(i);
  });
  const rest = 1 - given - lockedOthers;
  if (others.length === 0) {
    if (Math.abs(rest) > 1e-9) {
      throw new RefusedError(
        `the weights given and the locked ones add up to ${pct(given + lockedOthers)}, not 100%, and no other unlocked allocation can absorb the difference`,
      );
    }
    return touch({ ...p, allocations }, now);
  }
  const context = `cannot set ${[...weights.keys()].join(', ')} to ${pct(given)} together`;
  return touch({ ...p, allocations: spread(allocations, others, rest, 'proportional', context) }, now);
}
