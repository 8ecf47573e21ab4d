/**
 * Deciding one slot of the nightly schedule, as every scheduler replica does: skip it when its run
 * exists or the schedule was paused at that time, else claim it (one replica wins), queue its run
 * (retried a few times), and mark the claim enqueued; a failed queueing gives the claim back.
 */
import { inLastPause, type ScheduleStore } from '../adapters/schedule-store.js';
import type { App } from '../app.js';
import { schedulerActor } from '../services/actor.js';
import { enqueueNightly, runExists } from '../services/runs.js';
import { abortableSleep } from '../timing.js';
import { cronRunId } from './run-ids.js';

export type FireOutcome =
  /** This replica enqueued the slot's nightly run. */
  | 'enqueued'
  /** The run exists already (its nightly job, or the record its fan-out wrote). */
  | 'already-run'
  /** Another replica holds the slot's claim and is enqueueing it. */
  | 'claimed-elsewhere'
  /** The slot passed while the schedule was paused: it is marked, and never runs later. */
  | 'paused'
  /** Enqueueing failed; the claim was given back and later sweeps retry while the slot is recent. */
  | 'failed';

export interface SlotDeciderDeps {
  readonly app: App;
  readonly store: ScheduleStore;
  /** Who claims: `<host>:<pid>`. */
  readonly holder: string;
  readonly clock: () => Date;
  readonly claimTtlMs: number;
  /** Waits between attempts to queue the slot's run; then the caller's later sweeps retry. */
  readonly retryDelaysMs: readonly number[];
  /** The scheduler is closing: no further attempt. */
  readonly closing: AbortSignal;
}

/** Decides a slot (`catchUp`: it fell due before this scheduler started); throws when queueing failed. */
export function slotDecider(deps: SlotDeciderDeps): (slot: Date, catchUp: boolean) => Promise<FireOutcome> {
  const { app, store, holder, clock, claimTtlMs, retryDelaysMs } = deps;
  const { log } = app;
  const closing = { signal: deps.closing };

  const enqueue = async (slot: Date, catchUp: boolean): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await enqueueNightly(app, { trigger: 'cron', actor: schedulerActor(), slot, catchUp });
        return;
      } catch (err) {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined || closing.signal.aborted) throw err;
        log.warn(
          { runId: cronRunId(slot), attempt: attempt + 1, err: errorMessage(err) },
          'could not enqueue the nightly run; retrying',
        );
        await abortableSleep(delay, closing.signal);
      }
    }
  };

  const skipPaused = async (runId: string, slot: Date): Promise<FireOutcome> => {
    if (!(await store.markPaused(runId, clock().toISOString(), claimTtlMs))) {
      const claim = await store.slotClaim(runId);
      // Claimed before the pause by a replica enqueueing it: that replica decides.
      if (claim?.kind === 'enqueue') return 'claimed-elsewhere';
      if (claim?.kind === 'enqueued') return 'already-run';
      return 'paused';
    }
    await store.recordSkip(runId, slot, 'schedule paused');
    log.info({ runId, slot: slot.toISOString() }, 'schedule is paused: slot not run');
    return 'paused';
  };

  const decide = async (slot: Date, catchUp: boolean): Promise<FireOutcome> => {
    const runId = cronRunId(slot);
    if (await runExists(app, runId)) return 'already-run';
    const state = await store.state();
    if (state.paused || inLastPause(state, slot.getTime())) return skipPaused(runId, slot);

    const acquired = await store.acquireSlot(runId, holder, clock().getTime(), claimTtlMs);
    if (acquired.kind === 'paused') return 'paused';
    if (acquired.kind === 'enqueued') return 'already-run';
    if (acquired.kind === 'held') return 'claimed-elsewhere';
    const claim = acquired.value;
    if (acquired.tookOverFrom !== null) {
      log.warn(
        { runId, staleHolder: acquired.tookOverFrom },
        'took over a stale claim: its run was never enqueued',
      );
    }
    try {
      await enqueue(slot, catchUp);
    } catch (err) {
      await store
        .releaseClaim(runId, claim)
        .catch((releaseErr: unknown) =>
          log.warn({ runId, err: errorMessage(releaseErr) }, 'could not give back the slot claim'),
        );
      throw err;
    }
    try {
      await store.markEnqueued(runId, claim);
      await store.recordRun(runId, slot, clock().toISOString(), catchUp);
    } catch (err) {
      log.warn(
        { runId, err: errorMessage(err) },
        'nightly run enqueued, but its claim not marked enqueued or not recorded for schedule status',
      );
    }
    log.info({ runId, slot: slot.toISOString(), catchUp }, 'nightly run enqueued');
    return 'enqueued';
  };

  return decide;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
