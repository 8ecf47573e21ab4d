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
import { skipReason } from '../src/domain/index.js';
import { checkRunEnd } from './circuit.js';
import { defineJob, type JobContext } from './job.js';
import { recalculateBlockPayload, recalculateJobId, type recalculatePayload } from './payloads.js';
import { type DecodedInputs, decodeRunInputs, recalculatePortfolio, runInputsWanted } from './recalculate.js';

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
    // The block's portfolios (and baselines, and the run's tally) in one round trip, and the
    // metrics of all their businesses in one request of the run's cache: each portfolio then
    // runs without waiting on either (a recompute after a concurrent edit reads again).
    const want = runInputsWanted(ctx.config.guards, { fanOut: true, dryRun: false });
    // A document that does not decode is the portfolio's own job's failure: it reads again below.
    const inputs = (await ctx.reports.runInputsMany(portfolioIds, runId, want)).map((r) => {
      try {
        return decodeRunInputs(r);
      } catch {
        return undefined;
      }
    });
    await prefetchMetrics(ctx, runId, inputs);
    let tally = inputs.find((x) => x !== undefined)?.[2] ?? null;
    for (let i = 0; i < portfolioIds.length; i++) {
      // Every few portfolios: whether the run was cancelled, and the guards' tally afresh (the
      // circuit breaker opened by another worker holds the rest of this block too).
      const check = i % CANCEL_CHECK_EVERY === 0;
      const [cancelledNow, fresh] = check
        ? await Promise.all([
            ctx.reports.runCancelled(runId),
            i > 0 && want.tally ? ctx.reports.runTally(runId) : null,
          ])
        : [false, null];
      if (fresh) tally = fresh;
      if (cancelledNow) {
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
        const read = inputs[i];
        const result = await recalculatePortfolio(
          data,
          { ...ctx, log },
          read ? [read[0], read[1], tally] : undefined,
        );
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

/**
 * Asks the run's metrics cache for every business of the block's portfolios that will run, at
 * once. A failure here is left to each portfolio's own fetch (which retries it alone).
 */
async function prefetchMetrics(
  ctx: JobContext,
  runId: string,
  inputs: readonly (DecodedInputs | undefined)[],
): Promise<void> {
  const businesses = new Set<string>();
  for (const read of inputs) {
    const portfolio = read?.[0];
    if (!portfolio || skipReason(portfolio, 'cron')) continue;
    for (const a of portfolio.allocations) businesses.add(a.businessId);
  }
  if (businesses.size === 0) return;
  try {
    await ctx.metricsFor(runId, { fanOut: true }).fetch([...businesses], ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    ctx.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'block metrics prefetch failed');
  }
}
