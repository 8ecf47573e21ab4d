/** The plain values of the runs service: a portfolio's line in a run, and empty counts and records. */
import type { RunRecord } from '../adapters/redis-run-store.js';
import type { PortfolioOutcome } from '../domain/run-state.js';

/** What a run did, counted: the outcomes of its portfolios, and those gone or failed for good. */
export interface RunCounts {
  changed: number;
  unchanged: number;
  held: number;
  advisory: number;
  skipped: number;
  dry_run: number;
  cancelled: number;
  gone: number;
  failed: number;
}

export interface WireRunPortfolio {
  readonly portfolio_id: string;
  readonly outcome: PortfolioOutcome;
  readonly report_id: string | null;
  readonly changes: number | null;
  readonly turnover: number | null;
  /** Why it was skipped (paused, archived...), when it was. */
  readonly skipped: string | null;
  /** Why it was held: each guard and its detail (read from the full report). */
  readonly held: { guard: string; detail: string }[] | null;
  /** Why its job failed for good. */
  readonly error: string | null;
}

export function portfolioEntry(
  id: string,
  outcome: PortfolioOutcome,
  summaryJson: string | null,
  error: string | null,
): WireRunPortfolio {
  const summary = summaryJson
    ? (JSON.parse(summaryJson) as {
        report_id: string;
        changes: number;
        turnover: number;
        skipped: { reason: string } | null;
        // A summary names the guards; a marker's full report (before summaries) has the reasons.
        held: { guards?: string[]; reasons?: { guard: string; detail: string }[] } | null;
      })
    : null;
  return {
    portfolio_id: id,
    outcome,
    report_id: summary?.report_id ?? null,
    changes: summary?.changes ?? null,
    turnover: summary?.turnover ?? null,
    skipped: summary?.skipped?.reason ?? null,
    held: summary?.held
      ? (summary.held.reasons ?? (summary.held.guards ?? []).map((guard) => ({ guard, detail: '' })))
      : null,
    error,
  };
}

export function emptyCounts(): RunCounts {
  return {
    changed: 0,
    unchanged: 0,
    held: 0,
    advisory: 0,
    skipped: 0,
    dry_run: 0,
    cancelled: 0,
    gone: 0,
    failed: 0,
  };
}

export function emptyRecord(runId: string): RunRecord {
  return {
    runId,
    trigger: null,
    slot: null,
    actor: null,
    catchUp: false,
    queuedAt: null,
    startedAt: null,
    fannedOutAt: null,
    finishedAt: null,
    cancelledAt: null,
    cancelledBy: null,
    stats: null,
    total: null,
    decided: 0,
    held: 0,
    circuitOpen: null,
    committed: 0,
    gone: 0,
    failed: 0,
  };
}
