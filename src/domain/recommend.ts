import { settleBand } from './drift-band.js';
import { InvariantError, ValidationError } from './errors.js';
import { pct } from './format.js';
import {
  type Allocation,
  type BusinessMetrics,
  type Portfolio,
  type Strategy,
  SUM_TOLERANCE,
} from './model.js';
import { badScore, InOrderLookup, infeasible, keepSumExact, MOVABLE, sumOver } from './recommend-math.js';
import type { Action, ActionKind, Recommendation, RecommendOptions } from './recommend-types.js';
import { type ScoreContext, STRATEGY_LABEL, strategyScore } from './strategies.js';
import { waterFill } from './water-fill.js';

export * from './recommend-types.js';

const LOCKED = 1;
const NO_METRICS = 2;
const MAINTAINED = 3;
const BAND_EPSILON = 1e-12;

/**
 * The free mass (1 minus locked and metric-less weights) is split over the other allocations in
 * proportion to their strategy scores, within their bounds. Allocations whose target falls within
 * the drift threshold keep their weight and the rest is split again. With max_turnover, every
 * move is scaled down to fit. O(n) per round without bounds; see water-fill.ts with them.
 */
export function recommend(
  portfolio: Portfolio,
  metrics: ReadonlyMap<string, BusinessMetrics>,
  options: RecommendOptions = {},
): Recommendation {
  const allocations = portfolio.allocations;
  const n = allocations.length;
  const state = new Uint8Array(n);
  const current = new Float64Array(n);
  const next = new Float64Array(n);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const scores = new Float64Array(n);
  const found: (BusinessMetrics | undefined)[] = new Array(n);
  const lookup = new InOrderLookup(metrics);
  let maxProfit = 0;
  let fixedMass = 0;
  let unlockedWeight = 0;
  let missingWeight = 0;
  for (let i = 0; i < n; i++) {
    const a = allocations[i]!;
    const w = a.weight;
    current[i] = w;
    next[i] = w;
    lo[i] = a.minWeight ?? 0;
    hi[i] = a.maxWeight ?? 1;
    // The wire schemas refuse such numbers; a portfolio built another way must not turn into NaN.
    if (!(w >= 0 && w <= 1 && lo[i]! >= 0 && hi[i]! <= 1 && lo[i]! <= hi[i]!)) {
      throw new ValidationError(
        `cannot rebalance portfolio ${portfolio.id}: business ${a.businessId} has weight ${w} and bounds [${lo[i]}, ${hi[i]}]; weights and bounds must be numbers in [0,1]`,
      );
    }
    const m = lookup.get(a.businessId);
    found[i] = m;
    if (m !== undefined && m.profit > maxProfit) maxProfit = m.profit;
    if (a.locked) {
      state[i] = LOCKED;
      fixedMass += w;
    } else {
      unlockedWeight += w;
      if (m === undefined) {
        state[i] = NO_METRICS;
        fixedMass += w;
        missingWeight += w;
      }
    }
  }
  // Same as scoreContext() over the businesses with metrics, without a second array.
  const ctx: ScoreContext = { maxProfit };
  let movableCount = 0;
  for (let i = 0; i < n; i++) {
    if (state[i] !== MOVABLE) continue;
    const score = strategyScore(portfolio.strategy, allocations[i]!, found[i]!, ctx);
    if (!(score >= 0 && score <= Number.MAX_VALUE))
      throw badScore(portfolio, allocations[i]!, found[i]!, score);
    scores[i] = score;
    movableCount++;
  }
  const freeMass = Math.max(0, 1 - fixedMass);
  const threshold = portfolio.driftThreshold;

  // Rounds of: split the mass left over the active allocations, then keep the ones inside the band.
  let activeMass = freeMass;
  let activeIdx: Int32Array = new Int32Array(movableCount);
  let k = 0;
  for (let i = 0; i < n; i++) if (state[i] === MOVABLE) activeIdx[k++] = i;
  const sBuf = new Float64Array(movableCount);
  const lBuf = new Float64Array(movableCount);
  const hBuf = new Float64Array(movableCount);
  // No bound on the rounds: each keeps at least one allocation or ends the loop. After a few,
  // the indexed rounds take over (same decisions, O(n log n) in all for unbounded allocations).
  const plainRounds = options.plainRounds ?? Math.max(8, Math.ceil(Math.log2(movableCount + 1)));
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
        band: threshold + BAND_EPSILON,
      });
      for (const i of settled.kept) {
        state[i] = MAINTAINED;
        next[i] = current[i]!;
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
    for (let j = 0; j < m; j++) next[activeIdx[j]!] = targets[j]!;
    let inBand = 0;
    for (let j = 0; j < m; j++) {
      const i = activeIdx[j]!;
      const c = current[i]!;
      if (Math.abs(targets[j]! - c) <= threshold + BAND_EPSILON && c >= lo[i]! && c <= hi[i]!) inBand++;
    }
    if (inBand === 0) break;
    if (inBand === m) {
      for (let j = 0; j < m; j++) {
        const i = activeIdx[j]!;
        state[i] = MAINTAINED;
        next[i] = current[i]!;
      }
      activeIdx = new Int32Array(0);
      break;
    }
    const rest = new Int32Array(m - inBand);
    let r = 0;
    let keptMass = 0;
    for (let j = 0; j < m; j++) {
      const i = activeIdx[j]!;
      const c = current[i]!;
      if (Math.abs(targets[j]! - c) <= threshold + BAND_EPSILON && c >= lo[i]! && c <= hi[i]!) {
        state[i] = MAINTAINED;
        next[i] = c;
        keptMass += c;
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

  // The strategy's split before max_turnover scales it, for the reasons.
  const split = next.slice();
  // max_turnover: scale every move by the same factor so the total fits.
  let turnover = 0;
  for (let i = 0; i < n; i++) turnover += Math.abs(next[i]! - current[i]!);
  turnover /= 2;
  let turnoverScale: number | null = null;
  const maxTurnover = portfolio.maxTurnover;
  if (maxTurnover !== undefined && turnover > maxTurnover + BAND_EPSILON) {
    const alpha = turnover > 0 ? maxTurnover / turnover : 0;
    turnoverScale = alpha;
    for (let i = 0; i < n; i++) {
      if (state[i] === MOVABLE) next[i] = current[i]! + alpha * (next[i]! - current[i]!);
    }
  }
  keepSumExact(next, state, lo, hi, current);
  turnover = 0;
  let before = 0;
  let after = 0;
  for (let i = 0; i < n; i++) {
    const w = next[i]!;
    if (!(w >= 0 && w <= 1))
      throw new InvariantError(`recommended weight ${w} for ${allocations[i]!.businessId}`);
    turnover += Math.abs(w - current[i]!);
    before += current[i]!;
    after += w;
  }
  turnover /= 2;
  if (Math.abs(before - 1) <= SUM_TOLERANCE && !(Math.abs(after - 1) <= SUM_TOLERANCE)) {
    throw new InvariantError(`recommended weights of portfolio ${portfolio.id} sum to ${after}`);
  }

  const why: ReasonContext = {
    label: STRATEGY_LABEL[portfolio.strategy],
    freeMass,
    threshold,
    turnoverScale,
    maxTurnover: maxTurnover ?? 0,
    missingReasons: options.missingReasons,
  };
  return new ColumnarRecommendation(
    portfolio,
    turnover,
    turnoverScale,
    { state, current, next, split },
    why,
    unlockedWeight,
    missingWeight,
  );
}

/**
 * The decisions are computed in typed columns; each action is a two-field view on them, and a
 * reason is written only when it is read. At 100,000 businesses, allocating full action objects
 * and their strings was most of the cost and of the garbage.
 */
class ColumnarRecommendation implements Recommendation {
  readonly portfolioId: string;
  readonly version: number;
  readonly strategy: Strategy;
  readonly allocations: readonly Allocation[];
  #actions: Action[] | undefined;

  constructor(
    portfolio: Portfolio,
    readonly turnover: number,
    readonly turnoverScale: number | null,
    readonly columns: {
      readonly state: Uint8Array;
      readonly current: Float64Array;
      readonly next: Float64Array;
      readonly split: Float64Array;
    },
    private readonly why: ReasonContext,
    readonly unlockedWeight: number,
    readonly missingWeight: number,
  ) {
    this.portfolioId = portfolio.id;
    this.version = portfolio.version;
    this.strategy = portfolio.strategy;
    this.allocations = portfolio.allocations;
  }

  get actions(): readonly Action[] {
    if (this.#actions) return this.#actions;
    const n = this.allocations.length;
    const actions: Action[] = new Array(n);
    for (let i = 0; i < n; i++) actions[i] = new ActionView(this, i);
    this.#actions = actions;
    return actions;
  }

  kindAt(i: number): ActionKind {
    const st = this.columns.state[i]!;
    if (st === LOCKED) return 'locked';
    if (st === NO_METRICS) return 'no-metrics';
    if (st === MAINTAINED) return 'maintain';
    const c = this.columns.current[i]!;
    const w = this.columns.next[i]!;
    return w > c ? 'increase' : w < c ? 'decrease' : 'maintain';
  }

  reasonAt(i: number): string {
    const { state, current, split } = this.columns;
    const c = current[i]!;
    const a = this.allocations[i]!;
    const why = this.why;
    switch (state[i]) {
      case LOCKED:
        return `locked by the operator; kept at ${pct(c)}`;
      case NO_METRICS:
        return `no metrics this run (${why.missingReasons?.get(a.businessId) ?? 'not available'}); kept at ${pct(c)}`;
      case MAINTAINED:
        return `target within the drift threshold ${pct(why.threshold)} of ${pct(c)}; kept`;
    }
    const s = split[i]!;
    const share = why.freeMass > 0 ? s / why.freeMass : 0;
    let reason = `${why.label} share ${pct(share)} of free mass; was ${pct(c)}`;
    // The strategy's split, not the final weight: max_turnover may stop the move short of the bound.
    if (a.maxWeight !== undefined && Math.abs(s - a.maxWeight) < 1e-12)
      reason += `; capped at max ${pct(a.maxWeight)}`;
    if (a.minWeight !== undefined && a.minWeight > 0 && Math.abs(s - a.minWeight) < 1e-12) {
      reason += `; held at min ${pct(a.minWeight)}`;
    }
    // Also when the scale is 0: then the action is maintain, and this says why.
    if (why.turnoverScale !== null && s !== c) {
      reason += `; move scaled to ${pct(why.turnoverScale)} by max turnover ${pct(why.maxTurnover)}`;
    }
    return reason;
  }

  toJSON(): object {
    return {
      portfolioId: this.portfolioId,
      version: this.version,
      strategy: this.strategy,
      actions: this.actions,
      turnover: this.turnover,
      turnoverScale: this.turnoverScale,
    };
  }
}

/** One business's action: a view on the recommendation's columns. */
class ActionView implements Action {
  constructor(
    private readonly rec: ColumnarRecommendation,
    private readonly i: number,
  ) {}

  get businessId(): string {
    return this.rec.allocations[this.i]!.businessId;
  }

  get action(): ActionKind {
    return this.rec.kindAt(this.i);
  }

  get currentWeight(): number {
    return this.rec.columns.current[this.i]!;
  }

  get recommendedWeight(): number {
    return this.rec.columns.next[this.i]!;
  }

  get reason(): string {
    return this.rec.reasonAt(this.i);
  }

  toJSON(): Action {
    return {
      businessId: this.businessId,
      action: this.action,
      currentWeight: this.currentWeight,
      recommendedWeight: this.recommendedWeight,
      reason: this.reason,
    };
  }
}

interface ReasonContext {
  readonly label: string;
  readonly freeMass: number;
  readonly threshold: number;
  readonly turnoverScale: number | null;
  readonly maxTurnover: number;
  readonly missingReasons: ReadonlyMap<string, string> | undefined;
}
