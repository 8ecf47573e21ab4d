import { expect } from 'vitest';
import {
  type Allocation,
  type BusinessMetrics,
  metricsFromWire,
  type Portfolio,
  portfolioFromWire,
  SUM_TOLERANCE,
  type WireMetrics,
  type WirePortfolioInput,
} from '../../src/domain/index.js';

/** The domain has no clock: every test passes pinned timestamps. */
export const T0 = '2026-01-01T00:00:00.000Z';
export const T1 = '2026-01-01T00:01:00.000Z';
export const T2 = '2026-01-01T00:02:00.000Z';
export const T3 = '2026-01-01T00:03:00.000Z';
export const T4 = '2026-01-01T00:04:00.000Z';

export function sumOf(p: Portfolio): number {
  return p.allocations.reduce((total, a) => total + a.weight, 0);
}

/** Invariant 1: weights finite and in [0,1]; with at least one business they sum to 1. */
export function expectWeightsValid(p: Portfolio): void {
  for (const a of p.allocations) {
    expect(Number.isFinite(a.weight), `${a.businessId} weight ${a.weight} is finite`).toBe(true);
    expect(a.weight, `${a.businessId} weight`).toBeGreaterThanOrEqual(0);
    expect(a.weight, `${a.businessId} weight`).toBeLessThanOrEqual(1);
  }
  if (p.allocations.length > 0) {
    expect(Math.abs(sumOf(p) - 1), `weights sum to ${sumOf(p)}`).toBeLessThanOrEqual(SUM_TOLERANCE);
  }
}

export function weightsOf(p: Portfolio): Record<string, number> {
  return Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));
}

/** The sketch's `manager.set_business_data(id, {...})` calls, as a metrics map. */
export function metricsMap(
  entries: Record<string, Omit<WireMetrics, 'business_id'>>,
): Map<string, BusinessMetrics> {
  return new Map(
    Object.entries(entries).map(([id, data]) => [id, metricsFromWire({ business_id: id, ...data })]),
  );
}

/** A portfolio in the wire format, with the boilerplate filled in. */
export function wirePortfolio(
  input: Omit<WirePortfolioInput, 'id' | 'name' | 'owner_id'> & { id?: string },
): Portfolio {
  return portfolioFromWire({ id: 'p1', name: 'Test', owner_id: 'user_1', created_at: T0, ...input }, T0);
}

/**
 * The portfolio with some allocations changed in code, past the wire schema: a weight outside
 * its own bounds, as a portfolio stored before the schema refused one can hold.
 */
export function withAllocations(p: Portfolio, edits: Record<string, Partial<Allocation>>): Portfolio {
  return { ...p, allocations: p.allocations.map((a) => ({ ...a, ...edits[a.businessId] })) };
}
