import { StaleVersionError } from './errors.js';
import type { LastRun, Portfolio } from './model.js';
import type { Recommendation } from './recommend.js';

/**
 * Writes the recommended weights of the allocations that move. Refuses a recommendation made
 * from another version of the portfolio: the caller recomputes from the current one instead.
 * Locked and metric-less allocations are never touched. A recommendation that moves nothing
 * returns the portfolio itself: no new version, nothing to write.
 */
export function applyRecommendation(portfolio: Portfolio, rec: Recommendation, run: LastRun): Portfolio {
  if (rec.portfolioId !== portfolio.id || rec.version !== portfolio.version) {
    throw new StaleVersionError(rec.version, portfolio.version);
  }
  if (countChanges(rec) === 0) return portfolio;
  const allocations = portfolio.allocations.map((a, i) => {
    const action = rec.actions[i];
    if (!action || action.businessId !== a.businessId)
      throw new StaleVersionError(rec.version, portfolio.version);
    if (a.locked || (action.action !== 'increase' && action.action !== 'decrease')) return a;
    return { ...a, weight: action.recommendedWeight };
  });
  return {
    ...portfolio,
    allocations,
    version: portfolio.version + 1,
    updatedAt: run.at,
    lastRun: run,
  };
}

/** Number of allocations an apply actually changes (maintain, locked and no-metrics excluded). */
export function countChanges(rec: Recommendation): number {
  let changes = 0;
  for (const a of rec.actions) if (a.action === 'increase' || a.action === 'decrease') changes++;
  return changes;
}
