/**
 * A run report as a person reads it: the ranking and the actions in one table, then the roll-up
 * and the turnover. Works from the wire shape, so `plan`, `reports show` and `enqueue --wait`
 * can all print what they have.
 */
import type { WireReport } from '../domain/index.js';
import { type Column, formatPairs, formatTable } from './output.js';
import { describeReason } from './proposal-text.js';

type WireAction = WireReport['actions'][number];
type WireRanking = WireReport['ranking'][number];

interface Row {
  readonly rank: number | null;
  readonly businessId: string;
  readonly name: string | null;
  readonly score: number | null;
  readonly action: WireAction | undefined;
}

export function formatReportText(report: WireReport): string {
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
  if (report.skipped) return `${head}Skipped: ${report.skipped.reason}\n`;
  const parts = [
    head + formatGuards(report),
    formatActions(report),
    formatRollup(report),
    formatTurnover(report),
  ];
  return parts.filter((part) => part !== '').join('\n');
}

/** Why a run held (or would hold) the recommendation, and the metrics the guards set aside. */
function formatGuards(report: WireReport): string {
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

function formatActions(report: WireReport): string {
  const actions = new Map(report.actions.map((a) => [a.business_id, a]));
  // Ranking order (best first, unranked last); a business missing from the ranking still gets a row.
  const rows: Row[] = report.ranking.map((entry: WireRanking) => ({
    rank: entry.rank,
    businessId: entry.business_id,
    name: entry.name,
    score: entry.score,
    action: actions.get(entry.business_id),
  }));
  const ranked = new Set(rows.map((row) => row.businessId));
  for (const action of report.actions) {
    if (!ranked.has(action.business_id)) {
      rows.push({ rank: null, businessId: action.business_id, name: null, score: null, action });
    }
  }
  if (rows.length === 0) return 'No businesses in this portfolio.\n';
  const columns: Column<Row>[] = [
    { header: 'Rank', value: (r) => (r.rank === null ? '-' : String(r.rank)), align: 'right' },
    { header: 'Business', value: (r) => r.businessId },
  ];
  if (rows.some((row) => row.name !== null)) columns.push({ header: 'Name', value: (r) => r.name ?? '' });
  columns.push(
    { header: 'Score', value: (r) => (r.score === null ? '-' : r.score.toFixed(3)), align: 'right' },
    { header: 'Action', value: (r) => r.action?.action ?? '-' },
    { header: 'Weight', value: (r) => (r.action ? weightMove(r.action) : '-') },
    { header: 'Reason', value: (r) => r.action?.reason ?? '' },
  );
  return formatTable(columns, rows);
}

function weightMove(action: WireAction): string {
  return `${percent(action.current_weight * 100, 2)} -> ${percent(action.recommended_weight * 100, 2)}`;
}

function formatRollup(report: WireReport): string {
  const m = report.metrics;
  if (!m) return '';
  const without = report.ranking.filter((entry) => entry.rank === null).map((entry) => entry.business_id);
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

function formatTurnover(report: WireReport): string {
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

function percent(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return `${/^-0(\.0+)?$/.test(text) ? text.slice(1) : text}%`;
}

const moneyFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function money(value: number): string {
  return moneyFormat.format(value);
}
