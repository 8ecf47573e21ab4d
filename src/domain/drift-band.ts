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
import { OpenScores } from './drift-band-open.js';
import { waterFill } from './water-fill.js';

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

export function settleBand(input: BandInput): BandResult {
  const { scores, current, lo, hi, band } = input;
  const relative = input.relative ?? 0;
  const kept: number[] = [];
  const keptTargets: number[] = [];
  const openIds: number[] = [];
  let bounded: number[] = [];
  let positive = 0;
  let boundedMax = 0;
  for (const i of input.active) {
    const s = scores[i]!;
    if (lo[i] === 0 && hi[i] === 1) openIds.push(i);
    else {
      bounded.push(i);
      if (s > boundedMax) boundedMax = s;
    }
    if (s > 0) positive++;
  }
  const open = new OpenScores(openIds, scores, current, band, relative);
  let mass = input.mass;
  open.rebuild(positive === 0, boundedMax);

  while (open.count + bounded.length > 0) {
    if (!open.uniform && positive === 0) {
      // Only zero scores left: the split becomes equal, and so do the intervals.
      open.rebuild(true, boundedMax);
    }
    if (!open.settle(boundedMax)) break;

    const round = roundTargets(open, bounded, lo, hi, mass);
    if (round === null) break;
    const { lambda, targets } = round;

    const openHits = open.count > 0 ? open.stab(lambda) : [];
    const boundedHits = new Set<number>();
    if (targets) {
      for (let j = 0; j < bounded.length; j++) {
        const i = bounded[j]!;
        if (keptInBand(targets[j]!, current[i]!, band, relative, lo[i]!, hi[i]!)) boundedHits.add(j);
      }
    }
    if (openHits.length + boundedHits.size === 0) break;

    // Keeping them must leave the bounds of the others reachable, or the round is not taken.
    const restMass = massLeft(open, openHits, bounded, boundedHits, current, lo, hi, mass);
    if (restMass === null) break;

    for (const k of openHits) {
      const i = open.ids[k]!;
      kept.push(i);
      keptTargets.push(lambda * open.remove(k));
      if (scores[i]! > 0) positive--;
    }
    if (boundedHits.size > 0) {
      const rest: number[] = [];
      for (let j = 0; j < bounded.length; j++) {
        const i = bounded[j]!;
        if (!boundedHits.has(j)) rest.push(i);
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
 * A round's split: lambda for the unbounded allocations (their target is lambda x score) and, with
 * bounded ones, the water-fill's targets for them (every unbounded allocation standing as one item
 * of their summed score). Null when the water-fill finds no split.
 */
function roundTargets(
  open: OpenScores,
  bounded: readonly number[],
  lo: Float64Array,
  hi: Float64Array,
  mass: number,
): { lambda: number; targets: Float64Array | undefined } | null {
  const openSum = open.total();
  if (bounded.length === 0) return { lambda: mass / openSum, targets: undefined };
  const k = bounded.length;
  const items = k + (open.count > 0 ? 1 : 0);
  const s = new Float64Array(items);
  const l = new Float64Array(items);
  const h = new Float64Array(items);
  for (let j = 0; j < k; j++) {
    const i = bounded[j]!;
    s[j] = open.boundedEffective(i);
    l[j] = lo[i]!;
    h[j] = hi[i]!;
  }
  if (open.count > 0) {
    s[k] = open.onCommonScale(openSum);
    h[k] = open.count;
  }
  const fill = waterFill(s, l, h, mass);
  if (!fill.ok) return null;
  return { lambda: open.count > 0 ? fill.weights[k]! / openSum : 0, targets: fill.weights };
}

/** The mass left to the others once the hits are kept, or null when their bounds could not take it. */
function massLeft(
  open: OpenScores,
  openHits: readonly number[],
  bounded: readonly number[],
  boundedHits: ReadonlySet<number>,
  current: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  mass: number,
): number | null {
  let keptMass = 0;
  for (const k of openHits) keptMass += current[open.ids[k]!]!;
  let restLo = 0;
  let restHi = open.count - openHits.length;
  for (let j = 0; j < bounded.length; j++) {
    const i = bounded[j]!;
    if (boundedHits.has(j)) keptMass += current[i]!;
    else {
      restLo += lo[i]!;
      restHi += hi[i]!;
    }
  }
  const restCount = open.count - openHits.length + bounded.length - boundedHits.size;
  const restMass = mass - keptMass;
  if (restCount > 0 && (restLo > restMass + FEASIBILITY_SLACK || restHi < restMass - FEASIBILITY_SLACK)) {
    return null;
  }
  return restMass;
}
