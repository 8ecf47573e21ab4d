/** /ui: the portfolios (filtered, paged), the schedule and the last runs. */
import { STATUSES } from '../../domain/index.js';
import type { PortfolioRow } from '../../services/portfolios.js';
import type { WireRun } from '../../services/runs.js';
import { type Html, html } from '../html.js';
import { badge, portfolioLink, runLink, when } from './format.js';
import { layout, type PageContext } from './layout.js';
import { type SchedulePanel, schedulePanel } from './schedule.js';

export interface OverviewData {
  readonly filters: { readonly owner: string; readonly status: string; readonly after: string };
  readonly rows: readonly PortfolioRow[];
  readonly next: string | null;
  readonly pendingProposals: number;
  readonly schedule: SchedulePanel;
  readonly runs: readonly WireRun[];
}

export function overviewPage(page: PageContext, data: OverviewData): Html {
  return layout(
    page,
    'Overview',
    html`<h1>Overview</h1>
${
  data.pendingProposals > 0
    ? html`<p id="pending-summary">${badge(`${data.pendingProposals} pending proposal${data.pendingProposals === 1 ? '' : 's'}`, 'pending')} waiting for an operator: look for the badge below.</p>`
    : ''
}
<section class="panel" id="portfolios">
<h2>Portfolios</h2>
${filters(data.filters)}
${portfolioTable(data.rows)}
${pager(data)}
</section>
<div class="grid">
<section class="panel" id="schedule">
<h2>Schedule</h2>
${schedulePanel(data.schedule)}
</section>
</div>
<section class="panel" id="runs">
<h2>Last runs</h2>
${runsTable(data.runs)}
</section>`,
  );
}

function filters(f: OverviewData['filters']): Html {
  return html`<form class="filters" method="get" action="/ui">
  <label>Owner <input name="owner" value="${f.owner}" placeholder="any owner"></label>
  <label>Status <select name="status">
    <option value="">any</option>
    ${STATUSES.map((s) => html`<option value="${s}"${s === f.status ? html` selected` : ''}>${s}</option>`)}
  </select></label>
  <button type="submit" class="secondary">Filter</button>
</form>`;
}

function portfolioTable(rows: readonly PortfolioRow[]): Html {
  if (rows.length === 0) return html`<p class="muted" id="no-portfolios">No portfolios match.</p>`;
  return html`<table id="portfolio-table">
<thead><tr><th>Id</th><th>Name</th><th>Owner</th><th>Strategy</th><th>Apply mode</th><th>Status</th><th class="num">Businesses</th><th>Last run</th><th></th></tr></thead>
<tbody>
${rows.map(
  ({ portfolio: p, last, pendingProposal }) => html`<tr data-portfolio="${p.id}">
  <td>${portfolioLink(p.id)}</td>
  <td>${p.name}</td>
  <td>${p.ownerId}</td>
  <td>${p.strategy}</td>
  <td>${p.applyMode ?? 'auto'}</td>
  <td>${badge(p.status)}</td>
  <td class="num">${p.allocations.length}</td>
  <td>${last ? html`${badge(last.outcome)} <span class="muted">${when(last.at)}</span> ${runLink(last.run_id)}` : html`<span class="muted">never</span>`}</td>
  <td>${pendingProposal ? html`<a href="/ui/portfolios/${encodeURIComponent(p.id)}#proposal">${badge('proposal pending', 'pending')}</a>` : ''}</td>
</tr>`,
)}
</tbody>
</table>`;
}

function pager(data: OverviewData): Html {
  const base = new URLSearchParams();
  if (data.filters.owner) base.set('owner', data.filters.owner);
  if (data.filters.status) base.set('status', data.filters.status);
  const first = `/ui${base.size > 0 ? `?${base}` : ''}`;
  const nextParams = new URLSearchParams(base);
  if (data.next) nextParams.set('after', data.next);
  return html`<div class="pager">
  ${data.filters.after ? html`<a href="${first}" id="first-page">First page</a>` : ''}
  ${data.next ? html`<a href="/ui?${nextParams.toString()}" id="next-page">Next page</a>` : ''}
</div>`;
}

export function runCounts(run: WireRun): Html {
  const c = run.counts;
  return html`<span title="applied (changed) / held / failed / skipped">${c.changed + c.unchanged} (${c.changed}) / ${c.held + c.advisory} / ${c.failed} / ${c.skipped}</span>`;
}

function runsTable(runs: readonly WireRun[]): Html {
  if (runs.length === 0) return html`<p class="muted" id="no-runs">No runs recorded yet.</p>`;
  return html`<table id="runs-table">
<thead><tr><th>Run</th><th>Trigger</th><th>State</th><th>Started</th><th>Finished</th><th>Applied (changed) / held / failed / skipped</th></tr></thead>
<tbody>
${runs.map(
  (r) => html`<tr data-run="${r.run_id}">
  <td>${runLink(r.run_id)}</td>
  <td>${r.trigger ?? '-'}${r.actor ? html` <span class="muted">by ${r.actor}</span>` : ''}</td>
  <td>${badge(r.state)}</td>
  <td>${when(r.started_at ?? r.queued_at)}</td>
  <td>${when(r.finished_at)}</td>
  <td>${runCounts(r)}</td>
</tr>`,
)}
</tbody>
</table>`;
}
