/**
 * recommend's drift-band rounds for portfolios that need many of them. A round splits the mass
 * left over the allocations still moving, keeps those whose target falls within the band, and
 * goes again "until nothing more falls inside the band" (SPEC). Real portfolios settle in 2-3
 * rounds, but currents can be chained so that each round keeps one more allocation: n rounds
 * of an O(n) split. This does the same rounds, with the same decisions, in O(n log n) overall
 * when the allocations still moving have no bounds, plus O(W) per round for W bounded ones.
 *
 * Without bounds a target is lambda * score, with one lambda for the round. So an allocation is
 * in the band for an interval of lambdas, [(c - band) / s, (c + band) / s], and a round's
 * in-band allocations are the intervals that contain its lambda: a stabbing query on a tree of
 * intervals sorted by start, each allocation removed once. A relative band (drift_type relative,
 * |t - c| <= band + r * t) is an interval too: [(c - band) / (s (1 + r)), (c + band) / (s (1 - r))],
 * open above when r >= 1. Bounded allocations are split by the water-fill with every unbounded
 * allocation standing as one item of their summed score (no unbounded allocation can reach a
 * bound: its target is at most the free mass, at most 1).
 *
 * Not handled here (the caller keeps doing plain rounds, O(n) each): unbounded allocations with
 * zero scores beside bounded ones with positive scores, whose share depends on which bounded
 * allocations are pinned. Adversarial portfolios of that kind, or with most allocations bounded,
 * stay O(n) per round.
 */
import { binaryExponent, timesPowerOfTwo, waterFill } from './water-fill.js';

export interface BandInput {
  /** Global indices of the allocations still moving, in portfolio order. */
  readonly active: Int32Array;
  /** The mass they share: the sum of their current weights. */
  readonly mass: number;
  readonly scores: Float64Array;
  readonly current: Float64Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** The absolute part of the band: the drift threshold (or 0) plus the caller's rounding allowance. */
  readonly band: number;
  /**
   * The relative part (drift_type relative): a target t keeps an allocation at c when
   * |t - c| <= band + relative * t. 0 for an absolute band.
   */
  readonly relative?: number;
}

export interface BandResult {
  /** Global indices kept at their current weight. */
  readonly kept: readonly number[];
  /** The target each of `kept` had in the round that kept it (for the reasons). */
  readonly keptTargets: readonly number[];
  /** Still moving, in portfolio order. */
  readonly active: Int32Array;
  readonly mass: number;
}

/**
 * The one in-band rule (the plain rounds of recommend-band.ts use it too): an allocation whose
 * target `t` is within `band + relative * t` of its current weight `c`, and whose current weight is
 * within its bounds (one outside them must move), is kept where it is.
 */
export function keptInBand(
  t: number,
  c: number,
  band: number,
  relative: number,
  lo: number,
  hi: number,
): boolean {
  return Math.abs(t - c) <= band + relative * t && c >= lo && c <= hi;
}

const FEASIBILITY_SLACK = 1e-9;
/** Below this sum the unbounded scores are scaled again (lambda <= mass / sum stays finite). */
const SAFE_OPEN_SCORE = 2 ** -500;
/** Summed again when the unbounded scores left fall below this part of their last recount. */
const RECOUNT_DROP = 2 ** -24;

export function settleBand(input: BandInput): BandResult {
  const { scores, current, lo, hi, band } = input;
  const relative = input.relative ?? 0;
  const kept: number[] = [];
  const keptTargets: number[] = [];
  const open: number[] = [];
  let bounded: number[] = [];
  let positive = 0;
  let boundedMax = 0;
  for (const i of input.active) {
    const s = scores[i]!;
    if (lo[i] === 0 && hi[i] === 1) open.push(i);
    else {
      bounded.push(i);
      if (s > boundedMax) boundedMax = s;
    }
    if (s > 0) positive++;
  }
  // Scores are scaled by powers of two (exact): the unbounded ones so that their largest is
  // near 1 and lambda = mass / (their sum) stays finite; for the water-fill, the bounded ones
  // and the unbounded ones' sum so that the larger of the two is near 1. With only zero scores
  // left, the split is equal: every score counts 1.
  let uniform = positive === 0;
  let openExponent = 0;
  let commonExponent = 0;
  const openEffective = (i: number) => (uniform ? 1 : timesPowerOfTwo(scores[i]!, openExponent));
  const boundedEffective = (i: number) => (uniform ? 1 : timesPowerOfTwo(scores[i]!, commonExponent));

  let mass = input.mass;
  let openCount = open.length;
  const removed = new Uint8Array(open.length);
  let openScore = 0;
  // The rounding error of every subtraction since the last recount (Neumaier): removing one
  // dominant score must leave the sum of the small ones, not the dominant one's rounding error.
  let openError = 0;
  let openPositive = 0;
  let index: IntervalIndex | undefined;
  let recountAt = 0;
  let recountScore = 0;
  // The sum of the scores left, as a fresh sum would give it.
  const openTotal = () => openScore + openError;
  // A sum kept up by subtraction drifts even so: summed again whenever the open set halves
  // (O(n) in all), and whenever it falls below 2^-24 of what it was at the last recount, where
  // the compensation's own error (2^-106 of that) would start to show. Scores span 2^-1074 to
  // 2^1024, so that happens fewer than 100 times however adversarial they are. The mass is
  // kept by subtraction, as the plain rounds keep it.
  const recount = () => {
    openScore = 0;
    openError = 0;
    openPositive = 0;
    for (let k = 0; k < open.length; k++) {
      if (removed[k]) continue;
      const e = openEffective(open[k]!);
      openScore += e;
      if (e > 0) openPositive++;
    }
    recountAt = openCount >> 1;
    recountScore = openScore;
  };
  const subtract = (e: number) => {
    const t = openScore - e;
    openError += Math.abs(openScore) >= e ? openScore - t - e : openScore - (t + e);
    openScore = t;
  };
  // Also when the unbounded scores left are all tiny next to the ones kept: a new scale. A
  // score range of 2^-1074..2^1024 allows few of those.
  const rebuild = () => {
    let openMax = 0;
    for (let k = 0; k < open.length; k++) if (!removed[k]) openMax = Math.max(openMax, scores[open[k]!]!);
    openExponent = openMax > 0 ? -binaryExponent(openMax) : 0;
    index = new IntervalIndex(open, removed, openEffective, current, band, relative);
    recount();
    // log2 of the unbounded scores' sum on their own scale, and of the largest bounded score.
    const top = Math.max(
      openScore > 0 ? binaryExponent(openScore) - openExponent : Number.NEGATIVE_INFINITY,
      boundedMax > 0 ? binaryExponent(boundedMax) : Number.NEGATIVE_INFINITY,
    );
    commonExponent = Number.isFinite(top) ? -top : 0;
  };
  rebuild();

  while (openCount + bounded.length > 0) {
    if (!uniform && positive === 0) {
      // Only zero scores left: the split becomes equal, and so do the intervals.
      uniform = true;
      rebuild();
    }
    if (openCount <= recountAt || openTotal() < recountScore * RECOUNT_DROP) recount();
    if (!uniform && openCount > 0 && openTotal() < SAFE_OPEN_SCORE) rebuild();
    if (!uniform && openCount > 0 && openPositive === 0) break;

    const openSum = openTotal();
    let lambda = 0;
    let targets: Float64Array | undefined;
    if (bounded.length === 0) {
      lambda = mass / openSum;
    } else {
      const k = bounded.length;
      const items = k + (openCount > 0 ? 1 : 0);
      const s = new Float64Array(items);
      const l = new Float64Array(items);
      const h = new Float64Array(items);
      for (let j = 0; j < k; j++) {
        const i = bounded[j]!;
        s[j] = boundedEffective(i);
        l[j] = lo[i]!;
        h[j] = hi[i]!;
      }
      if (openCount > 0) {
        s[k] = uniform ? openSum : timesPowerOfTwo(openSum, commonExponent - openExponent);
        h[k] = openCount;
      }
      const fill = waterFill(s, l, h, mass);
      if (!fill.ok) break;
      targets = fill.weights;
      if (openCount > 0) lambda = targets[k]! / openSum;
    }

    const openHits = openCount > 0 ? index!.stab(lambda) : [];
    const boundedHits: number[] = [];
    if (targets) {
      for (let j = 0; j < bounded.length; j++) {
        const i = bounded[j]!;
        const c = current[i]!;
        const t = targets[j]!;
        if (keptInBand(t, c, band, relative, lo[i]!, hi[i]!)) boundedHits.push(j);
      }
    }
    if (openHits.length + boundedHits.length === 0) break;

    // Keeping them must leave the bounds of the others reachable, or the round is not taken.
    let keptMass = 0;
    for (const k of openHits) keptMass += current[open[k]!]!;
    let restLo = 0;
    let restHi = openCount - openHits.length;
    const hitSet = new Set(boundedHits);
    for (let j = 0; j < bounded.length; j++) {
      const i = bounded[j]!;
      if (hitSet.has(j)) keptMass += current[i]!;
      else {
        restLo += lo[i]!;
        restHi += hi[i]!;
      }
    }
    const restCount = openCount - openHits.length + bounded.length - boundedHits.length;
    const restMass = mass - keptMass;
    if (restCount > 0 && (restLo > restMass + FEASIBILITY_SLACK || restHi < restMass - FEASIBILITY_SLACK))
      break;

    for (const k of openHits) {
      const i = open[k]!;
      index!.remove(k);
      removed[k] = 1;
      kept.push(i);
      const e = openEffective(i);
      keptTargets.push(lambda * e);
      openCount--;
      subtract(e);
      if (e > 0) openPositive--;
      if (scores[i]! > 0) positive--;
    }
    if (boundedHits.length > 0) {
      const rest: number[] = [];
      for (let j = 0; j < bounded.length; j++) {
        const i = bounded[j]!;
        if (!hitSet.has(j)) rest.push(i);
        else {
          kept.push(i);
          keptTargets.push(targets![j]!);
          if (scores[i]! > 0) positive--;
        }
      }
      bounded = rest;
    }
    mass = restMass;
  }

  const isKept = new Set(kept);
  const active = new Int32Array(input.active.length - kept.length);
  let r = 0;
  for (const i of input.active) if (!isKept.has(i)) active[r++] = i;
  return { kept, keptTargets, active, mass };
}

/**
 * Intervals [start, end] of lambda, one per unbounded allocation, sorted by start in a tree that
 * keeps the largest end of each subtree: the intervals containing x are found in
 * O((hits + 1) log n), and each is removed in O(log n).
 */
class IntervalIndex {
  readonly #size: number;
  /** Largest end per node; leaves are the intervals in start order. */
  readonly #tree: Float64Array;
  readonly #starts: Float64Array;
  /** Sorted position -> local index, and back. */
  readonly #order: Int32Array;
  readonly #position: Int32Array;

  constructor(
    items: readonly number[],
    removed: Uint8Array,
    effective: (i: number) => number,
    current: Float64Array,
    band: number,
    relative: number,
  ) {
    const m = items.length;
    const start = new Float64Array(m);
    const end = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      if (removed[k]) {
        start[k] = Number.POSITIVE_INFINITY;
        end[k] = Number.NEGATIVE_INFINITY;
        continue;
      }
      const i = items[k]!;
      const c = current[i]!;
      const e = effective(i);
      if (e > 0) {
        // |lambda e - c| <= band + relative * lambda e; without a relative part, [(c - b)/e, (c + b)/e].
        start[k] = (c - band) / (e * (1 + relative));
        end[k] = relative < 1 ? (c + band) / (e * (1 - relative)) : Number.POSITIVE_INFINITY;
      } else if (c <= band) {
        // A zero score's target is 0, whatever lambda is.
        start[k] = Number.NEGATIVE_INFINITY;
        end[k] = Number.POSITIVE_INFINITY;
      } else {
        start[k] = Number.POSITIVE_INFINITY;
        end[k] = Number.NEGATIVE_INFINITY;
      }
    }
    const order = new Int32Array(m);
    for (let k = 0; k < m; k++) order[k] = k;
    // A comparator, not a - b: Infinity - Infinity is NaN.
    order.sort((a, b) => (start[a]! < start[b]! ? -1 : start[a]! > start[b]! ? 1 : a - b));
    let size = 1;
    while (size < m) size *= 2;
    this.#size = size;
    this.#tree = new Float64Array(2 * size).fill(Number.NEGATIVE_INFINITY);
    this.#starts = new Float64Array(m);
    this.#order = order;
    this.#position = new Int32Array(m);
    for (let p = 0; p < m; p++) {
      const k = order[p]!;
      this.#starts[p] = start[k]!;
      this.#position[k] = p;
      this.#tree[size + p] = end[k]!;
    }
    for (let node = size - 1; node >= 1; node--) {
      this.#tree[node] = Math.max(this.#tree[2 * node]!, this.#tree[2 * node + 1]!);
    }
  }

  /** Local indices of the intervals that contain x. */
  stab(x: number): number[] {
    // Positions [0, limit) start at or before x.
    let low = 0;
    let high = this.#starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.#starts[mid]! <= x) low = mid + 1;
      else high = mid;
    }
    const hits: number[] = [];
    this.#collect(1, 0, this.#size, low, x, hits);
    return hits;
  }

  remove(k: number): void {
    let node = this.#size + this.#position[k]!;
    this.#tree[node] = Number.NEGATIVE_INFINITY;
    for (node >>= 1; node >= 1; node >>= 1) {
      this.#tree[node] = Math.max(this.#tree[2 * node]!, this.#tree[2 * node + 1]!);
    }
  }

  #collect(node: number, from: number, to: number, limit: number, x: number, hits: number[]): void {
    if (from >= limit || this.#tree[node]! < x) return;
    if (to - from === 1) {
      hits.push(this.#order[from]!);
      return;
    }
    const mid = (from + to) >> 1;
    this.#collect(2 * node, from, mid, limit, x, hits);
    this.#collect(2 * node + 1, mid, to, limit, x, hits);
  }
}
