/**
 * A block of a nightly run's portfolios in one job (BALLAST_FANOUT_BLOCK > 1): BullMQ's own cost
 * (an add, a move to active, a move to finished, an event) is paid once per block rather than once
 * per portfolio. Each portfolio is still recalculated, committed and reported on its own by the
 * recalculate job's handler, idempotently: a block run again (a worker killed mid-block, a retry)
 * finds the portfolios it committed before and applies nothing twice. A portfolio whose run throws
 * is retried alone, as its own recalculate job with the usual attempts and backoff.
 */

import type { z } from 'zod';
import { NIGHTLY_PRIORITY } from '../src/adapters/queue.js';
import { checkRunEnd } from './circuit.js';
import { defineJob } from './job.js';
import { recalculateBlockPayload, recalculateJobId, type recalculatePayload } from './payloads.js';
import { recalculateJob } from './recalculate.js';

/** How often (in portfolios) a block asks whether an operator cancelled its run. */
const CANCEL_CHECK_EVERY = 10;

export interface RecalculateBlockResult {
  readonly runId: string;
  readonly portfolios: number;
  /** Committed by this job (a report published, applied or not). */
  readonly committed: number;
  /** Committed before (a block or portfolio job run again): nothing applied twice. */
  readonly duplicates: number;
  readonly gone: number;
  /** Threw here: queued as their own recalculate job, retried alone. */
  readonly retriedAlone: string[];
  /** Not run: the run was cancelled (recorded as cancelled in the run). */
  readonly cancelled: number;
}

export const recalculateBlockJob = defineJob({
  name: 'recalculate-block',
  schema: recalculateBlockPayload,
  handler: async (payload, ctx): Promise<RecalculateBlockResult> => {
    const { runId, trigger, catchUp, portfolioIds } = payload;
    let committed = 0;
    let duplicates = 0;
    let gone = 0;
    let cancelled = 0;
    const retriedAlone: string[] = [];
    for (let i = 0; i < portfolioIds.length; i++) {
      if (i % CANCEL_CHECK_EVERY === 0 && (await ctx.reports.runCancelled(runId))) {
        const rest = portfolioIds.slice(i);
        // Outcome `cancelled` unless committed (HSETNX): the run still ends.
        await ctx.reports.recordCancelled(runId, rest);
        await checkRunEnd(ctx, runId);
        cancelled = rest.length;
        ctx.log.warn({ cancelled }, 'nightly run cancelled by an operator: the rest of the block not run');
        break;
      }
      // The block is taken over once its lock lapses (or retried): what it committed stays committed.
      if (ctx.signal.aborted) throw new Error('block aborted: the worker is shutting down');
      const portfolioId = portfolioIds[i]!;
      const data: z.output<typeof recalculatePayload> = {
        portfolioId,
        runId,
        trigger,
        dryRun: false,
        catchUp,
        fanOut: true,
      };
      const log = ctx.log.child({ portfolioId });
      try {
        const result = await recalculateJob.handler(data, { ...ctx, log });
        if (result.duplicate) duplicates++;
        else if ('gone' in result) gone++;
        else committed++;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        // Its own job (the id a per-portfolio fan-out would give it): BullMQ's attempts and
        // backoff, and when they are spent, the run records it failed with its reason.
        await ctx.queue.add({
          name: 'recalculate',
          data,
          jobId: recalculateJobId(runId, portfolioId),
          priority: NIGHTLY_PRIORITY,
        });
        log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'portfolio of a block failed: retried alone as its own job',
        );
        retriedAlone.push(portfolioId);
      }
    }
    return { runId, portfolios: portfolioIds.length, committed, duplicates, gone, retriedAlone, cancelled };
  },
});
