/** `ballast schedule ...`: what the running schedulers obey, steering them, runs now and backfills. */
import type { App } from '../../app.js';
import { cliActor } from '../../services/actor.js';
import {
  type BackfillResult,
  backfillSchedule,
  pauseSchedule,
  resumeSchedule,
  scheduleStatus,
  triggerNightly,
  type WireSchedule,
} from '../../services/schedule.js';
import type { CliContext } from '../context.js';
import { formatJson, formatPairs } from '../output.js';
import { withApp } from '../with-app.js';

export async function showStatus(ctx: CliContext, json: boolean): Promise<void> {
  const status = await withApp(ctx, (app) => scheduleStatus(app, { now: ctx.now() }));
  printStatus(ctx, status, json);
}

export async function pause(ctx: CliContext, options: { note?: string; json?: boolean }): Promise<void> {
  const status = await withApp(ctx, (app) =>
    pauseSchedule(app, { actor: actor(app), note: options.note, now: ctx.now() }),
  );
  if (!options.json) ctx.out(`nightly schedule paused: ${pausedText(status)}\n`);
  printStatus(ctx, status, options.json === true, false);
}

export async function resume(ctx: CliContext, options: { json?: boolean }): Promise<void> {
  const status = await withApp(ctx, (app) => resumeSchedule(app, { actor: actor(app), now: ctx.now() }));
  if (!options.json) {
    const by = status.resumed_by ? ` by ${status.resumed_by}` : '';
    ctx.out(`nightly schedule resumed${by}; slots that passed while paused are not run\n`);
  }
  printStatus(ctx, status, options.json === true, false);
}

export async function trigger(ctx: CliContext, options: { json?: boolean }): Promise<void> {
  const queued = await withApp(ctx, (app) => triggerNightly(app, { actor: actor(app) }));
  ctx.out(
    options.json
      ? formatJson(queued)
      : `queued nightly run ${queued.run_id} (job ${queued.job_id}); follow it with: ballast runs show ${queued.run_id} --wait\n`,
  );
}

export async function backfill(
  ctx: CliContext,
  options: { from: string; to: string; dryRun?: boolean; json?: boolean },
): Promise<void> {
  const result = await withApp(ctx, (app) =>
    backfillSchedule(app, {
      from: options.from,
      to: options.to,
      actor: actor(app),
      dryRun: options.dryRun === true,
      now: ctx.now(),
    }),
  );
  ctx.out(options.json ? formatJson(result) : backfillText(result));
}

function actor(app: App): string {
  return cliActor(app.config.actor);
}

function printStatus(ctx: CliContext, s: WireSchedule, json: boolean, full = true): void {
  if (json) {
    ctx.out(formatJson(s));
    return;
  }
  for (const warning of s.warnings) ctx.err(`warning: ${warning}\n`);
  if (!full) return;
  const tz = s.timezone;
  const both = (utc: string, local: string | undefined) => `${local ?? utc}  (${utc})`;
  const nextLines: [string, string][] =
    s.next_runs.length > 0
      ? s.next_runs.map((d, i) => [i === 0 ? 'next runs' : '', both(d, s.next_runs_local[i])])
      : [['next runs', 'none']];
  const last = s.last_run;
  const schedulers =
    s.schedulers.length > 0
      ? s.schedulers.map((x) => `${x.host} (pid ${x.pid}, ${x.version}), seen ${x.seen_at}`).join('; ')
      : 'none running';
  ctx.out(
    formatPairs([
      ['cron', `${s.cron}${s.source === 'local' ? '  (local configuration: no scheduler runs)' : ''}`],
      ['time zone', tz],
      ['catch-up', s.catch_up ? `on, within ${s.catch_up_window_hours} h` : 'off'],
      ['schedulers', schedulers],
      ['paused', s.paused ? `yes, ${pausedText(s)}` : 'no'],
      ...nextLines,
      [
        'last run',
        last
          ? `${last.run_id}, slot ${last.slot ? both(last.slot, last.slot_local ?? undefined) : '?'}${last.catch_up ? ', catch-up' : ''}: ${last.outcome}`
          : 'none yet',
      ],
    ]),
  );
}

function pausedText(s: WireSchedule): string {
  const by = s.paused_by ? ` by ${s.paused_by}` : '';
  const note = s.pause_note ? `: ${JSON.stringify(s.pause_note)}` : '';
  return `since ${s.paused_at ?? '?'}${by}${note}`;
}

function backfillText(r: BackfillResult): string {
  const queued = r.slots.filter((s) => s.queued).length;
  const would = r.dry_run ? r.slots.filter((s) => s.reason === null).length : 0;
  const lines = r.slots.map((s) => {
    const what = s.queued ? 'queued' : s.reason === null ? 'would be queued' : `not run: ${s.reason}`;
    return `  ${s.slot_local}  ${s.run_id}  ${what}\n`;
  });
  const head = r.dry_run
    ? `dry run: ${would} of ${r.slots.length} slots of "${r.cron}" (${r.timezone}) would be queued\n`
    : `${queued} of ${r.slots.length} slots of "${r.cron}" (${r.timezone}) queued\n`;
  return head + lines.join('');
}
