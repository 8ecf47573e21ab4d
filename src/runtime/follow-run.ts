import type { QueueEvents } from 'bullmq';
import { nightlyJobId, recalculateBlockJobPrefix } from '../../jobs/payloads.js';
import type { RunFailure, RunProgress, RunTally } from '../adapters/queue.js';
import type { App } from '../app.js';

const CHUNK = 500;

/**
 * Follows a nightly run until every portfolio it fanned out has completed or failed: by
 * QueueEvents, and from what is stored when events go quiet (they are best-effort; see
 * JobQueue.watchRun). The events reader must be ready before the nightly job is added.
 */
export function followRun(
  app: App,
  events: QueueEvents,
  runId: string,
  onProgress: (progress: RunProgress) => void,
  options: { readonly quietMs?: number; readonly signal?: AbortSignal } = {},
): Promise<RunProgress> {
  return app.queue.watchRun(events, runId, nightlyJobId(runId), onProgress, {
    reconcile: () => tallyRun(app, runId),
    quietMs: options.quietMs,
    signal: options.signal,
    // A child that found its run committed before (re-run after a retried fan-out) was counted.
    isRepeat: (result) => (result as { duplicate?: unknown } | null)?.duplicate === true,
    blockPrefix: recalculateBlockJobPrefix(runId),
  });
}

/**
 * A run counted from what is stored: its total from the record the fan-out writes, a portfolio
 * whose run marker exists has completed it (its report is committed, skipped or not), so has one
 * that was gone when its job ran (its index entry is removed then, so it is counted from the run's
 * gone set), and a child job BullMQ keeps as failed has failed, unless a later attempt committed
 * it. One pass over the portfolio index, a chunk at a time.
 */
export async function tallyRun(app: App, runId: string): Promise<RunTally> {
  const total = await app.reports.fanOutTotal(runId);
  // Still fanning out (or never did): nothing to count against yet.
  if (total === null) return { total, completed: 0, failed: 0, failures: [] };
  let completed = await app.reports.goneCount(runId);
  for await (const ids of app.store.idChunks(CHUNK)) {
    for (const done of await app.reports.committed(ids, runId)) if (done) completed++;
  }
  const prefix = `${runId}.`;
  const failedIds = (await app.queue.failedJobIds()).filter((id) => id.startsWith(prefix));
  const committed = await app.reports.committed(
    failedIds.map((id) => id.slice(prefix.length)),
    runId,
  );
  const failures: RunFailure[] = [];
  for (const [i, jobId] of failedIds.entries()) {
    if (committed[i]) continue;
    failures.push({ jobId, reason: (await app.queue.failedReason(jobId)) ?? 'unknown' });
  }
  return { total, completed, failed: failures.length, failures };
}
