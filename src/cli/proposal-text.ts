/** Pending proposals as a person reads them: `proposals list`, `proposals show`, approve, reject. */
import { pct, type WireProposal } from '../domain/index.js';
import type { ApproveResult, ProposalList, RejectResult } from '../services/proposals.js';
import { type Column, formatPairs, formatTable } from './output.js';

function when(at: string): string {
  return at.replace(/\.\d{3}Z$/, 'Z');
}

/** Every reason on one line: `metric-jump b1: revenue 1000 -> 100000 (x100, limit x5)`. */
export function describeReason(r: { guard: string; business_id?: string; detail: string }): string {
  return `${r.guard}${r.business_id ? ` ${r.business_id}` : ''}: ${r.detail}`;
}

const LIST_COLUMNS: readonly Column<WireProposal>[] = [
  { header: 'portfolio', value: (p) => p.portfolio_id },
  { header: 'version', value: (p) => String(p.version), align: 'right' },
  { header: 'held at', value: (p) => when(p.created_at) },
  { header: 'moves', value: (p) => String(p.changes), align: 'right' },
  { header: 'turnover', value: (p) => pct(p.turnover), align: 'right' },
  { header: 'why', value: (p) => [...new Set(p.reasons.map((r) => r.guard))].join(', ') },
];

export function formatProposalListText(list: ProposalList): string {
  if (list.proposals.length === 0) return 'no pending proposals\n';
  const more =
    list.total > list.proposals.length
      ? `(${list.proposals.length} of ${list.total} shown, the longest-waiting first; --limit shows more)\n`
      : '';
  return `${formatTable(LIST_COLUMNS, list.proposals)}${more}approve or reject with: ballast proposals approve|reject PORTFOLIO_ID [--note TEXT]\n`;
}

const ACTION_COLUMNS: readonly Column<WireProposal['actions'][number]>[] = [
  { header: 'business', value: (a) => a.business_id },
  { header: 'action', value: (a) => a.action },
  { header: 'current', value: (a) => pct(a.current_weight), align: 'right' },
  { header: 'proposed', value: (a) => pct(a.recommended_weight), align: 'right' },
  { header: 'reason', value: (a) => a.reason },
];

export function formatProposalText(p: WireProposal): string {
  const pairs: [string, string][] = [
    ['portfolio', p.portfolio_id],
    ['report', p.report_id],
    ['run', p.run_id],
    ['version', `${p.version} (approval applies only to this version)`],
    ['held at', when(p.created_at)],
    ['expires', when(p.expires_at)],
    ['moves', `${p.changes}, turnover ${pct(p.turnover)}`],
  ];
  if (p.supersedes) pairs.push(['replaces', `${p.supersedes.report_id} (run ${p.supersedes.run_id})`]);
  const reasons = p.reasons.map((r) => `  - ${describeReason(r)}\n`).join('');
  return `${formatPairs(pairs)}held because:\n${reasons}\n${formatTable(ACTION_COLUMNS, p.actions)}\napprove: ballast proposals approve ${p.portfolio_id}   reject: ballast proposals reject ${p.portfolio_id}\n`;
}

export function formatApproveText(r: ApproveResult): string {
  return `approved ${r.report_id}: portfolio ${r.portfolio_id} version ${r.version_before} -> ${r.version_after} (${r.changes} ${r.changes === 1 ? 'allocation' : 'allocations'} moved)\n`;
}

export function formatRejectText(r: RejectResult): string {
  return `rejected ${r.report_id}: portfolio ${r.portfolio_id} stays at version ${r.version}\n`;
}
