import type { MetricsResult, MetricsSource } from '../../src/adapters/metrics/metrics-source.js';
import { type BusinessMetrics, metricsFromWire, type WireMetrics } from '../../src/domain/index.js';

/**
 * An in-process metrics source for runtime tests (the metrics source is Ballast's own
 * interface, not Redis or BullMQ). `beforeAnswer` lets a test act between a run's read and its
 * apply, like an operator would.
 */
export class MemoryMetricsSource implements MetricsSource {
  readonly kind = 'file' as const;
  readonly data = new Map<string, BusinessMetrics>();
  readonly requests = new Map<string, number>();
  beforeAnswer: ((ids: readonly string[]) => Promise<void>) | undefined;

  set(...entries: WireMetrics[]): this {
    for (const e of entries) this.data.set(e.business_id, metricsFromWire(e));
    return this;
  }

  async fetch(ids: readonly string[]): Promise<MetricsResult> {
    for (const id of ids) this.requests.set(id, (this.requests.get(id) ?? 0) + 1);
    await this.beforeAnswer?.(ids);
    const metrics = new Map<string, BusinessMetrics>();
    const missing = new Map<string, string>();
    for (const id of ids) {
      const m = this.data.get(id);
      if (m) metrics.set(id, m);
      else missing.set(id, 'not in the test source');
    }
    return { metrics, missing };
  }
}

export function wire(
  id: string,
  revenue: number,
  profit: number,
  extra: Partial<WireMetrics> = {},
): WireMetrics {
  return { business_id: id, revenue, profit, growth_rate: 5, health_score: 70, stage: 'growth', ...extra };
}
