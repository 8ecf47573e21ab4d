/**
 * min_trade, after the band and max_turnover steps: a move smaller than min_trade is not made
 * (the weight stays with the business, as Lean leaves an order below its minimum margin unplaced).
 *
 * Not making a move leaves the increases and the decreases unequal, and the weights would no
 * longer sum to 1. The rule: the larger side is scaled down, every move of it by one factor,
 * until both sides are equal again; a move that scaling takes below min_trade is not made either,
 * and so on until none is left below it. Moves only ever shrink towards the current weight, so
 * bounds that held still hold, locked allocations stay out of it, and turnover only falls (it
 * stays within max_turnover). In the worst case nothing moves.
 *
 * An allocation whose current weight is outside its bounds must move (SPEC invariant 3): its move
 * is made whatever its size and never scaled. When the other moves cannot balance it (their side
 * would need to grow), min_trade is waived for the run: the moves stay as the band and
 * max_turnover steps left them, and the reasons say so.
 *
 * Each side is sorted once and the moves not made are always its smallest, so the whole step is
 * O(n log n) however many times the sides are scaled.
 */
import { MOVABLE } from './recommend-math.js';

export interface MinTradeColumns {
  readonly state: Uint8Array;
  readonly current: Float64Array;
  /** In: the weights after the band and max_turnover steps; out: after min_trade. */
  readonly next: Float64Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

export interface MinTradeResult {
  /** Set to 1 for each allocation whose move was not made; null when min_trade changed nothing. */
  readonly skipped: Uint8Array | null;
  /** The factor the increases (decreases) that are made were scaled by; 1 when not scaled. */
  readonly upScale: number;
  readonly downScale: number;
  /** Set when an allocation outside its bounds needs moves that min_trade would forbid. */
  readonly waived: boolean;
}

const NONE: MinTradeResult = { skipped: null, upScale: 1, downScale: 1, waived: false };
/** Nothing is written to the weights before the end: waived, they stay as they came in. */
const WAIVED: MinTradeResult = { ...NONE, waived: true };
/** A move this close to min_trade counts as min_trade (0.01 may come out as 0.009999999999999). */
const TOLERANCE = 1e-12;

export function applyMinTrade(columns: MinTradeColumns, minTrade: number): MinTradeResult {
  if (!(minTrade > 0)) return NONE;
  const { state, current, next, lo, hi } = columns;
  const n = state.length;
  const ups: number[] = [];
  const downs: number[] = [];
  // The moves of allocations outside their bounds, made as they are.
  let forcedUp = 0;
  let forcedDown = 0;
  let up = 0;
  let down = 0;
  for (let i = 0; i < n; i++) {
    if (state[i] !== MOVABLE) continue;
    const c = current[i]!;
    const d = next[i]! - c;
    if (d === 0) continue;
    const forced = c < lo[i]! || c > hi[i]!;
    if (d > 0) {
      if (forced) forcedUp += d;
      else {
        ups.push(i);
        up += d;
      }
    } else if (forced) forcedDown -= d;
    else {
      downs.push(i);
      down -= d;
    }
  }
  const move = (i: number) => Math.abs(next[i]! - current[i]!);
  const bySize = (a: number, b: number) => move(a) - move(b) || a - b;
  ups.sort(bySize);
  downs.sort(bySize);

  // `up` and `down` are the unscaled moves still made; the made ones are ups[iu..], downs[id..].
  let iu = 0;
  let id = 0;
  let upScale = 1;
  let downScale = 1;
  const limit = minTrade - TOLERANCE;
  for (;;) {
    let dropped = false;
    while (iu < ups.length && move(ups[iu]!) * upScale < limit) {
      up -= move(ups[iu++]!);
      dropped = true;
    }
    while (id < downs.length && move(downs[id]!) * downScale < limit) {
      down -= move(downs[id++]!);
      dropped = true;
    }
    if (iu === ups.length) up = 0;
    if (id === downs.length) down = 0;
    if (!dropped) break;
    const plus = forcedUp + up * upScale;
    const minus = forcedDown + down * downScale;
    if (plus > minus) {
      // The increases made must shrink to what is decreased.
      const room = minus - forcedUp;
      if (room < -TOLERANCE) return WAIVED;
      upScale = up > 0 ? Math.max(0, room) / up : 1;
    } else if (minus > plus) {
      const room = plus - forcedDown;
      if (room < -TOLERANCE) return WAIVED;
      downScale = down > 0 ? Math.max(0, room) / down : 1;
    }
  }
  if (iu === 0 && id === 0) return NONE;
  const skipped = new Uint8Array(n);
  ups.forEach((i, k) => {
    const c = current[i]!;
    if (k < iu) {
      next[i] = c;
      skipped[i] = 1;
    } else if (upScale !== 1) next[i] = c + upScale * (next[i]! - c);
  });
  downs.forEach((i, k) => {
    const c = current[i]!;
    if (k < id) {
      next[i] = c;
      skipped[i] = 1;
    } else if (downScale !== 1) next[i] = c + downScale * (next[i]! - c);
  });
  return { skipped, upScale, downScale, waived: false };
}
