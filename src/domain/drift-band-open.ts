/**
 * The bookkeeping of drift-band.ts's fast path: the unbounded allocations still moving, their
 * lambda intervals (a stabbing-query tree) and the running sum of their scores.
 */
import { binaryExponent, timesPowerOfTwo } from './water-fill.js';

/** Below this sum the unbounded scores are scaled again (lambda <= mass / sum stays finite). */
const SAFE_OPEN_SCORE = 2 ** -500;
/** Summed again when the unbounded scores left fall below this part of their last recount. */
const RECOUNT_DROP = 2 ** -24;

/**
 * The unbounded allocations still moving: their interval index, and the sum of their scores kept
 * up by subtraction as they are kept (Neumaier-compensated, summed again when it drifts).
 *
 * Scores are scaled by powers of two (exact): the unbounded ones so that their largest is near 1
 * and lambda = mass / (their sum) stays finite; for the water-fill, the bounded ones and the
 * unbounded ones' sum so that the larger of the two is near 1. With only zero scores left, the
 * split is equal: every score counts 1 (`uniform`).
 */
export class OpenScores {
  uniform = false;
  count: number;
  #openExponent = 0;
  #commonExponent = 0;
  readonly #removed: Uint8Array;
  #score = 0;
  // The rounding error of every subtraction since the last recount (Neumaier): removing one
  // dominant score must leave the sum of the small ones, not the dominant one's rounding error.
  #error = 0;
  #positive = 0;
  #index: IntervalIndex | undefined;
  #recountAt = 0;
  #recountScore = 0;

  constructor(
    readonly ids: readonly number[],
    private readonly scores: Float64Array,
    private readonly current: Float64Array,
    private readonly band: number,
    private readonly relative: number,
  ) {
    this.count = ids.length;
    this.#removed = new Uint8Array(ids.length);
  }

  effective(i: number): number {
    return this.uniform ? 1 : timesPowerOfTwo(this.scores[i]!, this.#openExponent);
  }

  boundedEffective(i: number): number {
    return this.uniform ? 1 : timesPowerOfTwo(this.scores[i]!, this.#commonExponent);
  }

  /** The unbounded scores' sum on the common scale of the bounded ones (for the water-fill). */
  onCommonScale(sum: number): number {
    return this.uniform ? sum : timesPowerOfTwo(sum, this.#commonExponent - this.#openExponent);
  }

  /** The sum of the scores left, as a fresh sum would give it. */
  total(): number {
    return this.#score + this.#error;
  }

  stab(lambda: number): number[] {
    return this.#index!.stab(lambda);
  }

  /** Keeps local allocation k: out of the index and the sum; returns its effective score. */
  remove(k: number): number {
    const e = this.effective(this.ids[k]!);
    this.#index!.remove(k);
    this.#removed[k] = 1;
    this.count--;
    const t = this.#score - e;
    this.#error += Math.abs(this.#score) >= e ? this.#score - t - e : this.#score - (t + e);
    this.#score = t;
    if (e > 0) this.#positive--;
    return e;
  }

  /**
   * Before a round: sums again when the sum may have drifted, rescales when the scores left are
   * all tiny next to the ones kept; false when a round cannot split (positive scores gone).
   */
  settle(boundedMax: number): boolean {
    if (this.count <= this.#recountAt || this.total() < this.#recountScore * RECOUNT_DROP) this.#recount();
    if (!this.uniform && this.count > 0 && this.total() < SAFE_OPEN_SCORE) this.rebuild(false, boundedMax);
    return this.uniform || this.count === 0 || this.#positive > 0;
  }

  /**
   * A new scale (and index): when the unbounded scores left are all tiny next to the ones kept,
   * and when the split turns equal. A score range of 2^-1074..2^1024 allows few of those.
   */
  rebuild(uniform: boolean, boundedMax: number): void {
    this.uniform = uniform;
    let openMax = 0;
    for (let k = 0; k < this.ids.length; k++) {
      if (!this.#removed[k]) openMax = Math.max(openMax, this.scores[this.ids[k]!]!);
    }
    this.#openExponent = openMax > 0 ? -binaryExponent(openMax) : 0;
    this.#index = new IntervalIndex(
      this.ids,
      this.#removed,
      (i) => this.effective(i),
      this.current,
      this.band,
      this.relative,
    );
    this.#recount();
    // log2 of the unbounded scores' sum on their own scale, and of the largest bounded score.
    const top = Math.max(
      this.#score > 0 ? binaryExponent(this.#score) - this.#openExponent : Number.NEGATIVE_INFINITY,
      boundedMax > 0 ? binaryExponent(boundedMax) : Number.NEGATIVE_INFINITY,
    );
    this.#commonExponent = Number.isFinite(top) ? -top : 0;
  }

  // A sum kept up by subtraction drifts even so: summed again whenever the open set halves (O(n)
  // in all), and whenever it falls below 2^-24 of what it was at the last recount, where the
  // compensation's own error (2^-106 of that) would start to show. Scores span 2^-1074 to 2^1024,
  // so that happens fewer than 100 times however adversarial they are.
  #recount(): void {
    this.#score = 0;
    this.#error = 0;
    this.#positive = 0;
    for (let k = 0; k < this.ids.length; k++) {
      if (this.#removed[k]) continue;
      const e = this.effective(this.ids[k]!);
      this.#score += e;
      if (e > 0) this.#positive++;
    }
    this.#recountAt = this.count >> 1;
    this.#recountScore = this.#score;
  }
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
