/**
 * recommend's drift-band step: which allocations move and where to. With rebalance_trigger
 * `allocation` (the default), rounds of "split the mass left over the allocations still moving,
 * keep those whose target is within their band" until nothing more falls inside it (SPEC); with
 * `portfolio`, one split, and every allocation moves to its target as soon as one is outside
 * its band (else none moves). The band of an allocation is |target - current| <= absolute +
 * relative * target: drift_threshold in weight, or drift_threshold x the target (drift_type).
 */
import { keptInBand, settleBand } from './drift-band.js';
import type { Portfolio, RebalanceTrigger } from './model.js';
import { infeasible, MAINTAINED, MOVABLE, sumOver } from './recommend-math.js';
import { waterFill } from './water-fill.js';

export interface BandRule {
  /** The absolute part, with the rounding allowance. */
  readonly absolute: number;
  readonly relative: number;
}

export interface BandColumns {
  readonly state: Uint8Array;
  readonly current: Float64Array;
  /** In: the current weights; out: the weights after the band step. */
  readonly next: Float64Array;
  /** Out: each movable allocation's target (for a kept one, its target in the round that kept it). */
  readonly target: Float64Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly scores: Float64Array;
}

export interface BandStep {
  readonly portfolio: Portfolio;
  readonly columns: BandColumns;
  readonly freeMass: number;
  readonly rule: BandRule;
  readonly trigger: RebalanceTrigger;
  readonly plainRounds: number | undefined;
}

/**
 * Returns, for the portfolio trigger, the allocation furthest outside its band (which moved every
 * allocation), else -1.
 */
export function bandStep(step: BandStep): number {
  const { state, current, next, target, lo, hi, scores } = step.columns;
  const { rule, portfolio } = step;
  const n = state.length;
  let movableCount = 0;
  for (let i = 0; i < n; i++) if (state[i] === MOVABLE) movableCount++;
  let activeMass = step.freeMass;
  let activeIdx: Int32Array = new Int32Array(movableCount);
  let k = 0;
  for (let i = 0; i < n; i++) if (state[i] === MOVABLE) activeIdx[k++] = i;
  const inBand = (i: number, t: number) =>
    keptInBand(t, current[i]!, rule.absolute, rule.relative, lo[i]!, hi[i]!);
  const sBuf = new Float64Array(movableCount);
  const lBuf = new Float64Array(movableCount);
  const hBuf = new Float64Array(movableCount);
  // No bound on the rounds: each keeps at least one allocation or ends the loop. After a few,
  // the indexed rounds take over (same decisions, O(n log n) in all for unbounded allocations).
  const plainRounds = step.plainRounds ?? Math.max(8, Math.ceil(Math.log2(movableCount + 1)));
  let indexed = false;
  for (let round = 0; activeIdx.length > 0; round++) {
    if (!indexed && round > 0 && round >= plainRounds) {
      indexed = true;
      const settled = settleBand({
        active: activeIdx,
        mass: activeMass,
        scores,
        current,
        lo,
        hi,
        band: rule.absolute,
        relative: rule.relative,
      });
      for (let j = 0; j < settled.kept.length; j++) {
        const i = settled.kept[j]!;
        state[i] = MAINTAINED;
        next[i] = current[i]!;
        target[i] = settled.keptTargets[j]!;
      }
      activeIdx = settled.active;
      activeMass = settled.mass;
      if (activeIdx.length === 0) break;
    }
    const m = activeIdx.length;
    const s = sBuf.subarray(0, m);
    const l = lBuf.subarray(0, m);
    const h = hBuf.subarray(0, m);
    for (let j = 0; j < m; j++) {
      const i = activeIdx[j]!;
      s[j] = scores[i]!;
      l[j] = lo[i]!;
      h[j] = hi[i]!;
    }
    const fill = waterFill(s, l, h, activeMass);
    if (!fill.ok) {
      if (round === 0) throw infeasible(portfolio, fill.problem, fill.sumLo, fill.sumHi, activeMass);
      // Keeping the last batch in place made the bounds unreachable: use the previous split.
      break;
    }
    const targets = fill.weights;
    let kept = 0;
    let worst = -1;
    let worstExcess = 0;
    for (let j = 0; j < m; j++) {
      const i = activeIdx[j]!;
      const t = targets[j]!;
      next[i] = t;
      target[i] = t;
      if (inBand(i, t)) {
        kept++;
        continue;
      }
      // An allocation outside its bounds is outside its band by at least its distance to them.
      const c = current[i]!;
      const excess = Math.max(Math.abs(t - c) - (rule.absolute + rule.relative * t), lo[i]! - c, c - hi[i]!);
      // Ties (to rounding) go to the first in portfolio order.
      if (worst < 0 || excess > worstExcess + 1e-12) {
        worst = i;
        worstExcess = excess;
      }
    }
    if (step.trigger === 'portfolio') {
      // One split: all to target when one is outside its band, else all kept.
      if (worst >= 0) return worst;
      keepAll(activeIdx, state, next, current);
      return -1;
    }
    if (kept === 0) break;
    if (kept === m) {
      keepAll(activeIdx, state, next, current);
      break;
    }
    const rest = new Int32Array(m - kept);
    let r = 0;
    let keptMass = 0;
    for (let j = 0; j < m; j++) {
      const i = activeIdx[j]!;
      if (inBand(i, targets[j]!)) {
        state[i] = MAINTAINED;
        next[i] = current[i]!;
        keptMass += current[i]!;
      } else {
        rest[r++] = i;
      }
    }
    // Tentatively re-split; if that turns out infeasible, the loop breaks with these targets.
    const candidateMass = activeMass - keptMass;
    const probeLo = sumOver(rest, lo);
    const probeHi = sumOver(rest, hi);
    if (probeLo > candidateMass + 1e-9 || probeHi < candidateMass - 1e-9) {
      // Undo: these stay active with the targets just computed.
      for (let j = 0; j < m; j++) {
        const i = activeIdx[j]!;
        if (state[i] === MAINTAINED) {
          state[i] = MOVABLE;
          next[i] = targets[j]!;
        }
      }
      break;
    }
    activeIdx = rest;
    activeMass = candidateMass;
  }
  return -1;
}

function keepAll(active: Int32Array, state: Uint8Array, next: Float64Array, current: Float64Array): void {
  for (const i of active) {
    state[i] = MAINTAINED;
    next[i] = current[i]!;
  }
}
