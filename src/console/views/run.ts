/** /ui/runs/{run_id}: each portfolio's outcome, the turnover distribution, revert and cancel. */
import { runIsLive } from '../../domain/run-state.js';
import type { WireRunDetail, WireRunPortfolio } from '../../services/runs.js';
import { type Html, html } from '../html.js';
import { badge, formFields, pct, portfolioLink, when } from './format.js';
import { layout, type PageContext } from './layout.js';
import { runCounts } from './overview.js';
import { revertForm } from './portfolio-history.js';

export function runPage(page: PageContext, run: WireRunDetail): Html {
  const live = runIsLive(run.state);
  const id = encodeURIComponent(run.run_id);
  return layout(
    page,
    `Run ${run.run_id}`,
    html`<h1>Run <code>${run.run_id}</code> ${badge(run.state)}</h1>
<div class="grid">
<section class="panel" id="run-summary"><h2>Summary</h2>
<dl class="settings">
  <dt>Trigger</dt><dd>${run.trigger ?? '-'}${run.catch_up ? ' (catch-up)' : ''}</dd>
  <dt>By</dt><dd>${run.actor ?? '-'}</dd>
  <dt>Slot</dt><dd>${when(run.slot)}</dd>
  <dt>Queued</dt><dd>${when(run.queued_at)}</dd>
  <dt>Started</dt><dd>${when(run.started_at)}</dd>
  <dt>Finished</dt><dd>${when(run.finished_at)}</dd>
  ${run.cancelled_at ? html`<dt>Cancelled</dt><dd>${when(run.cancelled_at)} by ${run.cancelled_by ?? '?'}</dd>` : ''}
  <dt>Progress</dt><dd>${run.done} of ${run.total ?? '?'} portfolios</dd>
  <dt>Applied (changed) / held / failed / skipped</dt><dd>${runCounts(run)}</dd>
  ${run.circuit_open ? html`<dt>Circuit breaker</dt><dd class="flash error">${run.circuit_open}</dd>` : ''}
</dl>
<div class="actions">
  ${live ? '' : revertForm(page, run.run_id, 'Revert this run')}
  ${
    live
      ? html`<form method="post" action="/ui/runs/${id}/cancel" class="inline" id="cancel-form" data-confirm="Cancel what of this run has not started?">
    ${formFields(page.csrf, page.path)}<button type="submit" class="danger" id="cancel">Cancel</button></form>`
      : ''
  }
</div>
</section>
<section class="panel" id="turnover"><h2>Turnover distribution</h2>${turnover(run)}</section>
</div>
<section class="panel" id="run-portfolios"><h2>Portfolios</h2>
${run.portfolios_total > run.portfolios.length ? html`<p class="muted">The first ${run.portfolios.length} of ${run.portfolios_total}, those needing a look first.</p>` : ''}
${portfolios(run.portfolios)}
</section>`,
  );
}

function turnover(run: WireRunDetail): Html {
  const max = Math.max(1, ...run.turnover.map((b) => b.count));
  return html`<table id="turnover-table"><thead><tr><th>Turnover</th><th class="num">Portfolios</th><th></th></tr></thead>
<tbody>${run.turnover.map(
    (b) =>
      html`<tr><td>${b.bucket}</td><td class="num">${b.count}</td><td><meter min="0" max="${max}" value="${b.count}">${b.count}</meter></td></tr>`,
  )}</tbody></table>`;
}

function portfolios(list: readonly WireRunPortfolio[]): Html {
  if (list.length === 0) return html`<p class="muted">No portfolio has a record of this run yet.</p>`;
  return html`<table id="run-portfolio-table">
<thead><tr><th>Portfolio</th><th>Outcome</th><th class="num">Changes</th><th class="num">Turnover</th><th>Why</th></tr></thead>
<tbody>${list.map(
    (p) => html`<tr data-portfolio="${p.portfolio_id}">
  <td>${portfolioLink(p.portfolio_id)}</td>
  <td>${badge(p.outcome)}</td>
  <td class="num">${p.changes ?? '-'}</td>
  <td class="num">${pct(p.turnover)}</td>
  <td>${why(p)}</td>
</tr>`,
  )}</tbody></table>`;
}

function why(p: WireRunPortfolio): Html {
  if (p.error) return html`<span class="flash error">${p.error}</span>`;
  if (p.skipped) return html`${p.skipped}`;
  if (p.held && p.held.length > 0) {
    return html`<ul class="reasons">${p.held.map((h) => html`<li><strong>${h.guard}</strong>${h.detail ? html`: ${h.detail}` : ''}</li>`)}</ul>`;
  }
  return html``;
}
