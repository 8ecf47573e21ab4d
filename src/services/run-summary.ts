/** What a run did to its portfolios, counted from the run's hash of outcomes, and its breaker. */

import type { RunOutcome } from '../adapters/redis-report-store.js';
import type { App } from '../app.js';

export interface RunSummary {
  /** Portfolios by outcome: changed, unchanged, held (for approval), advisory, skipped, dry-run. */
  readonly outcomes: Record<RunOutcome, number>;
  /** Why the run's circuit breaker opened (the rest of the run was held); null when it did not. */
  readonly circuitOpen: string | null;
}

export async function runSummary(app: Pick<App, 'reports'>, runId: string): Promise<RunSummary> {
  const outcomes: Record<RunOutcome, number> = {
    changed: 0,
    unchanged: 0,
    held: 0,
    advisory: 0,
    skipped: 0,
    'dry-run': 0,
    cancelled: 0,
  };
  for await (const page of app.reports.runOutcomes(runId)) {
    for (const [, o] of page) if (Object.hasOwn(outcomes, o)) outcomes[o]++;
  }
  const { circuitOpen } = await app.reports.runTally(runId);
  return { outcomes, circuitOpen };
}
