/** The overview's schedule panel: cron, time zone, paused (and why), the next slots. */
import { type Html, html } from '../html.js';
import { runLink, when } from './format.js';

/** The fields of the schedule service's status (src/services/schedule.ts) the panel shows. */
export interface ScheduleView {
  readonly cron: string | null;
  readonly timezone: string | null;
  readonly source?: string | null;
  readonly paused: boolean;
  readonly paused_at?: string | null;
  readonly paused_by?: string | null;
  readonly pause_note?: string | null;
  readonly next_runs: readonly string[];
  readonly next_runs_local?: readonly string[];
  readonly warnings?: readonly string[];
  readonly last_run?: {
    readonly run_id: string;
    readonly outcome: string;
    readonly slot: string | null;
  } | null;
}

export type SchedulePanel =
  | { readonly kind: 'status'; readonly status: ScheduleView }
  | { readonly kind: 'unavailable'; readonly message: string };

export function schedulePanel(panel: SchedulePanel): Html {
  if (panel.kind === 'unavailable')
    return html`<p class="muted" id="schedule-unavailable">${panel.message}</p>`;
  const s = panel.status;
  const local = s.next_runs_local ?? [];
  return html`<dl class="settings" id="schedule-status">
  <dt>Cron</dt><dd><code>${s.cron ?? 'not set'}</code>${s.source ? html` <span class="muted">(${s.source})</span>` : ''}</dd>
  <dt>Time zone</dt><dd>${s.timezone ?? '-'}</dd>
  <dt>State</dt><dd>${
    s.paused
      ? html`<span class="badge paused">paused</span>${s.paused_at ? html` since ${when(s.paused_at)}` : ''}${s.paused_by ? html` by ${s.paused_by}` : ''}${s.pause_note ? html`: <em>${s.pause_note}</em>` : ''}`
      : html`<span class="badge active">running</span>`
  }</dd>
  <dt>Last slot</dt><dd>${s.last_run ? html`${runLink(s.last_run.run_id)} ${s.last_run.outcome}` : html`<span class="muted">none yet</span>`}</dd>
  <dt>Next slots</dt><dd><ol id="next-runs">${s.next_runs.slice(0, 5).map((slot, i) => html`<li>${when(slot)}${local[i] ? html` <span class="muted">(${local[i]})</span>` : ''}</li>`)}</ol></dd>
</dl>
${
  s.warnings && s.warnings.length > 0
    ? html`<ul class="warnings">${s.warnings.map((w) => html`<li>${w}</li>`)}</ul>`
    : ''
}`;
}
