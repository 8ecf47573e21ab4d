/**
 * History, audit, restore and revert as a person reads them. Pure: they take what the services
 * return (the wire shapes `--json` prints) and return strings, so the text and the JSON agree.
 */
import {
  causeFromWire,
  describeCause,
  type WireAuditEntry,
  type WireCause,
  type WireHistoryRecord,
} from '../domain/index.js';
import type { HistoryPage, RestoreResult } from '../services/history.js';
import type { RevertConflict, RevertResult } from '../services/revert.js';
import { type Column, formatTable } from './output.js';

/** A wire cause as a person reads it: the domain's describeCause, on the wire shape. */
export function describeWireCause(cause: WireCause): string {
  return describeCause(causeFromWire(cause));
}

/** An ISO timestamp without its milliseconds: the column stays narrow and still sorts. */
function when(at: string): string {
  return at.replace(/\.\d{3}Z$/, 'Z');
}

function changesWithNote(changes: string, note: string | null): string {
  return note ? `${changes} (note: ${note})` : changes;
}

const HISTORY_COLUMNS: readonly Column<WireHistoryRecord>[] = [
  { header: 'Version', value: (r) => String(r.version), align: 'right' },
  { header: 'When', value: (r) => when(r.at) },
  { header: 'Actor', value: (r) => r.actor },
  { header: 'Cause', value: (r) => describeWireCause(r.cause) },
  { header: 'Changes', value: (r) => changesWithNote(r.changes, r.note) },
];

export function formatHistoryText(page: HistoryPage): string {
  const head = `Portfolio ${page.portfolio_id}: version ${page.current_version}`;
  if (!page.kept || page.history.length === 0) {
    return `${head}; no history recorded (history starts with the first change recorded)\n`;
  }
  const { oldest, newest, count } = page.kept;
  const kept = `history keeps versions ${oldest} to ${newest} (${count} ${count === 1 ? 'record' : 'records'})`;
  const shown =
    page.history.length < count ? `; the newest ${page.history.length} shown (--limit shows more)` : '';
  return `${head}; ${kept}${shown}\n\n${formatTable(HISTORY_COLUMNS, page.history)}`;
}

const AUDIT_COLUMNS: readonly Column<WireAuditEntry>[] = [
  { header: 'When', value: (e) => when(e.at) },
  { header: 'Actor', value: (e) => e.actor },
  { header: 'Portfolio', value: (e) => e.portfolio_id },
  { header: 'Cause', value: (e) => describeWireCause(e.cause) },
  { header: 'Version', value: (e) => `${e.version_before} -> ${e.version_after}` },
  { header: 'Changes', value: (e) => changesWithNote(e.changes, e.note) },
];

export function formatAuditText(entries: readonly WireAuditEntry[]): string {
  if (entries.length === 0) return 'No changes match.\n';
  return formatTable(AUDIT_COLUMNS, entries);
}

/** The line that says what a restore did (or, with --dry-run, would do). */
export function formatRestoreLine(r: RestoreResult): string {
  const which = `portfolio ${r.portfolio_id} to version ${r.restored_version}`;
  if (!r.changed) {
    return `Nothing to restore: portfolio ${r.portfolio_id} already has the allocations of version ${r.restored_version} (it stays at version ${r.version_before})\n`;
  }
  if (r.dry_run) return `Would restore ${which}: as version ${r.version_after} (${r.changes})\n`;
  return `Restored ${which}: now version ${r.version_after} (${r.changes})\n`;
}

/** Ids listed in full up to this many; a longer list is cut and says how many more. */
const LISTED = 20;

function ids(list: readonly string[]): string {
  if (list.length <= LISTED) return list.join(', ');
  return `${list.slice(0, LISTED).join(', ')} and ${list.length - LISTED} more (--json lists them all)`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatRevertText(r: RevertResult): string {
  const verb = r.dry_run ? 'Would revert' : 'Reverted';
  const lines = [
    `${r.dry_run ? 'Dry run of' : 'Revert of'} run ${r.run_id}${r.force ? ' (forced)' : ''}: ` +
      `${r.reverted.length} ${r.dry_run ? 'to revert' : 'reverted'}, ${plural(r.conflicts.length, 'conflict')}, ` +
      `${r.already_reverted.length} already reverted, ${r.unchanged.length} unchanged by the run`,
  ];
  if (r.reverted.length > 0) lines.push(`${verb}: ${ids(r.reverted)}`);
  if (r.already_reverted.length > 0) lines.push(`Already reverted: ${ids(r.already_reverted)}`);
  if (r.conflicts.length > 0) {
    lines.push('Conflicts (not reverted):');
    for (const c of r.conflicts) lines.push(`  ${conflictLine(c)}`);
    if (!r.force && r.conflicts.some((c) => c.changed_since !== null)) {
      lines.push(
        'Run again with --force to revert only the allocations the run moved in the portfolios changed since.',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function conflictLine(c: RevertConflict): string {
  const since = c.changed_since;
  if (!since) return `${c.portfolio_id}: ${c.reason}`;
  return (
    `${c.portfolio_id}: changed since the run by ${since.actor} ` +
    `(version ${since.version}, ${describeWireCause(since.cause)}, ${when(since.at)})`
  );
}
