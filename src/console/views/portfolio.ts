/** /ui/portfolios/{id}: settings, allocations, the pending proposal; history and reports below. */
import { type Portfolio, viewAllocation, type WireProposal } from '../../domain/index.js';
import type { HistoryPage } from '../../services/history.js';
import { type Html, html, jsonScript } from '../html.js';
import { amount, badge, formFields, pct, runLink, when } from './format.js';
import { layout, type PageContext } from './layout.js';
import { historySection, reportsSection, type ShownReport, weightsChartData } from './portfolio-history.js';

export interface PortfolioData {
  readonly portfolio: Portfolio;
  readonly proposal: WireProposal | null;
  readonly history: HistoryPage;
  readonly reports: readonly ShownReport[];
}

export function portfolioPage(page: PageContext, data: PortfolioData): Html {
  const p = data.portfolio;
  return layout(
    page,
    `Portfolio ${p.id}`,
    html`<h1>Portfolio <code>${p.id}</code>: ${p.name}</h1>
<div class="grid">
<section class="panel" id="settings"><h2>Settings</h2>${settings(p)}</section>
<section class="panel" id="proposal"><h2>Pending proposal</h2>${proposalSection(page, p, data.proposal)}</section>
</div>
<section class="panel" id="allocations"><h2>Allocations</h2>${allocations(p)}</section>
<section class="panel" id="weights"><h2>Weights over time</h2>
<div class="chart" id="weights-chart"></div>
${jsonScript('weights-data', weightsChartData(data.history), { chart: 'weights', target: 'weights-chart' })}
<p class="muted">One line per business, one point per version kept in history (${data.history.history.length} shown).</p>
</section>
${reportsSection(page, data.reports)}
${historySection(page, p.id, data.history)}`,
    { chart: true },
  );
}

function settings(p: Portfolio): Html {
  const rows: [string, string | Html][] = [
    ['Name', p.name],
    ['Owner', p.ownerId],
    ['Status', badge(p.status)],
    ['Strategy', p.strategy],
    ['Apply mode', p.applyMode ?? 'auto'],
    ['Total budget', amount(p.totalBudget)],
    ['Target ROI', `${p.targetRoi}%`],
    ['Drift threshold', `${pct(p.driftThreshold)} (${p.driftType ?? 'absolute'})`],
    ['Rebalance trigger', p.rebalanceTrigger ?? 'allocation'],
    ['Minimum trade', p.minTrade === undefined ? 'none' : pct(p.minTrade)],
    ['Max turnover per run', p.maxTurnover === undefined ? 'none' : pct(p.maxTurnover)],
    ['Held above turnover', p.maxAutoTurnover === undefined ? 'default' : pct(p.maxAutoTurnover)],
    ['Attention hours / week', String(p.attentionHoursPerWeek)],
    ['Version', `${p.version} (updated ${when(p.updatedAt)})`],
    ['Last applied run', p.lastRun ? html`${runLink(p.lastRun.runId)} ${when(p.lastRun.at)}` : 'none'],
  ];
  return html`<dl class="settings">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

function allocations(p: Portfolio): Html {
  if (p.allocations.length === 0) return html`<p class="muted">No businesses.</p>`;
  const bound = (v: number | undefined) => (v === undefined ? '-' : pct(v));
  return html`<table id="allocation-table">
<thead><tr><th>Business</th><th class="num">Weight</th><th class="num">Budget</th><th class="num">Priority</th><th>Locked</th><th class="num">Min</th><th class="num">Max</th><th class="num">Target</th></tr></thead>
<tbody>${p.allocations.map((a) => {
    const v = viewAllocation(p, a);
    return html`<tr data-business="${a.businessId}">
  <td>${a.businessId}</td>
  <td class="num">${pct(a.weight, 2)}</td>
  <td class="num">${amount(v.budgetAmount)}</td>
  <td class="num">${a.priority}</td>
  <td>${a.locked ? badge('locked', 'paused') : ''}</td>
  <td class="num">${bound(a.minWeight)}</td>
  <td class="num">${bound(a.maxWeight)}</td>
  <td class="num">${bound(a.targetWeight)}</td>
</tr>`;
  })}</tbody>
</table>`;
}

function proposalSection(page: PageContext, p: Portfolio, proposal: WireProposal | null): Html {
  if (proposal === null) return html`<p class="muted" id="no-proposal">Nothing waits for approval.</p>`;
  const base = `/ui/portfolios/${encodeURIComponent(p.id)}/proposal`;
  const stale = proposal.version !== p.version;
  return html`<div id="pending-proposal" data-report="${proposal.report_id}">
<p>${badge('pending', 'pending')} from run ${runLink(proposal.run_id)} at ${when(proposal.created_at)}, on version ${proposal.version}; expires ${when(proposal.expires_at)}.</p>
${stale ? html`<p class="flash error">The portfolio has changed since (now version ${p.version}): approving will be refused; reject it, or run again.</p>` : ''}
<p>Turnover ${pct(proposal.turnover)}, ${proposal.changes} change${proposal.changes === 1 ? '' : 's'}. Held because:</p>
<ul class="reasons">${proposal.reasons.map((r) => html`<li><strong>${r.guard}</strong>${'business_id' in r && r.business_id ? html` (${r.business_id})` : ''}: ${r.detail}</li>`)}</ul>
<table><thead><tr><th>Business</th><th>Action</th><th class="num">Now</th><th class="num">Proposed</th><th>Why</th></tr></thead>
<tbody>${proposal.actions.map(
    (a) =>
      html`<tr><td>${a.business_id}</td><td>${a.action}</td><td class="num">${pct(a.current_weight, 2)}</td><td class="num">${pct(a.recommended_weight, 2)}</td><td>${a.reason}</td></tr>`,
  )}</tbody></table>
<div class="actions">
  <form method="post" action="${base}/approve" id="approve-form" class="stack">
    ${formFields(page.csrf, page.path)}
    <label>Note (optional) <input name="note" maxlength="500"></label>
    <button type="submit" id="approve">Approve</button>
  </form>
  <form method="post" action="${base}/reject" id="reject-form" class="stack" data-confirm="Reject this proposal? The weights stay as they are.">
    ${formFields(page.csrf, page.path)}
    <label>Note (optional) <input name="note" maxlength="500"></label>
    <button type="submit" class="danger" id="reject">Reject</button>
  </form>
</div>
</div>`;
}
