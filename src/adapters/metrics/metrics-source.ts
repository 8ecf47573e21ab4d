import type { BusinessMetrics } from '../../domain/index.js';

/** What a metrics source answers for a set of businesses: never invented data. */
export interface MetricsResult {
  readonly metrics: ReadonlyMap<string, BusinessMetrics>;
  /** Businesses without usable metrics this run, with a reason a person can read. */
  readonly missing: ReadonlyMap<string, string>;
}

export interface MetricsSource {
  readonly kind: 'http' | 'redis' | 'file';
  /**
   * Metrics for each id. Never throws for a single business's failure (that business is
   * "missing" with a reason); throws only when the source as a whole is unusable.
   */
  fetch(businessIds: readonly string[], signal?: AbortSignal): Promise<MetricsResult>;
  close?(): Promise<void>;
}

/** Counts calls per business for observability and the bench's "calls per business per run". */
export interface MetricsSourceStats {
  calls: number;
  businessesRequested: number;
  errors: number;
}
