import { InvariantError } from './errors.js';

/**
 * Split `mass` over items in proportion to their scores, each kept within [lo, hi]:
 * w_i = clamp(lambda * s_i, lo_i, hi_i) with sum(w) = mass. When every score is 0 the split is
 * equal. The solver pins violators in rounds (the classic capped-simplex projection): if the
 * clamped total overshoots, lambda must fall, so items clamped at their minimum stay there;
 * otherwise items clamped at their maximum stay there. Each round pins at least one item;
 * without bounds there is a single round.
 */
export type FillResult =
  | { readonly ok: true; readonly weights: Float64Array }
  | {
      readonly ok: false;
      readonly problem: 'min-too-high' | 'max-too-low';
      readonly sumLo: number;
      readonly sumHi: number;
    };

const FEASIBILITY_SLACK = 1e-9;

/**
 * Only the ratios of scores matter, but lambda = mass / sum(scores) must stay finite: scores
 * near 1e308 sum to Infinity, and a sum near 1e-310 (subnormal) has an infinite inverse; either
 * way the weights became NaN. So the scores are brought into this range first, and the free
 * ones again whenever pinning leaves only tiny ones free. Scaling is by powers of two, which is
 * exact: the weights are the same as without it. Most splits never need the copy.
 */
const SAFE_SCORE_MIN = 2 ** -500;
const SAFE_SCORE_MAX = 2 ** 500;

export function waterFill(
  rawScores: ArrayLike<number>,
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
  requestedMass: number,
): FillResult {
  const n = rawScores.length;
  let sumLo = 0;
  let sumHi = 0;
  let maxScore = 0;
  for (let i = 0; i < n; i++) {
    sumLo += lo[i]!;
    sumHi += hi[i]!;
    const s = rawScores[i]!;
    if (!(s >= 0 && s <= Number.MAX_VALUE)) throw new InvariantError(`water-fill score ${s} at ${i}`);
    if (s > maxScore) maxScore = s;
  }
  let scores: ArrayLike<number> = rawScores;
  let scaled: Float64Array | undefined;
  /** Multiplies the scores of the free items (all of them before any is pinned) by 2^exponent. */
  const rescale = (exponent: number, pinned: Uint8Array | undefined) => {
    if (!scaled) {
      scaled = Float64Array.from(rawScores);
      scores = scaled;
    }
    for (let i = 0; i < n; i++) if (!pinned?.[i]) scaled[i] = timesPowerOfTwo(scaled[i]!, exponent);
  };
  if (maxScore > 0 && (maxScore < SAFE_SCORE_MIN || maxScore > SAFE_SCORE_MAX)) {
    rescale(-binaryExponent(maxScore), undefined);
  }
  let sumScore = 0;
  for (let i = 0; i < n; i++) sumScore += scores[i]!;
  if (sumLo > requestedMass + FEASIBILITY_SLACK) return { ok: false, problem: 'min-too-high', sumLo, sumHi };
  if (sumHi < requestedMass - FEASIBILITY_SLACK) return { ok: false, problem: 'max-too-low', sumLo, sumHi };
  const mass = Math.min(Math.max(requestedMass, sumLo), sumHi);

  const weights = new Float64Array(n);
  if (n === 0) return { ok: true, weights };

  // Items bounded by [0, 1] (most of them) can only pass their upper bound, and only where
  // lambda * score > 1: they are tracked as a score sum, a count and the largest score, and the
  // rounds visit the other items alone. When one of them could violate, every free item is
  // watched from then on (the plain algorithm). Each round is O(watched).
  let watched = new Int32Array(n);
  let watchedCount = 0;
  let openScore = 0;
  let openCount = 0;
  let openMax = 0;
  for (let i = 0; i < n; i++) {
    if (lo[i]! > 0 || hi[i]! < 1) {
      watched[watchedCount++] = i;
    } else {
      const s = scores[i]!;
      openScore += s;
      openCount++;
      if (s > openMax) openMax = s;
    }
  }

  const pinned = new Uint8Array(n);
  let freeMass = mass;
  let freeScore = sumScore;
  let freeCount = n;
  // With no positive score anywhere the split is equal: every item behaves as score 1.
  let uniform = !(sumScore > 0);

  while (freeCount > 0) {
    if (!uniform && !(freeScore > 0)) uniform = true;
    const lambda = freeMass / (uniform ? freeCount : freeScore);
    if (openCount > 0 && !(lambda >= 0 && lambda * (uniform ? 1 : openMax) <= 1)) {
      // An unwatched item could leave [0, 1] at this lambda: watch every free item.
      watched = new Int32Array(freeCount);
      watchedCount = 0;
      for (let i = 0; i < n; i++) if (!pinned[i]) watched[watchedCount++] = i;
      openCount = 0;
      openScore = 0;
      continue;
    }
    let clampedSum = lambda * (uniform ? openCount : openScore);
    let lowViolators = 0;
    let highViolators = 0;
    for (let j = 0; j < watchedCount; j++) {
      const i = watched[j]!;
      if (pinned[i]) continue;
      const v = lambda * (uniform ? 1 : scores[i]!);
      if (v < lo[i]!) {
        lowViolators++;
        clampedSum += lo[i]!;
      } else if (v > hi[i]!) {
        highViolators++;
        clampedSum += hi[i]!;
      } else {
        clampedSum += v;
      }
    }
    if (lowViolators === 0 && highViolators === 0) {
      for (let i = 0; i < n; i++) if (!pinned[i]) weights[i] = lambda * (uniform ? 1 : scores[i]!);
      break;
    }
    // With violators on one side only, the exact sums always point to that side; rounding in
    // clampedSum must not point the other way, or no item is pinned and the loop never ends.
    const pinLow = clampedSum >= freeMass || highViolators === 0;
    const pinHigh = clampedSum <= freeMass || lowViolators === 0;
    for (let j = 0; j < watchedCount; j++) {
      const i = watched[j]!;
      if (pinned[i]) continue;
      const v = lambda * (uniform ? 1 : scores[i]!);
      let value: number | undefined;
      if (pinLow && v < lo[i]!) value = lo[i]!;
      else if (pinHigh && v > hi[i]!) value = hi[i]!;
      if (value === undefined) continue;
      weights[i] = value;
      pinned[i] = 1;
      freeCount--;
      freeMass -= value;
    }
    // Summed again rather than decremented: a residue such as 1e-19 left by subtraction would
    // hide that only zero scores are left (then the split must become equal).
    if (!uniform) {
      freeScore = openCount > 0 ? openScore : 0;
      for (let j = 0; j < watchedCount; j++) {
        const i = watched[j]!;
        if (!pinned[i]) freeScore += scores[i]!;
      }
      if (freeScore > 0 && freeScore < SAFE_SCORE_MIN) {
        const exponent = -binaryExponent(freeScore);
        rescale(exponent, pinned);
        freeScore = timesPowerOfTwo(freeScore, exponent);
        openScore = timesPowerOfTwo(openScore, exponent);
        openMax = timesPowerOfTwo(openMax, exponent);
      }
    }
  }

  absorbRounding(weights, lo, hi, mass);
  return { ok: true, weights };
}

/** floor(log2(x)) for x > 0, give or take one: enough to bring x near 1. */
export function binaryExponent(x: number): number {
  return Math.floor(Math.log2(x));
}

/** x * 2^exponent in steps that cannot overflow on the way (2^1074 is not a double). */
export function timesPowerOfTwo(x: number, exponent: number): number {
  let value = x;
  let rest = exponent;
  while (rest > 1000) {
    value *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    value *= 2 ** -1000;
    rest += 1000;
  }
  return value * 2 ** rest;
}

/** Floating-point sums drift by ~1e-16 per term; give the residue to the item with most room. */
export function absorbRounding(
  weights: Float64Array,
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
  mass: number,
): void {
  const n = weights.length;
  if (n === 0) return;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i]!;
  const residue = mass - total;
  if (residue === 0) return;
  let best = -1;
  let bestRoom = 0;
  for (let i = 0; i < n; i++) {
    const room = residue > 0 ? hi[i]! - weights[i]! : weights[i]! - lo[i]!;
    if (room > bestRoom) {
      bestRoom = room;
      best = i;
    }
  }
  if (best >= 0)
    weights[best] =
      weights[best]! + (residue > 0 ? Math.min(residue, bestRoom) : -Math.min(-residue, bestRoom));
}
