/** /ui/audit: every change to every portfolio, newest first, filtered by portfolio, actor, since. */
import type { WireAuditEntry } from '../../domain/index.js';
import { type Html, html } from '../html.js';
import { portfolioLink, runLink, when } from './format.js';
import { layout, type PageContext } from './layout.js';

export interface AuditData {
  readonly filters: { readonly portfolio: string; readonly actor: string; readonly since: string };
  readonly entries: readonly WireAuditEntry[];
  readonly limit: number;
  /** A refused filter (a `since` that is not a time), shown above the empty list. */
  readonly error: string | null;
}

export function auditPage(page: PageContext, data: AuditData): Html {
  const f = data.filters;
  return layout(
    page,
    'Audit',
    html`<h1>Audit</h1>
<form class="filters" method="get" action="/ui/audit">
  <label>Portfolio <input name="portfolio" value="${f.portfolio}" placeholder="any"></label>
  <label>Actor <input name="actor" value="${f.actor}" placeholder="any (e.g. api:alice)"></label>
  <label>Since <input name="since" value="${f.since}" placeholder="24h, 7d or 2026-03-01"></label>
  <button type="submit" class="secondary">Filter</button>
</form>
${data.error ? html`<div class="flash error" role="alert" id="audit-error">${data.error}</div>` : ''}
<section class="panel">
${
  data.entries.length === 0
    ? html`<p class="muted" id="no-entries">No entries.</p>`
    : html`<table id="audit-table">
<thead><tr><th>When</th><th>Who</th><th>Portfolio</th><th>Cause</th><th class="num">Version</th><th>What changed</th></tr></thead>
<tbody>${data.entries.map(
        (e) => html`<tr>
  <td>${when(e.at)}</td>
  <td>${e.actor}</td>
  <td>${portfolioLink(e.portfolio_id)}</td>
  <td>${e.cause.type}${'run_id' in e.cause ? html` ${runLink(e.cause.run_id)}` : ''}${e.note ? html`<br><em>${e.note}</em>` : ''}</td>
  <td class="num">${e.version_before} → ${e.version_after}</td>
  <td>${e.changes}</td>
</tr>`,
      )}</tbody></table>
<p class="muted">At most ${data.limit} entries, newest first.</p>`
}
</section>`,
  );
}
