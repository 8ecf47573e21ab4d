/** A portfolio's stored reports as the console shows them (read loosely: older ones lack fields). */
import { reportOutcome } from '../../services/portfolios.js';
import type { ShownReport } from '../views/portfolio-history.js';

interface Loose {
  report_id?: unknown;
  run_id?: unknown;
  trigger?: unknown;
  created_at?: unknown;
  applied?: unknown;
  turnover?: unknown;
  changes?: unknown;
  held?: { reasons?: unknown } | null;
  skipped?: { reason?: unknown } | null;
  actions?: unknown;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function parseReports(
  entries: readonly { readonly id: string; readonly report: string | null }[],
  unreadable: (entryId: string) => void,
): ShownReport[] {
  const out: ShownReport[] = [];
  for (const entry of entries) {
    const r = parseOrNull(entry.report) as Loose;
    const last = reportOutcome(r);
    if (last === null) {
      unreadable(entry.id);
      continue;
    }
    const reasons = Array.isArray(r.held?.reasons) ? (r.held.reasons as Loose[]) : [];
    const actions = Array.isArray(r.actions) ? (r.actions as Record<string, unknown>[]) : [];
    out.push({
      report_id: last.report_id,
      run_id: last.run_id,
      trigger: str(r.trigger),
      created_at: last.at,
      outcome: last.outcome,
      applied: r.applied === true,
      turnover: num(r.turnover),
      changes: last.changes,
      held: reasons.map((h) => {
        const reason = h as Record<string, unknown>;
        return { guard: str(reason.guard), detail: str(reason.detail) };
      }),
      skipped: r.skipped ? str(r.skipped.reason) : null,
      actions: actions.map((a) => ({
        business_id: str(a.business_id),
        action: str(a.action),
        current_weight: num(a.current_weight),
        recommended_weight: num(a.recommended_weight),
        reason: str(a.reason),
      })),
    });
  }
  return out;
}

function parseOrNull(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
