/**
 * Backfill (`schedule backfill`, `POST /schedule/backfill`): each slot of a range that has not run,
 * claimed as the schedulers claim slots, as graphile-worker's fill and Temporal's backfill.
 */
import { hostname } from 'node:os';
import {
  inLastPause,
  type ScheduleState,
  ScheduleStore,
  STALE_CLAIM_MS,
} from '../adapters/schedule-store.js';
import type { App } from '../app.js';
import { backfillRange, MAX_BACKFILL_SLOTS } from '../domain/backfill-range.js';
import { ValidationError } from '../domain/index.js';
import { localIso, slotsBetween } from '../runtime/cron-slots.js';
import { cronRunId } from '../runtime/run-ids.js';
import { enqueueNightly, runExists } from './runs.js';
import { effectiveSchedule } from './schedule-effective.js';

export interface BackfillSlot {
  readonly slot: string;
  readonly slot_local: string;
  readonly run_id: string;
  /** Queued by this backfill (always false for a dry run). */
  readonly queued: boolean;
  /** Why not, when it was not: "already run", "claimed by ...", "skipped by the pause"; null for a dry run's slot that would be queued. */
  readonly reason: string | null;
}

export interface BackfillResult {
  readonly from: string;
  readonly to: string;
  readonly cron: string;
  readonly timezone: string;
  readonly dry_run: boolean;
  readonly slots: BackfillSlot[];
}

/**
 * Runs each slot of the schedule from `from` to `to` (both included, at most 366) that has not run:
 * a slot whose run exists (its record, its nightly job) or whose claim says it was enqueued is
 * "already run"; one the pause skipped stays skipped. Each slot is claimed with the claim the
 * schedulers take, so that two backfills, or a backfill and a scheduler's catch-up, never both
 * run it; its run id is the slot's, as if the scheduler had run it (a catch-up).
 */
export async function backfillSchedule(
  app: App,
  opts: {
    readonly from: string;
    readonly to: string;
    readonly actor: string;
    readonly dryRun?: boolean | undefined;
    readonly now?: Date;
  },
): Promise<BackfillResult> {
  const now = opts.now ?? app.clock();
  const range = backfillRange(opts.from, opts.to, now);
  const store = new ScheduleStore(app.redis, app.keys);
  const effective = await effectiveSchedule(app, store);
  const slots = slotsBetween(effective.schedule, range.from, range.to, MAX_BACKFILL_SLOTS);
  if (slots.length > MAX_BACKFILL_SLOTS) {
    throw new ValidationError(
      `from ${opts.from} to ${opts.to} holds more than ${MAX_BACKFILL_SLOTS} slots of "${effective.cron}" (${effective.timezone}): backfill at most ${MAX_BACKFILL_SLOTS} slots at a time`,
    );
  }
  const holder = `backfill:${hostname()}:${process.pid}`;
  // As long as the run records: a backfilled slot stays "already run" while anything says so.
  const claimTtlMs = Math.max(app.config.runMarkerTtlSeconds * 1000, 25 * 3600 * 1000);
  const out: BackfillSlot[] = [];
  for (const slot of slots) {
    const runId = cronRunId(slot);
    const entry = { slot: slot.toISOString(), slot_local: localIso(effective.timezone, slot), run_id: runId };
    const state = await store.state();
    const why = await whyNot(app, store, state, runId, slot, app.clock().getTime());
    if (why !== null || opts.dryRun) {
      out.push({ ...entry, queued: false, reason: why });
      continue;
    }
    const claim = await claimFor(store, runId, holder, app.clock().getTime(), claimTtlMs);
    if (claim.startsWith('!')) {
      out.push({ ...entry, queued: false, reason: claim.slice(1) });
      continue;
    }
    try {
      await enqueueNightly(app, { trigger: 'cron', slot, catchUp: true, actor: opts.actor });
    } catch (err) {
      await store.releaseClaim(runId, claim).catch(() => undefined);
      throw err;
    }
    await store.markEnqueued(runId, claim);
    if (!state.lastSlot || Date.parse(state.lastSlot) < slot.getTime()) {
      await store.recordRun(runId, slot, app.clock().toISOString(), true);
    }
    out.push({ ...entry, queued: true, reason: null });
  }
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    cron: effective.cron,
    timezone: effective.timezone,
    dry_run: opts.dryRun === true,
    slots: out,
  };
}

/** Why a slot is not to be run by a backfill, or null. */
async function whyNot(
  app: App,
  store: ScheduleStore,
  state: ScheduleState,
  runId: string,
  slot: Date,
  nowMs: number,
): Promise<string | null> {
  if (await runExists(app, runId)) return 'already run';
  const claim = await store.slotClaim(runId);
  if (claim?.kind === 'enqueued') return 'already run';
  if (claim?.kind === 'paused') return 'skipped by the pause';
  const t = slot.getTime();
  const pausedThen =
    (state.paused && state.pausedAt !== null && t >= Date.parse(state.pausedAt)) || inLastPause(state, t);
  if (pausedThen) return 'skipped by the pause';
  if (claim?.kind === 'enqueue' && nowMs - claim.claimedAt < STALE_CLAIM_MS) return claimedBy(claim.holder);
  return null;
}

/** The claim's value, or `!<why not>` (acquired as the schedulers acquire slots). */
async function claimFor(
  store: ScheduleStore,
  runId: string,
  holder: string,
  nowMs: number,
  ttlMs: number,
): Promise<string> {
  const acquired = await store.acquireSlot(runId, holder, nowMs, ttlMs);
  if (acquired.kind === 'claimed') return acquired.value;
  if (acquired.kind === 'enqueued') return '!already run';
  if (acquired.kind === 'paused') return '!skipped by the pause';
  return acquired.holder === null ? '!claimed meanwhile' : `!${claimedBy(acquired.holder)}`;
}

function claimedBy(holder: string): string {
  return holder.startsWith('backfill:')
    ? `claimed by another backfill (${holder.slice('backfill:'.length)})`
    : `claimed by the scheduler on ${holder}`;
}
