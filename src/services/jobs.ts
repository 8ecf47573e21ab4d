/**
 * The queue's jobs as an operator sees them (`ballast jobs list|cancel`, `GET /jobs`,
 * `DELETE /jobs/{id}`): what is waiting, running, delayed or failed, and taking back a job that
 * has not started.
 */
import {
  nightlyPayload,
  payloadIds,
  recalculateBlockPayload,
  recalculatePayload,
} from '../../jobs/payloads.js';
import type { App } from '../app.js';
import { NotFoundError, RefusedError } from '../domain/index.js';

type Deps = Pick<App, 'queue' | 'reports' | 'clock'>;

export const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type JobStateFilter = (typeof JOB_STATES)[number];
export const DEFAULT_JOBS_LIMIT = 50;
export const MAX_JOBS_LIMIT = 1000;

export interface WireJob {
  readonly id: string;
  readonly name: string;
  /** BullMQ's state; `waiting` includes BullMQ's `prioritized` (nightly jobs wait there). */
  readonly state: string;
  readonly run_id: string | null;
  readonly portfolio_id: string | null;
  readonly created_at: string;
  readonly attempts_made: number;
  readonly failed_reason: string | null;
}

/** Jobs in one state (or waiting, active and delayed together), newest first, at most `limit`. */
export async function listJobs(
  app: Deps,
  options: { readonly state?: JobStateFilter | undefined; readonly limit?: number | undefined } = {},
): Promise<WireJob[]> {
  const limit = options.limit ?? DEFAULT_JOBS_LIMIT;
  const states =
    options.state === undefined
      ? (['active', 'waiting', 'prioritized', 'delayed'] as const)
      : options.state === 'waiting'
        ? (['waiting', 'prioritized'] as const)
        : ([options.state] as const);
  const jobs = await app.queue.listJobs(states, 0, limit - 1);
  return jobs.map((job) => {
    const ids = payloadIds(job.data);
    return {
      id: job.id,
      name: job.name,
      state: job.state === 'prioritized' ? 'waiting' : job.state,
      run_id: ids.runId ?? null,
      portfolio_id: ids.portfolioId ?? null,
      created_at: new Date(job.timestamp).toISOString(),
      attempts_made: job.attemptsMade,
      failed_reason: job.failedReason,
    };
  });
}

export interface CancelJobResult {
  readonly job_id: string;
  readonly name: string;
  readonly run_id: string | null;
  readonly portfolio_id: string | null;
  readonly cancelled: true;
}

/**
 * Removes a job that has not started (waiting or delayed). A nightly run's portfolio job is
 * recorded as cancelled in its run, so that the run still ends; a nightly fan-out job cancels its
 * run. A job running, finished or failed is refused (409).
 */
export async function cancelJob(app: Deps, jobId: string, actor: string): Promise<CancelJobResult> {
  const job = await app.queue.getJob(jobId);
  if (!job) throw new NotFoundError(`job ${jobId} not found`);
  const state = await app.queue.removePending(jobId);
  if (state !== null) {
    const shown = state === 'unknown' ? 'gone' : state;
    throw new RefusedError(
      `job ${jobId} is ${shown}: only a waiting or delayed job can be cancelled` +
        (shown === 'active'
          ? ' (a running job finishes; ballast runs cancel stops the rest of its run)'
          : ''),
    );
  }
  const now = app.clock().toISOString();
  const nightly = nightlyPayload.safeParse(job.data);
  if (job.name === 'nightly' && nightly.success) {
    await app.reports.recordCancelledRun(nightly.data.runId, now, actor);
  }
  const recalculate = recalculatePayload.safeParse(job.data);
  const block = recalculateBlockPayload.safeParse(job.data);
  const cancelledPortfolios =
    job.name === 'recalculate' && recalculate.success && recalculate.data.fanOut
      ? { runId: recalculate.data.runId, portfolioIds: [recalculate.data.portfolioId] }
      : job.name === 'recalculate-block' && block.success
        ? block.data
        : null;
  if (cancelledPortfolios) {
    const { runId, portfolioIds } = cancelledPortfolios;
    await app.reports.recordCancelled(runId, portfolioIds);
    const progress = await app.reports.runProgress(runId);
    if (progress.total !== null && progress.done >= progress.total) {
      await app.reports.recordFinished(runId, now);
    }
  }
  const ids = payloadIds(job.data);
  return {
    job_id: jobId,
    name: job.name,
    run_id: ids.runId ?? null,
    portfolio_id: ids.portfolioId ?? null,
    cancelled: true,
  };
}
