import { InvariantError, ValidationError } from './errors.js';
import { applyMinTrade } from './min-trade.js';
import { type BusinessMetrics, type Portfolio, SUM_TOLERANCE } from './model.js';
import { rebalanceSettings } from './rebalance-options.js';
import { bandStep } from './recommend-band.js';
import {
  badScore,
  InOrderLookup,
  keepSumExact,
  LOCKED,
  MAINTAINED,
  MOVABLE,
  NO_METRICS,
} from './recommend-math.js';
import type { Recommendation, RecommendOptions } from './recommend-types.js';
import { ColumnarRecommendation, type ReasonContext } from './recommend-view.js';
import { type ScoreContext, STRATEGY_LABEL, strategyScore } from './strategies.js';

export * from './recommend-types.js';

const BAND_EPSILON = 1e-12;

/**
 * The free mass (1 minus locked and metric-less weights) is split over the other allocations in
 * proportion to their strategy scores, within their bounds. Allocations whose target falls within
 * their drift band keep their weight and the rest is split again (rebalance_trigger allocation),
 * or every allocation goes to its target as soon as one is outside its band (portfolio); see
 * recommend-band.ts. With max_turnover, every move is scaled down to fit; with min_trade, the
 * moves below it are not made (min-trade.ts). O(n log n) in businesses without bounds; see
 * water-fill.ts and drift-band.ts with them.
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
  for (let i = 0; i < n; i++) {
    if (state[i] !== MOVABLE) continue;
    const score = strategyScore(portfolio.strategy, allocations[i]!, found[i]!, ctx);
    if (!(score >= 0 && score <= Number.MAX_VALUE))
      throw badScore(portfolio, allocations[i]!, found[i]!, score);
    scores[i] = score;
  }
  const freeMass = Math.max(0, 1 - fixedMass);
  const threshold = portfolio.driftThreshold;
  const settings = rebalanceSettings(portfolio);
  const relative = settings.driftType === 'relative';

  // The drift band: which allocations move, and to which targets. `split` holds the targets.
  const split = new Float64Array(n);
  const worst = bandStep({
    portfolio,
    columns: { state, current, next, target: split, lo, hi, scores },
    freeMass,
    rule: { absolute: (relative ? 0 : threshold) + BAND_EPSILON, relative: relative ? threshold : 0 },
    trigger: settings.trigger,
    plainRounds: options.plainRounds,
  });
  for (let i = 0; i < n; i++) if (state[i] !== MOVABLE && state[i] !== MAINTAINED) split[i] = current[i]!;

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
  // min_trade: the moves below it are not made (see min-trade.ts for where their weight goes).
  const beforeMinTrade = settings.minTrade > 0 ? next.slice() : null;
  const minTradeResult = applyMinTrade({ state, current, next, lo, hi }, settings.minTrade);
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
    driftType: settings.driftType,
    trigger: settings.trigger,
    triggeredBy: worst >= 0 ? allocations[worst]!.businessId : null,
    turnoverScale,
    maxTurnover: maxTurnover ?? 0,
    minTrade: settings.minTrade,
    minTradeResult,
    missingReasons: options.missingReasons,
  };
  return new ColumnarRecommendation(
    portfolio,
    turnover,
    turnoverScale,
    { state, current, next, split, beforeMinTrade: minTradeResult.skipped ? beforeMinTrade : null },
    why,
    unlockedWeight,
    missingWeight,
  );
}
