/**
 * What a run would do now, without applying it or publishing a report: the roll-up, the ranking
 * and the actions computed by the same pure `runPortfolio` as the job, on live metrics.
 */
import type { App } from '../../app.js';
import { type Portfolio, reportToWire, runPortfolio, type WireReport } from '../../domain/index.js';
import { manualRunId } from '../../runtime/run-ids.js';
import { UnavailableError } from '../http/errors.js';
import type { RequestDeadline } from '../http/request-deadline.js';

export async function previewRun(
  app: App,
  portfolio: Portfolio,
  deadline: RequestDeadline,
): Promise<WireReport> {
  const now = app.clock();
  // A run id of its own: the preview shares no cached metrics with runs, so it shows fresh ones.
  const runId = manualRunId(now, 'preview');
  const source = app.metricsFor(runId);
  const ids = portfolio.allocations.map((a) => a.businessId);
  // Stopped when the request is answered or abandoned: nobody would read what it fetched.
  const fetch = () => source.fetch(ids, deadline.signal);
  let fetched: Awaited<ReturnType<typeof fetch>>;
  try {
    // The HTTP source bounds its own wait (a time-out per attempt, retries, backoff) and then
    // answers the businesses it could not reach as no-metrics: the request deadline, meant for a
    // Redis that never answers, must not turn that into a 503. The redis source waits through
    // Redis outages (the app's connection), so it stays under the deadline, as the file source.
    fetched = await (source.kind === 'http' ? deadline.excluding(fetch) : fetch());
  } catch (err) {
    if (deadline.signal.aborted) {
      throw new UnavailableError(
        `${(deadline.signal.reason as Error).message} before the metrics arrived: this is a read, nothing was changed`,
      );
    }
    throw new UnavailableError(
      `the ${source.kind} metrics source failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  // The guards a run would apply: a preview shows what a run would hold, and the metrics it would set aside.
  const baseline = app.config.guards.enabled ? await app.proposals.baseline(portfolio.id) : null;
  const { report } = runPortfolio({
    portfolio,
    guards: { settings: app.config.guards, baseline, circuitOpen: null },
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
