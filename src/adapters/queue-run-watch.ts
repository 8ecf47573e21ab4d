/** Following a nightly run through QueueEvents, reconciled with what is stored (see watchRun). */
import type { Queue, QueueEvents } from 'bullmq';
import { toError } from './queue-wait.js';

export interface RunFailure {
  readonly jobId: string;
  readonly reason: string;
}

export interface RunProgress {
  /** Portfolios fanned out; null until the fan-out job has finished. */
  readonly total: number | null;
  readonly completed: number;
  readonly failed: number;
  readonly failures: readonly RunFailure[];
}

/** A run counted from what is stored rather than from events (see watchRun). */
export interface RunTally {
  /** Portfolios fanned out, once the fan-out has ended (null before). */
  readonly total: number | null;
  readonly completed: number;
  readonly failed: number;
  readonly failures: readonly RunFailure[];
}

export interface WatchOptions {
  readonly reconcile?: () => Promise<RunTally>;
  readonly quietMs?: number;
  readonly signal?: AbortSignal;
  readonly isRepeat?: (returnvalue: unknown) => boolean;
  /**
   * Job ids of the run's blocks (BALLAST_FANOUT_BLOCK > 1) start with this: a completed block
   * counts the portfolios its result says it committed or found gone (those it handed to their own
   * job count when that job finishes; those it found committed before were counted then).
   */
  readonly blockPrefix?: string;
}

/**
 * Follows a nightly run: its fan-out job gives the total, and every child job of the run
 * (job id `<runId>.<portfolioId>`) counts as done or failed when it finishes. The events reader
 * must be ready before the nightly job is added, so that no child's event is missed. A child
 * counts once, by its last outcome: a failed job retried from the dashboard and then completed
 * is completed.
 *
 * QueueEvents are best-effort: BullMQ trims its event stream (~10,000 entries), so a reader
 * that falls behind a busy queue loses events, and a run followed by events alone would never
 * end. When no event of the run has come for `quietMs`, `reconcile` counts the run from what
 * is stored (the fan-out's total, the children's outcomes) and ends the watch when that count
 * is complete. Once a reconcile has been needed, counts that events complete are confirmed by
 * another (events arriving late could count a child the stored count already holds).
 * `signal` stops the watch (it then resolves with the progress so far).
 *
 * Memory stays flat in the number of portfolios: completions are counted, not remembered; only
 * failed children are kept (their reasons are reported). A completion that `isRepeat` says
 * repeats an earlier one (a child re-run after a retried fan-out found its run committed) is
 * not counted again, unless that child was counted as failed; should that skip a first
 * completion whose event was lost, the quiet-period reconcile counts it.
 */
export function watchRun(
  queue: Queue,
  onError: (err: Error) => void,
  events: QueueEvents,
  runId: string,
  fanOutJobId: string,
  onProgress: (progress: RunProgress) => void,
  options: WatchOptions = {},
): Promise<RunProgress> {
  const childPrefix = `${runId}.`;
  const quietMs = options.quietMs ?? 5000;
  let total: number | null = null;
  /** Children completed by events (since the adopted reconcile, if any). */
  let completedByEvents = 0;
  /** Children failed by events (since the adopted reconcile, if any), by job id. */
  const failedByEvents = new Map<string, RunFailure>();
  /** Once a reconcile has been adopted: its counts, to which later events add. */
  let base: { completed: number; failures: Map<string, RunFailure> } | null = null;
  let lastEventAt = Date.now();
  let lastReconcileAt = 0;
  let reconciling = false;
  let settled = false;
  const snapshot = (): RunProgress => {
    const failures = [...(base?.failures.values() ?? []), ...failedByEvents.values()];
    const completed = (base?.completed ?? 0) + completedByEvents;
    return { total, completed, failed: failures.length, failures };
  };
  return new Promise<RunProgress>((resolve, reject) => {
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      events.off('completed', onCompleted);
      events.off('failed', onFailed);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(snapshot());
    };
    const onAbort = () => finish();
    const check = () => {
      const progress = snapshot();
      onProgress(progress);
      if (total === null || progress.completed + progress.failed < total) return;
      if (base === null) finish();
      // Confirm by the stored state, at most every quietMs / 2 while late events pour in; the
      // quiet timer catches the rest.
      else if (Date.now() - lastReconcileAt >= quietMs / 2) void reconcile();
    };
    const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      if (jobId === fanOutJobId) {
        lastEventAt = Date.now();
        const fanned = (parseReturn(returnvalue) as { total?: number } | null)?.total;
        total = typeof fanned === 'number' ? fanned : 0;
        check();
      } else if (options.blockPrefix !== undefined && jobId.startsWith(options.blockPrefix)) {
        lastEventAt = Date.now();
        const block = parseReturn(returnvalue) as { committed?: unknown; gone?: unknown } | null;
        completedByEvents += count(block?.committed) + count(block?.gone);
        check();
      } else if (jobId.startsWith(childPrefix)) {
        lastEventAt = Date.now();
        // A failed child retried (from the dashboard) counts once, by its last outcome.
        const wasFailed = failedByEvents.delete(jobId) || (base?.failures.delete(jobId) ?? false);
        if (!wasFailed && options.isRepeat?.(parseReturn(returnvalue))) return;
        completedByEvents++;
        check();
      }
    };
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
      if (jobId === fanOutJobId) {
        finish(new Error(`nightly fan-out ${jobId} failed: ${failedReason}`));
      } else if (jobId.startsWith(childPrefix)) {
        lastEventAt = Date.now();
        failedByEvents.set(jobId, { jobId, reason: failedReason });
        check();
      }
    };
    // The fan-out may have finished before we listened (an existing job id), or its event may
    // have been trimmed away: read its state.
    const readFanOut = async () => {
      // The state before the job, as in waitFor: a job read after its final state has its result.
      const state = await queue.getJobState(fanOutJobId);
      if (state !== 'completed' && state !== 'failed') return;
      const job = await queue.getJob(fanOutJobId);
      if (!job || total !== null || settled) return;
      if (state === 'completed') onCompleted({ jobId: fanOutJobId, returnvalue: job.returnvalue });
      else onFailed({ jobId: fanOutJobId, failedReason: job.failedReason });
    };
    const reconcile = async () => {
      if (reconciling || settled) return;
      reconciling = true;
      lastReconcileAt = Date.now();
      try {
        if (total === null) await readFanOut();
        if (!options.reconcile || settled) return;
        const tally = await options.reconcile();
        // The fan-out job may be gone from BullMQ's kept jobs; the run's own record has its total.
        total ??= tally.total;
        if (total === null || settled) return;
        base = { completed: tally.completed, failures: new Map(tally.failures.map((f) => [f.jobId, f])) };
        completedByEvents = 0;
        failedByEvents.clear();
        const progress = snapshot();
        onProgress(progress);
        if (progress.completed + progress.failed >= total) finish();
      } catch (err) {
        // A Redis hiccup: the next quiet period tries again.
        onError(toError(err));
      } finally {
        reconciling = false;
      }
    };
    const timer = setInterval(
      () => {
        if (Date.now() - lastEventAt >= quietMs) {
          lastEventAt = Date.now();
          void reconcile();
        }
      },
      Math.max(10, Math.floor(quietMs / 4)),
    );
    if (options.signal?.aborted) return finish();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    events.on('completed', onCompleted);
    events.on('failed', onFailed);
    void readFanOut().catch((err: unknown) => onError(toError(err)));
  });
}

/** A completed job's return value as events carry it (a JSON string), parsed when it is one. */
function parseReturn(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}
