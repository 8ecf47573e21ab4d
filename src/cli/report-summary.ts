/**
 * Reports as they come out of Redis: read back from their stored JSON, and summed up in one line
 * (`reports tail`) or one row (`reports show --limit`). The full text of one report is
 * report-text.ts.
 */
import type { WireReport, WireReportSummary } from '../domain/index.js';
import { type Column, formatTable } from './output.js';

/**
 * The stored JSON as a report (`full`) or as the fields a line needs (a summary of the global
 * stream, or a report), or null when it is not one. Reports are written by Ballast, but the
 * streams are public and shared: a foreign or truncated entry must not crash an operator's tail.
 */
function parseStored(json: string, full: boolean): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const ok =
    typeof r['portfolio_id'] === 'string' &&
    typeof r['run_id'] === 'string' &&
    typeof r['created_at'] === 'string' &&
    typeof r['turnover'] === 'number' &&
    typeof r['changes'] === 'number' &&
    (!full || (Array.isArray(r['actions']) && Array.isArray(r['ranking'])));
  return ok ? r : null;
}

export function parseStoredReport(json: string): WireReport | null {
  return parseStored(json, true) as WireReport | null;
}

export function parseStoredSummary(json: string): ReportLine | null {
  return parseStored(json, false) as ReportLine | null;
}

/** What one line of `reports tail` shows: a summary has it, and so has a full report. */
export type ReportLine = Pick<
  WireReportSummary,
  'created_at' | 'portfolio_id' | 'run_id' | 'skipped' | 'dry_run' | 'applied' | 'changes' | 'turnover'
> & { readonly held?: unknown; readonly apply_mode?: string };

/** applied | held | advisory | dry-run | skipped (with the reason). */
export function reportOutcome(r: ReportLine): string {
  if (r.skipped) return `skipped (${r.skipped.reason})`;
  if (r.dry_run) return 'dry-run';
  if (r.applied) return 'applied';
  if (r.held) return 'held for approval';
  return r.apply_mode === 'advisory' ? 'advisory' : 'not applied';
}

/** `time  portfolio  run  outcome  changes  turnover`: one line per report for `reports tail`. */
export function formatReportLine(r: ReportLine): string {
  const changes = `${r.changes} ${r.changes === 1 ? 'change' : 'changes'}`;
  return `${r.created_at}  ${r.portfolio_id}  run ${r.run_id}  ${reportOutcome(r)}  ${changes}  turnover ${percent(r.turnover * 100)}\n`;
}

/** Newest first, as `reports show --limit` lists them. */
export function formatReportHistory(reports: readonly WireReport[]): string {
  const columns: Column<WireReport>[] = [
    { header: 'Time', value: (r) => r.created_at },
    { header: 'Run', value: (r) => r.run_id },
    { header: 'Trigger', value: (r) => r.trigger },
    { header: 'Outcome', value: reportOutcome },
    { header: 'Changes', value: (r) => String(r.changes), align: 'right' },
    { header: 'Turnover', value: (r) => percent(r.turnover * 100), align: 'right' },
    { header: 'Version', value: versions },
  ];
  return formatTable(columns, reports);
}

function versions(r: WireReport): string {
  return r.version_after === r.version_before
    ? String(r.version_before)
    : `${r.version_before} -> ${r.version_after}`;
}

function percent(value: number): string {
  const text = value.toFixed(2);
  return `${/^-0(\.0+)?$/.test(text) ? text.slice(1) : text}%`;
}
