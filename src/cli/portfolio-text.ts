/**
 * A portfolio as a person reads it: its settings, then one row per allocation with the derived
 * figures (budget amount, attention hours). Works from the wire shape, like report-text.ts, so
 * what a person sees is what `--json` prints.
 */
import type { ApplyMode, RebalanceTrigger, WirePortfolio } from '../domain/index.js';
import { type Column, formatPairs, formatTable } from './output.js';

type WireAllocation = {
  readonly weight: number;
  readonly budget_amount: number;
  readonly attention_hours: number;
  readonly priority: number;
  readonly locked: boolean;
  readonly min_weight: number | null;
  readonly max_weight: number | null;
  readonly target_weight: number | null;
};

interface AllocationRow extends WireAllocation {
  readonly businessId: string;
}

export function formatPortfolioText(p: WirePortfolio): string {
  return `${formatSettings(p)}\n${formatAllocations(p)}`;
}

export function formatSettings(p: WirePortfolio): string {
  const lastRun = p.last_run
    ? `${p.last_run.at} (run ${p.last_run.run_id}, report ${p.last_run.report_id})`
    : 'never';
  const pairs: [string, string][] = [
    ['Owner', p.owner_id],
    ['Status', p.status],
    ['Strategy', p.strategy],
    ['Total budget', money(p.total_budget)],
    ['Target ROI', percent(p.target_roi, 1)],
    ['Drift threshold', driftText(p)],
    ['Rebalance trigger', TRIGGER_TEXT[p.rebalance_trigger]],
    [
      'Min trade',
      p.min_trade === null
        ? 'none'
        : `${p.min_trade} (moves under ${percent(p.min_trade * 100, 1)} are not made)`,
    ],
    [
      'Max turnover',
      p.max_turnover === null ? 'none' : `${p.max_turnover} (${percent(p.max_turnover * 100, 1)} a run)`,
    ],
    ['Apply mode', APPLY_MODE_TEXT[p.apply_mode]],
    [
      'Max auto turnover',
      p.max_auto_turnover === null
        ? 'default (BALLAST_GUARD_MAX_TURNOVER): a run turning over more waits for approval'
        : `${p.max_auto_turnover} (a run turning over more than ${percent(p.max_auto_turnover * 100, 1)} waits for approval)`,
    ],
    ['Attention', `${hours(p.attention_hours_per_week)} hours a week`],
    ['Version', String(p.version)],
    ['Created', p.created_at],
    ['Updated', p.updated_at],
    ['Last run', lastRun],
  ];
  return `Portfolio ${p.id}: ${p.name}\n${formatPairs(pairs)}`;
}

export function formatAllocations(p: WirePortfolio): string {
  const rows: AllocationRow[] = p.businesses.map((businessId) => ({
    businessId,
    ...(p.allocations[businessId] as WireAllocation),
  }));
  if (rows.length === 0) {
    return `No businesses yet: add one with \`ballast portfolio add-business ${p.id} <business-id>\`.\n`;
  }
  const columns: Column<AllocationRow>[] = [
    { header: 'Business', value: (r) => r.businessId },
    { header: 'Weight', value: (r) => percent(r.weight * 100, 2), align: 'right' },
    { header: 'Budget', value: (r) => money(r.budget_amount), align: 'right' },
    { header: 'Hours/wk', value: (r) => hours(r.attention_hours), align: 'right' },
    { header: 'Priority', value: (r) => String(r.priority), align: 'right' },
    { header: 'Locked', value: (r) => (r.locked ? 'yes' : 'no') },
    { header: 'Bounds', value: bounds },
    { header: 'Target', value: (r) => (r.target_weight === null ? '-' : percent(r.target_weight * 100, 2)) },
  ];
  const total = rows.reduce((sum, r) => sum + r.weight, 0);
  const locked = rows.filter((r) => r.locked).length;
  const footer =
    `${rows.length} ${rows.length === 1 ? 'business' : 'businesses'}, weights total ${percent(total * 100, 2)}` +
    (locked > 0 ? `, ${locked} locked` : '');
  return `${formatTable(columns, rows)}${footer}\n`;
}

/** One line per portfolio for `portfolio list`. */
export interface PortfolioSummary {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly status: string;
  readonly strategy: string;
  readonly businesses: number;
}

export function summarise(p: WirePortfolio): PortfolioSummary {
  return {
    id: p.id,
    name: p.name,
    owner: p.owner_id,
    status: p.status,
    strategy: p.strategy,
    businesses: p.business_count,
  };
}

export function formatPortfolioList(rows: readonly PortfolioSummary[]): string {
  if (rows.length === 0) return 'No portfolios.\n';
  const columns: Column<PortfolioSummary>[] = [
    { header: 'ID', value: (r) => r.id },
    { header: 'Name', value: (r) => r.name },
    { header: 'Owner', value: (r) => r.owner },
    { header: 'Status', value: (r) => r.status },
    { header: 'Strategy', value: (r) => r.strategy },
    { header: 'Businesses', value: (r) => String(r.businesses), align: 'right' },
  ];
  return formatTable(columns, rows);
}

function bounds(r: WireAllocation): string {
  if (r.min_weight === null && r.max_weight === null) return '-';
  if (r.max_weight === null) return `>= ${percent(r.min_weight! * 100, 2)}`;
  if (r.min_weight === null) return `<= ${percent(r.max_weight * 100, 2)}`;
  return `${percent(r.min_weight * 100, 2)}..${percent(r.max_weight * 100, 2)}`;
}

function percent(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return `${/^-0(\.0+)?$/.test(text) ? text.slice(1) : text}%`;
}

const moneyFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function money(value: number): string {
  return moneyFormat.format(value);
}

function hours(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function driftText(p: WirePortfolio): string {
  const t = p.drift_threshold;
  return p.drift_type === 'relative'
    ? `${t} relative (an allocation within ${percent(t * 100, 1)} of its target, in proportion to it, is kept)`
    : `${t} (an allocation within ${(t * 100).toFixed(1)} points of its target is kept)`;
}

const TRIGGER_TEXT: Record<RebalanceTrigger, string> = {
  allocation: 'allocation (each allocation outside its drift band moves; the others are kept)',
  portfolio: 'portfolio (one allocation outside its drift band moves every allocation to its target)',
};

const APPLY_MODE_TEXT: Record<ApplyMode, string> = {
  auto: 'auto (runs apply unless a guard holds them)',
  approve: 'approve (every change waits for approval: ballast proposals)',
  advisory: 'advisory (runs only report; nothing is applied)',
};
