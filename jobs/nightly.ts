import { type AddJob, NIGHTLY_PRIORITY } from '../src/adapters/queue.js';
import { cancelPendingPortfolios } from '../src/services/runs.js';
import { checkRunEnd } from './circuit.js';
import { defineJob } from './job.js';
import {
  nightlyPayload,
  type RecalculateBlockPayload,
  type RecalculatePayload,
  recalculateBlockJobId,
  recalculateJobId,
} from './payloads.js';

export interface NightlyResult {
  readonly runId: string;
  /** Portfolios fanned out (paused and archived ones included: they get a "skipped" report). */
  readonly total: number;
}

/**
 * Fans out one recalculate job per portfolio (or one recalculate-block job per BALLAST_FANOUT_BLOCK
 * portfolios), a chunk at a time (never every id in memory).
 * Job ids come from the run id and the portfolio id, so a retried or repeated fan-out adds
 * nothing twice.
 */
export const nightlyJob = defineJob({
  name: 'nightly',
  schema: nightlyPayload,
  handler: async (payload, ctx): Promise<NightlyResult> => {
    const { runId } = payload;
    const { log } = ctx; // bound to the job id and run id already
    await ctx.reports.recordStarted(runId, ctx.clock().toISOString());
    let total = 0;
    for await (const ids of ctx.store.idChunks(ctx.config.fanOutChunk)) {
      if (ctx.signal.aborted) throw new Error('fan-out aborted: the worker is shutting down');
      await ctx.queue.addBulk(children(ids, payload, ctx.config.fanOutBlock));
      total += ids.length;
      await ctx.updateProgress({ enqueued: total });
      // Cancelled while this chunk was added: its jobs may have missed the cancel's own sweep.
      if (await ctx.reports.runCancelled(runId)) {
        await cancelPendingPortfolios(ctx, runId);
        log.warn({ fannedOut: total }, 'nightly run cancelled by an operator: fan-out stopped');
        break;
      }
    }
    await ctx.reports.recordFanOut(runId, total, ctx.clock().toISOString());
    // Every portfolio may have committed before the total was recorded.
    await checkRunEnd(ctx, runId);
    log.info({ total }, 'nightly run fanned out');
    return { runId, total };
  },
});

/** A chunk of the index as jobs: one per portfolio, or one per block of them. */
function children(
  ids: readonly string[],
  payload: Pick<RecalculatePayload, 'runId' | 'trigger'> & { readonly catchUp: boolean },
  block: number,
): AddJob[] {
  const { runId, trigger, catchUp } = payload;
  if (block <= 1) {
    return ids.map((portfolioId) => {
      const data: RecalculatePayload = { portfolioId, runId, trigger, dryRun: false, catchUp, fanOut: true };
      return {
        name: 'recalculate',
        data,
        jobId: recalculateJobId(runId, portfolioId),
        priority: NIGHTLY_PRIORITY,
      };
    });
  }
  const jobs: AddJob[] = [];
  for (let i = 0; i < ids.length; i += block) {
    const portfolioIds = ids.slice(i, i + block);
    const data: RecalculateBlockPayload = { runId, trigger, catchUp, portfolioIds };
    jobs.push({
      name: 'recalculate-block',
      data,
      jobId: recalculateBlockJobId(runId, portfolioIds[0]!),
      priority: NIGHTLY_PRIORITY,
    });
  }
  return jobs;
}
