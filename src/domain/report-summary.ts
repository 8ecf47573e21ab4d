/**
 * A report in a few hundred bytes: what the global report stream, the pub/sub channel and the run
 * markers carry (the full report is stored once, in the portfolio's report stream, and as its
 * latest report). `stream_id` is the full report's id in `<prefix>:{<portfolio_id>}:reports`.
 */
import type { WireReport } from './wire.js';

export function reportSummary(r: WireReport) {
  return {
    report_id: r.report_id,
    portfolio_id: r.portfolio_id,
    run_id: r.run_id,
    trigger: r.trigger,
    created_at: r.created_at,
    strategy: r.strategy,
    apply_mode: r.apply_mode,
    applied: r.applied,
    dry_run: r.dry_run,
    held: r.held ? { guards: [...new Set(r.held.reasons.map((x) => x.guard))] } : null,
    skipped: r.skipped,
    changes: r.changes,
    turnover: r.turnover,
    version_before: r.version_before,
    version_after: r.version_after,
  };
}

/** As stored: the summary with the full report's stream id, added by the commit script. */
export type WireReportSummary = ReturnType<typeof reportSummary> & { readonly stream_id?: string };
