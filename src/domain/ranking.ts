import type { BusinessMetrics, Portfolio, Stage } from './model.js';

export interface RankingEntry {
  /** 1 is best; null for a business without metrics this run. */
  readonly rank: number | null;
  readonly businessId: string;
  readonly name: string | null;
  readonly score: number | null;
  readonly revenue: number | null;
  readonly profit: number | null;
  readonly margin: number | null;
  readonly growthRate: number | null;
  readonly healthScore: number | null;
  readonly customers: number | null;
  readonly stage: Stage | null;
}

export const RANKING_WEIGHTS = { profit: 0.4, growthRate: 0.3, healthScore: 0.3 } as const;

/**
 * composite = 0.4*profit + 0.3*growth + 0.3*health, each min-max normalised across the
 * portfolio first (a component equal everywhere counts 1) so dollars do not drown percentages.
 * Ties go to the smaller business id. Businesses without metrics follow, unranked, in portfolio order.
 */
export function rank(portfolio: Portfolio, metrics: ReadonlyMap<string, BusinessMetrics>): RankingEntry[] {
  const present: BusinessMetrics[] = [];
  const missing: string[] = [];
  for (const a of portfolio.allocations) {
    const m = metrics.get(a.businessId);
    if (m) present.push(m);
    else missing.push(a.businessId);
  }
  // Scores in a typed column and the order as indices into it: at 100,000 businesses, an object
  // and a closure call per business were most of the ranking's time and garbage.
  const n = present.length;
  const { profit, growth, health } = spans(present);
  const scores = new Float64Array(n);
  const order: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const m = present[i]!;
    scores[i] =
      RANKING_WEIGHTS.profit * normalise(profit, m.profit) +
      RANKING_WEIGHTS.growthRate * normalise(growth, m.growthRate) +
      RANKING_WEIGHTS.healthScore * normalise(health, m.healthScore);
    order[i] = i;
  }
  order.sort((a, b) => scores[b]! - scores[a]! || compareIds(present[a]!.businessId, present[b]!.businessId));
  const ranked: RankingEntry[] = new Array(n + missing.length);
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    ranked[r] = new RankedEntry(r + 1, scores[i]!, present[i]!);
  }
  for (let k = 0; k < missing.length; k++) {
    ranked[n + k] = {
      rank: null,
      businessId: missing[k]!,
      name: null,
      score: null,
      revenue: null,
      profit: null,
      margin: null,
      growthRate: null,
      healthScore: null,
      customers: null,
      stage: null,
    };
  }
  return ranked;
}

/**
 * A ranked business: its rank and score, and its figures read from its metrics rather than copied
 * (at 100,000 businesses, eleven copied fields per entry were most of the ranking's memory).
 */
class RankedEntry implements RankingEntry {
  readonly #metrics: BusinessMetrics;

  constructor(
    readonly rank: number,
    readonly score: number,
    metrics: BusinessMetrics,
  ) {
    this.#metrics = metrics;
  }

  get businessId(): string {
    return this.#metrics.businessId;
  }
  get name(): string | null {
    return this.#metrics.name ?? null;
  }
  get revenue(): number {
    return this.#metrics.revenue;
  }
  get profit(): number {
    return this.#metrics.profit;
  }
  get margin(): number {
    return this.#metrics.margin;
  }
  get growthRate(): number {
    return this.#metrics.growthRate;
  }
  get healthScore(): number {
    return this.#metrics.healthScore;
  }
  get customers(): number {
    return this.#metrics.customers;
  }
  get stage(): Stage {
    return this.#metrics.stage;
  }

  /** The plain entry, for JSON.stringify. */
  toJSON(): RankingEntry {
    return {
      rank: this.rank,
      businessId: this.businessId,
      name: this.name,
      score: this.score,
      revenue: this.revenue,
      profit: this.profit,
      margin: this.margin,
      growthRate: this.growthRate,
      healthScore: this.healthScore,
      customers: this.customers,
      stage: this.stage,
    };
  }
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Span {
  readonly min: number;
  /** max - min; a component equal everywhere (span 0) counts 1. */
  readonly span: number;
}

/** Each component's range over the businesses ranked. */
function spans(items: readonly BusinessMetrics[]): { profit: Span; growth: Span; health: Span } {
  let pMin = Number.POSITIVE_INFINITY;
  let pMax = Number.NEGATIVE_INFINITY;
  let gMin = Number.POSITIVE_INFINITY;
  let gMax = Number.NEGATIVE_INFINITY;
  let hMin = Number.POSITIVE_INFINITY;
  let hMax = Number.NEGATIVE_INFINITY;
  for (const m of items) {
    if (m.profit < pMin) pMin = m.profit;
    if (m.profit > pMax) pMax = m.profit;
    if (m.growthRate < gMin) gMin = m.growthRate;
    if (m.growthRate > gMax) gMax = m.growthRate;
    if (m.healthScore < hMin) hMin = m.healthScore;
    if (m.healthScore > hMax) hMax = m.healthScore;
  }
  return {
    profit: { min: pMin, span: pMax - pMin },
    growth: { min: gMin, span: gMax - gMin },
    health: { min: hMin, span: hMax - hMin },
  };
}

function normalise(s: Span, value: number): number {
  return s.span > 0 ? (value - s.min) / s.span : 1;
}
