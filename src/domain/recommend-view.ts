/**
 * What recommend returns: the decisions in typed columns, each action a view on them, and each
 * reason written only when it is read. At 100,000 businesses, allocating full action objects and
 * their strings was most of the cost and of the garbage.
 */
import { pct } from './format.js';
import type { MinTradeResult } from './min-trade.js';
import type { Allocation, DriftType, Portfolio, RebalanceTrigger, Strategy } from './model.js';
import { LOCKED, MAINTAINED, NO_METRICS } from './recommend-math.js';
import type { Action, ActionKind, Recommendation } from './recommend-types.js';

export interface RecommendColumns {
  readonly state: Uint8Array;
  readonly current: Float64Array;
  readonly next: Float64Array;
  /** The strategy's split before max_turnover; for a kept allocation, its target when kept. */
  readonly split: Float64Array;
  /** The weights before min_trade, when min_trade skipped a move; else null. */
  readonly beforeMinTrade: Float64Array | null;
}

export interface ReasonContext {
  readonly label: string;
  readonly freeMass: number;
  readonly threshold: number;
  readonly driftType: DriftType;
  readonly trigger: RebalanceTrigger;
  /** rebalance_trigger portfolio: the business whose drift moved every allocation. */
  readonly triggeredBy: string | null;
  readonly turnoverScale: number | null;
  readonly maxTurnover: number;
  readonly minTrade: number;
  readonly minTradeResult: MinTradeResult;
  readonly missingReasons: ReadonlyMap<string, string> | undefined;
}

export class ColumnarRecommendation implements Recommendation {
  readonly portfolioId: string;
  readonly version: number;
  readonly strategy: Strategy;
  readonly allocations: readonly Allocation[];
  #actions: Action[] | undefined;

  constructor(
    portfolio: Portfolio,
    readonly turnover: number,
    readonly turnoverScale: number | null,
    readonly columns: RecommendColumns,
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
    const { state, current, next, split } = this.columns;
    const c = current[i]!;
    const a = this.allocations[i]!;
    const why = this.why;
    switch (state[i]) {
      case LOCKED:
        return `locked by the operator; kept at ${pct(c)}`;
      case NO_METRICS:
        return `no metrics this run (${why.missingReasons?.get(a.businessId) ?? 'not available'}); kept at ${pct(c)}`;
      case MAINTAINED: {
        const kept = `${bandText(why, split[i]!)}; kept at ${pct(c)}`;
        return why.trigger === 'portfolio'
          ? `${kept}, as every allocation is (rebalance_trigger portfolio)`
          : kept;
      }
    }
    const s = split[i]!;
    const share = why.freeMass > 0 ? s / why.freeMass : 0;
    let reason = `${why.label} share ${pct(share)} of free mass; was ${pct(c)}`;
    if (why.triggeredBy !== null) {
      reason += `; every allocation to its target: ${why.triggeredBy === a.businessId ? 'this one' : why.triggeredBy} is outside its drift band (rebalance_trigger portfolio)`;
    }
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
    return reason + this.#minTradeText(i, c, next[i]!);
  }

  #minTradeText(i: number, c: number, w: number): string {
    const why = this.why;
    if (!(why.minTrade > 0)) return '';
    const result = why.minTradeResult;
    const limit = `min_trade ${points(why.minTrade)} points`;
    if (result.skipped?.[i] === 1) {
      const attempted = Math.abs(this.columns.beforeMinTrade![i]! - c);
      return `; move of ${points(attempted)} points below ${limit}, not made: kept at ${pct(c)}`;
    }
    if (w === c) return '';
    const scale = w > c ? result.upScale : result.downScale;
    if (scale !== 1) return `; move scaled to ${pct(scale)} to offset the moves below ${limit}`;
    if (Math.abs(w - c) < why.minTrade - 1e-12) {
      return result.waived
        ? `; below ${limit} but made: an allocation outside its bounds needs the moves`
        : `; below ${limit} but made: outside its bounds`;
    }
    return '';
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

/** "within the drift band (5.0 points of target 30.0%)", or "(5.0 points = 25% of target 20.0%)". */
function bandText(why: ReasonContext, target: number): string {
  if (why.driftType === 'relative') {
    return `within the drift band (${points(why.threshold * target)} points = ${pct(why.threshold)} of target ${percent1(target)})`;
  }
  return `within the drift band (${points(why.threshold)} points of target ${percent1(target)})`;
}

/** A weight in percentage points with one decimal: 0.004 -> "0.4". */
function points(weight: number): string {
  return (weight * 100).toFixed(1);
}

function percent1(weight: number): string {
  return `${(weight * 100).toFixed(1)}%`;
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
