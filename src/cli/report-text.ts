/**
 * A run report as a person reads it: the ranking and the actions in one table, then the roll-up
 * and the turnover. Works from the wire shape, so `plan`, `reports show` and `enqueue --wait`
 * can all print what they have.
 */
import type { WireReport } from '../domain/index.js';
import { formatPairs } from './output.js';
import { describeReason } from './proposal-text.js';
import { percent, reportTableChunks, type TableView, WIRE_TABLE } from './report-table.js';

/** Everything of a report but its ranking and actions, which come apart. */
type ReportHead = Omit<WireReport, 'ranking' | 'actions'>;

export function formatReportText(report: WireReport): string {
  let text = '';
  for (const chunk of reportTextChunks(report)) text += chunk;
  return text;
}

/** formatReportText's text in slices, the table's a few lines at a time (it can be 10 MB). */
export function reportTextChunks(report: WireReport): Generator<string> {
  return reportTextChunksOf(report, report.ranking, report.actions, WIRE_TABLE);
}

/** The same from a report whose ranking and actions are read through `view` (the domain's). */
export function* reportTextChunksOf<Entry, Act>(
  report: ReportHead,
  ranking: readonly Entry[],
  actions: readonly Act[],
  view: TableView<Entry, Act>,
): Generator<string> {
  // Reports written before the guards have no `held`, `flags` or `apply_mode`.
  const held = report.held ?? null;
  const mode = report.dry_run
    ? 'dry run, nothing applied'
    : report.applied
      ? 'applied'
      : held
        ? 'held for approval, nothing applied'
        : report.apply_mode === 'advisory'
          ? 'advisory, nothing applied'
          : 'not applied';
  const head =
    `Portfolio ${report.portfolio_id}: ${report.strategy} strategy, ${mode}` +
    ` (version ${report.version_before}${report.version_after !== report.version_before ? ` -> ${report.version_after}` : ''})\n`;
  if (report.skipped) {
    yield `${head}Skipped: ${report.skipped.reason}\n`;
    return;
  }
  // The parts, one blank line apart; the roll-up is left out when there is none.
  yield `${head}${formatGuards(report)}\n`;
  yield* reportTableChunks(ranking, actions, view);
  const without: string[] = [];
  for (const entry of ranking) if (view.rank(entry) === null) without.push(view.entryId(entry));
  const rollup = formatRollup(report, without);
  if (rollup !== '') yield `\n${rollup}`;
  yield `\n${formatTurnover(report)}`;
}

/** Why a run held (or would hold) the recommendation, and the metrics the guards set aside. */
function formatGuards(report: ReportHead): string {
  let text = '';
  const held = report.held ?? null;
  if (held) {
    text += `${report.dry_run ? 'A run would hold it' : 'Held'} because:\n`;
    text += held.reasons.map((r) => `  - ${describeReason(r)}\n`).join('');
    if (!report.dry_run)
      text += `Approve or reject: ballast proposals approve|reject ${report.portfolio_id}\n`;
  }
  const setAside = (report.flags ?? []).filter((f) => f.guard !== 'metric-jump');
  if (setAside.length > 0) {
    text += 'Metrics set aside (treated as missing):\n';
    text += setAside.map((f) => `  - ${describeReason(f)}\n`).join('');
  }
  return text;
}

function formatRollup(report: ReportHead, without: readonly string[]): string {
  const m = report.metrics;
  if (!m) return '';
  const roi =
    m.roi === null
      ? 'n/a (no total budget)'
      : `${percent(m.roi, 1)} against a target of ${percent(m.target_roi, 1)}: ${m.roi_met ? 'met' : 'not met'}`;
  const pairs: [string, string][] = [
    ['Revenue', money(m.total_revenue)],
    ['Expenses', money(m.total_expenses)],
    ['Profit', money(m.total_profit)],
    ['Net margin', percent(m.net_margin, 1)],
    ['ROI', roi],
    [
      'Growth',
      `${percent(m.growth_rate, 1)} average, ${percent(m.revenue_weighted_growth_rate, 1)} revenue-weighted`,
    ],
    ['Best performer', m.best_performer ?? '-'],
    ['Worst performer', m.worst_performer ?? '-'],
    ['Without metrics', without.length === 0 ? 'none' : `${without.length}: ${listIds(without)}`],
  ];
  return `Roll-up (${m.businesses_with_metrics} of ${m.active_businesses} businesses with metrics)\n${formatPairs(pairs)}`;
}

function formatTurnover(report: ReportHead): string {
  const scaled =
    report.turnover_scale === null
      ? ''
      : ` (capped by max turnover: every move scaled to ${percent(report.turnover_scale * 100, 1)})`;
  const changes = `${report.changes} ${report.changes === 1 ? 'allocation changes' : 'allocations change'}`;
  return `Turnover ${percent(report.turnover * 100, 2)}${scaled}; ${changes}\n`;
}

/** Long lists (a large portfolio with many metric-less businesses) are cut after a few ids. */
function listIds(ids: readonly string[], shown = 10): string {
  const head = ids.slice(0, shown).join(', ');
  return ids.length > shown ? `${head} and ${ids.length - shown} more` : head;
}

const moneyFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function money(value: number): string {
  return moneyFormat.format(value);
}
