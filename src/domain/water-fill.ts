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

export function waterFill(
  scores: ArrayLike<number>,
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
  requestedMass: number,
): FillResult {
  const n = scores.length;
  let sumLo = 0;
  let sumHi = 0;
  let sumScore = 0;
  for (let i = 0; i < n; i++) {
    sumLo += lo[i]!;
    sumHi += hi[i]!;
    sumScore += scores[i]!;
  }
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
    }
  }

  absorbRounding(weights, lo, hi, mass);
  return { ok: true, weights };
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
