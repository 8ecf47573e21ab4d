/** What became of the schedule's last slot, for `schedule status`, `GET /schedule` and the console. */
import { nightlyJobId } from '../../jobs/payloads.js';
import type { ScheduleState } from '../adapters/schedule-store.js';
import type { App } from '../app.js';
import { localIso } from '../runtime/cron-slots.js';

export interface WireLastRun {
  readonly run_id: string;
  readonly slot: string | null;
  readonly slot_local: string | null;
  readonly enqueued_at: string | null;
  readonly catch_up: boolean;
  readonly skipped: string | null;
  readonly state: 'skipped' | 'queued' | 'fanning out' | 'fan-out failed' | 'running' | 'done' | 'unknown';
  readonly total: number | null;
  readonly completed: number | null;
  readonly failed: number | null;
  /** One line: "2 completed, 1 failed of 3 portfolios", "not run: schedule paused"... */
  readonly outcome: string;
}

type Outcome = Pick<WireLastRun, 'state' | 'total' | 'completed' | 'failed' | 'outcome'>;

/** The last slot decided (run or skipped), its counts from what is stored; null before the first. */
export async function lastScheduledRun(
  app: App,
  state: ScheduleState,
  timezone: string,
): Promise<WireLastRun | null> {
  if (!state.lastRunId) return null;
  const slot = state.lastSlot ? new Date(state.lastSlot) : null;
  return {
    run_id: state.lastRunId,
    slot: state.lastSlot,
    slot_local: slot ? localIso(timezone, slot) : null,
    enqueued_at: state.lastEnqueuedAt,
    catch_up: state.lastCatchUp,
    skipped: state.lastSkipped,
    ...(await outcomeOf(app, state, state.lastRunId)),
  };
}

async function outcomeOf(app: App, state: ScheduleState, runId: string): Promise<Outcome> {
  const none = { total: null, completed: null, failed: null };
  if (state.lastSkipped) return { state: 'skipped', ...none, outcome: `not run: ${state.lastSkipped}` };
  // The run's record outlives the jobs BullMQ keeps (BALLAST_KEEP_COMPLETED), as `runs show` reads it.
  const [record] = await app.reports.runRecords([runId]);
  if (record && record.total !== null) {
    const completed = record.committed + record.gone;
    const done = completed + record.failed >= record.total;
    return {
      state: done ? 'done' : 'running',
      total: record.total,
      completed,
      failed: record.failed,
      outcome: `${completed} completed, ${record.failed} failed of ${record.total} portfolios${done ? '' : ' (running)'}`,
    };
  }
  const job = await app.queue.getJob(nightlyJobId(runId));
  if (!job)
    return { state: 'unknown', ...none, outcome: 'no record of it (expired, or its fan-out never ran)' };
  if (job.state === 'failed') {
    return {
      state: 'fan-out failed',
      ...none,
      outcome: `fan-out failed: ${job.failedReason ?? 'unknown reason'}`,
    };
  }
  if (job.state === 'active') return { state: 'fanning out', ...none, outcome: 'fanning out' };
  // waiting, prioritized (nightly jobs are), delayed (a retry's backoff)...
  return { state: 'queued', ...none, outcome: `queued (${job.state}), waiting for a worker` };
}
