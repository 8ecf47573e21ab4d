/**
 * `POST /portfolios/{id}/rebalance` applies through the recalculate job, the one apply path
 * (compare-and-set, retries, the published report): it enqueues the job ahead of nightly work
 * and waits for a worker to finish it.
 */
import { type RecalculatePayload, recalculateJobId } from '../../../jobs/payloads.js';
import { GONE_WITHOUT_REPORT, type RecalculateResult, resultFromReport } from '../../../jobs/recalculate.js';
import { JobFailedError, OPERATOR_PRIORITY } from '../../adapters/queue.js';
import { RefusedError, skipReason } from '../../domain/index.js';
import { manualRunId } from '../../runtime/run-ids.js';
import type { ApiContext } from '../context.js';

export type ApplyOutcome =
  | {
      readonly kind: 'done';
      readonly jobId: string;
      readonly runId: string;
      readonly result: RecalculateResult;
    }
  /**
   * No worker finished the job in time, or the server is shutting down: it stays queued and
   * applies when a worker takes it.
   */
  | {
      readonly kind: 'queued';
      readonly jobId: string;
      readonly runId: string;
      readonly why: 'timeout' | 'shutdown';
    };

export async function enqueueRecalculate(
  ctx: ApiContext,
  portfolioId: string,
  dryRun: boolean,
): Promise<{ jobId: string; runId: string }> {
  const { app } = ctx;
  const portfolio = await app.store.require(portfolioId);
  skipReason(portfolio, 'manual'); // an archived portfolio is refused here, before anything is queued
  const runId = manualRunId(app.clock());
  const jobId = recalculateJobId(runId, portfolio.id);
  const data: RecalculatePayload = { portfolioId: portfolio.id, runId, trigger: 'manual', dryRun };
  await app.queue.add({ name: 'recalculate', data, jobId, priority: OPERATOR_PRIORITY });
  return { jobId, runId };
}

export async function applyNow(ctx: ApiContext, portfolioId: string): Promise<ApplyOutcome> {
  // The events reader is listening before the job exists, so its completion cannot be missed.
  const events = await ctx.queueEvents();
  const { jobId, runId } = await enqueueRecalculate(ctx, portfolioId, false);
  // Trimmed from the kept completed jobs (a busy queue): the run's report tells the result.
  const fromReport = async (): Promise<RecalculateResult> => {
    const summary = await ctx.app.reports.runSummary(portfolioId, runId);
    if (summary === null) throw new JobFailedError(jobId, GONE_WITHOUT_REPORT);
    return resultFromReport(summary);
  };
  try {
    const result = (await ctx.app.queue.waitFor(jobId, events, ctx.applyTimeoutMs, {
      ifGone: fromReport,
      signal: ctx.shutdown,
    })) as RecalculateResult;
    return { kind: 'done', jobId, runId, result };
  } catch (err) {
    if (err instanceof JobFailedError) {
      throw new RefusedError(`rebalance job ${jobId} failed: ${err.reason}`);
    }
    // Shutting down: answer now (the job is safe in the queue) rather than hold the exit.
    if (ctx.shutdown.aborted) return { kind: 'queued', jobId, runId, why: 'shutdown' };
    const job = await ctx.app.queue.getJob(jobId);
    if (job?.state === 'completed') {
      return { kind: 'done', jobId, runId, result: job.result as RecalculateResult };
    }
    if (!job) {
      try {
        return { kind: 'done', jobId, runId, result: await fromReport() };
      } catch (gone) {
        throw new RefusedError(`rebalance job ${jobId} failed: ${(gone as Error).message}`);
      }
    }
    if (job?.state === 'failed') {
      throw new RefusedError(`rebalance job ${jobId} failed: ${job.failedReason ?? String(err)}`);
    }
    return { kind: 'queued', jobId, runId, why: 'timeout' };
  }
}
