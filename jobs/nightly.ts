import { NIGHTLY_PRIORITY } from '../src/adapters/queue.js';
import { cancelPendingPortfolios } from '../src/services/runs.js';
import { checkRunEnd } from './circuit.js';
import { defineJob } from './job.js';
import { nightlyPayload, type RecalculatePayload, recalculateJobId } from './payloads.js';

export interface NightlyResult {
  readonly runId: string;
  /** Portfolios fanned out (paused and archived ones included: they get a "skipped" report). */
  readonly total: number;
}

/**
 * Fans out one recalculate job per portfolio, a chunk at a time (never every id in memory).
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
      await ctx.queue.addBulk(
        ids.map((portfolioId) => {
          const data: RecalculatePayload = {
            portfolioId,
            runId,
            trigger: payload.trigger,
            dryRun: false,
            catchUp: payload.catchUp,
            fanOut: true,
          };
          return {
            name: 'recalculate',
            data,
            jobId: recalculateJobId(runId, portfolioId),
            priority: NIGHTLY_PRIORITY,
          };
        }),
      );
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
