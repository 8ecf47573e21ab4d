/** Bodies of the schedule routes: status, pause, resume, trigger, backfill. */
import { z } from 'zod';
import { MAX_BACKFILL_SLOTS } from '../../domain/backfill-range.js';

const scheduler = z.object({
  host: z.string(),
  pid: z.number(),
  cron: z.string(),
  timezone: z.string(),
  catch_up: z.boolean(),
  catch_up_window_hours: z.number(),
  version: z.string(),
  seen_at: z.string().describe('when it last wrote its configuration (every 10 s while it runs)'),
});

const lastRun = z.object({
  run_id: z.string(),
  slot: z.string().nullable(),
  slot_local: z.string().nullable(),
  enqueued_at: z.string().nullable(),
  catch_up: z.boolean(),
  skipped: z.string().nullable().describe('why the slot was not run, when it was not'),
  state: z.enum(['skipped', 'queued', 'fanning out', 'fan-out failed', 'running', 'done', 'unknown']),
  total: z.number().nullable(),
  completed: z.number().nullable(),
  failed: z.number().nullable(),
  outcome: z.string(),
});

export const scheduleWire = z
  .object({
    cron: z.string(),
    timezone: z.string(),
    catch_up: z.boolean(),
    catch_up_window_hours: z.number(),
    source: z
      .enum(['scheduler', 'local'])
      .describe(
        "scheduler: cron, timezone and catch-up are the running schedulers'; local: none runs, the API's own",
      ),
    schedulers: z.array(scheduler).describe('the schedulers running now'),
    paused: z.boolean(),
    paused_at: z.string().nullable(),
    paused_by: z.string().nullable(),
    pause_note: z.string().nullable(),
    resumed_at: z.string().nullable(),
    resumed_by: z.string().nullable(),
    next_runs: z.array(z.string()).describe('the next 5 slots, UTC'),
    next_runs_local: z.array(z.string()).describe('the same, in the schedule’s time zone'),
    last_run: lastRun.nullable(),
    last_skipped: z.string().nullable(),
    warnings: z
      .array(z.string())
      .describe("no scheduler runs, the schedulers disagree, or the API's environment differs from theirs"),
  })
  .meta({ id: 'Schedule' });

const note = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' });

/** No body at all is a pause without a note. */
export const pauseBody = z
  .strictObject({ note: note.optional().describe('why, shown with the schedule') })
  .optional();

export const triggerResponse = z.object({ run_id: z.string(), job_id: z.string() });

export const backfillBody = z.strictObject({
  from: z.string().describe('first instant, ISO 8601 with its zone (2026-03-01T00:00:00Z)'),
  to: z.string().describe('last instant, ISO 8601 with its zone, not in the future'),
  dry_run: z.boolean().optional().describe('list the slots and what would become of each; queue nothing'),
});

export const backfillResponse = z.object({
  from: z.string(),
  to: z.string(),
  cron: z.string(),
  timezone: z.string(),
  dry_run: z.boolean(),
  slots: z
    .array(
      z.object({
        slot: z.string(),
        slot_local: z.string(),
        run_id: z.string(),
        queued: z.boolean(),
        reason: z
          .string()
          .nullable()
          .describe(
            'why it was not queued: already run, claimed by ..., skipped by the pause; null for a dry run’s slot that would be',
          ),
      }),
    )
    .describe(`at most ${MAX_BACKFILL_SLOTS}`),
});
