/**
 * What a run would do now, without applying it or publishing a report: the roll-up, the ranking
 * and the actions computed by the same pure `runPortfolio` as the job, on live metrics.
 */
import type { App } from '../app.js';
import { type Portfolio, reportToWire, runPortfolio, type WireReport } from '../domain/index.js';
import { manualRunId } from '../runtime/run-ids.js';
import { UnavailableError } from './errors.js';

export async function previewRun(app: App, portfolio: Portfolio): Promise<WireReport> {
  const now = app.clock();
  // A run id of its own: the preview shares no cached metrics with runs, so it shows fresh ones.
  const runId = manualRunId(now, 'preview');
  let fetched: Awaited<ReturnType<ReturnType<App['metricsFor']>['fetch']>>;
  try {
    fetched = await app.metricsFor(runId).fetch(portfolio.allocations.map((a) => a.businessId));
  } catch (err) {
    throw new UnavailableError(
      `the ${app.config.metrics.source} metrics source failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const { report } = runPortfolio({
    portfolio,
    metrics: fetched.metrics,
    missingReasons: fetched.missing,
    runId,
    reportId: `${runId}.${portfolio.id}`,
    trigger: 'manual',
    now: now.toISOString(),
    dryRun: true,
  });
  return reportToWire(report);
}

/** Sum of |recommended - current|: the sketch's `total_reallocation` (twice the turnover). */
export function totalReallocation(report: WireReport): number {
  let total = 0;
  for (const a of report.actions) total += Math.abs(a.recommended_weight - a.current_weight);
  return total;
}
