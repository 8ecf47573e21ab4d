/** What a recommendation is (recommend.ts computes it): one action per business, the turnover. */
import type { Strategy } from './model.js';

export const ACTION_KINDS = ['increase', 'decrease', 'maintain', 'locked', 'no-metrics'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface Action {
  readonly businessId: string;
  readonly action: ActionKind;
  readonly currentWeight: number;
  /** The weight after the run; equal to the current weight for maintain, locked and no-metrics. */
  readonly recommendedWeight: number;
  readonly reason: string;
}

export interface Recommendation {
  readonly portfolioId: string;
  /** The portfolio version this was computed from: apply refuses any other. */
  readonly version: number;
  readonly strategy: Strategy;
  /** In portfolio order, one per business. */
  readonly actions: readonly Action[];
  /** Half the sum of |new - old|. */
  readonly turnover: number;
  /** Set when max_turnover scaled every move down by this factor. */
  readonly turnoverScale: number | null;
  /** Current weight of the unlocked allocations, and of those among them without metrics. */
  readonly unlockedWeight: number;
  readonly missingWeight: number;
}

export interface RecommendOptions {
  /** Why a business has no metrics this run (missing, invalid, timed out...), for the report. */
  readonly missingReasons?: ReadonlyMap<string, string>;
  /**
   * Plain drift-band rounds before the indexed ones take over (see drift-band.ts); default
   * max(8, log2 n). Tests set 0 to run the indexed rounds on small portfolios.
   */
  readonly plainRounds?: number;
}
