/** How the console writes numbers, times and small recurring pieces (badges, run links). */
import { type Html, html } from '../html.js';

export function pct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return `${(value * 100).toFixed(digits)}%`;
}

export function amount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** `2026-03-01 02:00:05 UTC` from an ISO timestamp; the text itself when it is not one. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function badge(text: string, kind: string = text): Html {
  return html`<span class="badge ${kind}">${text}</span>`;
}

export function runLink(runId: string | null | undefined): Html {
  if (!runId) return html`-`;
  return html`<a href="/ui/runs/${encodeURIComponent(runId)}"><code>${runId}</code></a>`;
}

export function portfolioLink(id: string): Html {
  return html`<a href="/ui/portfolios/${encodeURIComponent(id)}">${id}</a>`;
}

/** A hidden field with the form's CSRF token, and the page to come back to after the action. */
export function formFields(csrf: string, back?: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">${
    back ? html`<input type="hidden" name="back" value="${back}">` : ''
  }`;
}
