/** The portfolio page's lower half: the weights chart's data, recent reports, history. */
import type { HistoryPage } from '../../services/history.js';
import { type Html, html } from '../html.js';
import { badge, formFields, pct, runLink, when } from './format.js';
import type { PageContext } from './layout.js';

/** What the page shows of a stored report (read loosely: older reports lack newer fields). */
export interface ShownReport {
  readonly report_id: string;
  readonly run_id: string;
  readonly trigger: string;
  readonly created_at: string;
  readonly outcome: string;
  readonly applied: boolean;
  readonly turnover: number;
  readonly changes: number;
  readonly held: readonly { readonly guard: string; readonly detail: string }[];
  readonly skipped: string | null;
  readonly actions: readonly {
    readonly business_id: string;
    readonly action: string;
    readonly current_weight: number;
    readonly recommended_weight: number;
    readonly reason: string;
  }[];
}

export interface WeightsChartData {
  /** Epoch seconds of each version, oldest first. */
  readonly x: number[];
  /** One series per business: its weight at each version, null where it was not held. */
  readonly series: { readonly label: string; readonly values: (number | null)[] }[];
}

/** uPlot's columns from history: x is each version's time, one series per business. */
export function weightsChartData(history: HistoryPage): WeightsChartData {
  const records = [...history.history].sort((a, b) => a.version - b.version);
  const businesses: string[] = [];
  for (const r of records) {
    for (const a of r.allocations) if (!businesses.includes(a.business_id)) businesses.push(a.business_id);
  }
  const x: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    // uPlot wants x strictly increasing: versions written within the same millisecond are nudged.
    const t = Math.max(Date.parse(r.at) / 1000, last + 0.001);
    x.push(t);
    last = t;
  }
  const series = businesses.map((id) => ({
    label: id,
    values: records.map((r) => r.allocations.find((a) => a.business_id === id)?.weight ?? null),
  }));
  return { x, series };
}

export function reportsSection(page: PageContext, reports: readonly ShownReport[]): Html {
  return html`<section class="panel" id="reports"><h2>Recent reports</h2>
${
  reports.length === 0
    ? html`<p class="muted">No reports yet.</p>`
    : html`<table id="report-table">
<thead><tr><th>When</th><th>Run</th><th>Outcome</th><th class="num">Turnover</th><th>Actions and reasons</th><th></th></tr></thead>
<tbody>${reports.map((r) => reportRow(page, r))}</tbody>
</table>`
}
</section>`;
}

function reportRow(page: PageContext, r: ShownReport): Html {
  const moves = r.actions.filter((a) => a.action !== 'hold' || a.current_weight !== a.recommended_weight);
  return html`<tr data-report="${r.report_id}">
  <td>${when(r.created_at)}</td>
  <td>${runLink(r.run_id)} <span class="muted">${r.trigger}</span></td>
  <td>${badge(r.outcome)}${r.skipped ? html` <span class="muted">${r.skipped}</span>` : ''}</td>
  <td class="num">${pct(r.turnover)}</td>
  <td>
    ${r.held.length > 0 ? html`<ul class="reasons">${r.held.map((h) => html`<li><strong>${h.guard}</strong>: ${h.detail}</li>`)}</ul>` : ''}
    ${
      moves.length > 0
        ? html`<ul class="reasons">${moves.map((a) => html`<li>${a.business_id}: ${a.action} ${pct(a.current_weight)} → ${pct(a.recommended_weight)} <span class="muted">${a.reason}</span></li>`)}</ul>`
        : html`<span class="muted">no change</span>`
    }
  </td>
  <td>${r.applied && r.changes > 0 ? revertForm(page, r.run_id) : ''}</td>
</tr>`;
}

export function revertForm(page: PageContext, runId: string, label = 'Revert run'): Html {
  return html`<form method="post" action="/ui/runs/${encodeURIComponent(runId)}/revert" class="inline revert-form" data-run="${runId}" data-confirm="${`Revert every change run ${runId} made?`}">
  ${formFields(page.csrf, page.path)}
  <button type="submit" class="secondary">${label}</button>
</form>`;
}

export function historySection(page: PageContext, portfolioId: string, history: HistoryPage): Html {
  const kept = history.kept;
  return html`<section class="panel" id="history"><h2>History</h2>
<p class="muted">${kept ? `Versions ${kept.oldest} to ${kept.newest} kept (${kept.count}).` : 'No versions kept yet.'} Current version: ${history.current_version}.</p>
${
  history.history.length === 0
    ? ''
    : html`<table id="history-table">
<thead><tr><th class="num">Version</th><th>When</th><th>Who</th><th>Cause</th><th>What changed</th><th></th></tr></thead>
<tbody>${history.history.map(
        (r) => html`<tr data-version="${r.version}">
  <td class="num">${r.version}</td>
  <td>${when(r.at)}</td>
  <td>${r.actor}</td>
  <td>${cause(r.cause)}${r.note ? html`<br><em>${r.note}</em>` : ''}</td>
  <td>${r.changes}</td>
  <td>
    ${
      r.version !== history.current_version
        ? html`<form method="post" action="/ui/portfolios/${encodeURIComponent(portfolioId)}/restore" class="inline restore-form" data-confirm="${`Restore the allocations of version ${r.version}?`}">
      ${formFields(page.csrf, page.path)}<input type="hidden" name="version" value="${r.version}">
      <button type="submit" class="secondary">Restore this version</button></form>`
        : html`<span class="muted">current</span>`
    }
    ${r.cause.type === 'run' ? revertForm(page, r.cause.run_id) : ''}
  </td>
</tr>`,
      )}</tbody>
</table>`
}
</section>`;
}

function cause(c: HistoryPage['history'][number]['cause']): Html {
  switch (c.type) {
    case 'run':
      return html`run ${runLink(c.run_id)}`;
    case 'revert':
      return html`revert of ${runLink(c.run_id)}${c.forced ? ' (forced)' : ''}`;
    case 'restore':
      return html`restore of version ${c.version}`;
    case 'edit':
      return html`edit <code>${c.command}</code>`;
    case 'approve':
      return html`approval of <code>${c.report_id}</code>`;
    case 'reject':
      return html`rejection of <code>${c.report_id}</code>`;
  }
}
