/**
 * A nightly run's circuit breaker, across every worker of the run: the commit script counts each
 * portfolio the guards decided on, and those a guard held, in the run's hash; these read the count
 * and open the breaker (once per run: HSETNX) when too many were held.
 */
import type { RunProgress } from '../src/adapters/run-progress.js';
import { circuitTrips, describeCircuit } from '../src/domain/index.js';
import type { JobContext } from './job.js';

type CircuitContext = Pick<JobContext, 'reports' | 'config' | 'log' | 'observe'>;
type RunEndContext = CircuitContext & Pick<JobContext, 'clock'>;

/**
 * Before a portfolio of the run commits, with the run's tally read as the job began (runTally, in
 * the same round trip as the portfolio): null while the breaker is closed, else what the held
 * portfolio's reason says. Opens it when the share held so far is too high (once enough are done).
 */
export async function circuitBefore(
  ctx: CircuitContext,
  runId: string,
  tally: Pick<RunProgress, 'decided' | 'held' | 'circuitOpen'>,
): Promise<string | null> {
  if (tally.circuitOpen !== null) return tally.circuitOpen;
  if (!circuitTrips(tally, ctx.config.guards, false)) return null;
  return open(ctx, runId, tally);
}

/**
 * After a portfolio of the run commits or fails for good, and after the fan-out records its total:
 * when every portfolio of the run is done, the run's end is recorded (once: HSETNX), and a run too
 * small to have reached the breaker's minimum count is judged on its whole. Nothing is left to
 * hold then; the breaker's log line, counter and flag still say so.
 */
export async function checkRunEnd(ctx: RunEndContext, runId: string): Promise<void> {
  try {
    const progress = await ctx.reports.runProgress(runId);
    if (progress.total === null || progress.done < progress.total) return;
    await ended(ctx, runId, progress, await ctx.reports.recordFinished(runId, ctx.clock().toISOString()));
  } catch (err) {
    runEndFailed(ctx, err);
  }
}

/**
 * checkRunEnd for a commit whose script judged the run's end itself (the commit's `progress`, on
 * a single Redis): no round trip unless the run has ended and its breaker is to be judged.
 */
export async function commitRunEnd(
  ctx: CircuitContext,
  runId: string,
  progress: RunProgress & { readonly finished: boolean },
): Promise<void> {
  if (progress.total === null || progress.done < progress.total) return;
  try {
    await ended(ctx, runId, progress, progress.finished);
  } catch (err) {
    runEndFailed(ctx, err);
  }
}

async function ended(
  ctx: CircuitContext,
  runId: string,
  progress: RunProgress,
  recordedFinish: boolean,
): Promise<void> {
  if (recordedFinish) ctx.log.info({ runId, total: progress.total }, 'nightly run finished');
  if (!ctx.config.guards.enabled || progress.circuitOpen !== null) return;
  if (circuitTrips(progress, ctx.config.guards, true)) await open(ctx, runId, progress);
}

function runEndFailed(ctx: CircuitContext, err: unknown): void {
  // The portfolio is committed: a failed check must not fail (and retry) its job.
  ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'run end check failed');
}

async function open(
  ctx: CircuitContext,
  runId: string,
  tally: { readonly decided: number; readonly held: number },
): Promise<string> {
  const why = describeCircuit(tally, ctx.config.guards);
  if (await ctx.reports.openCircuit(runId, why)) {
    ctx.log.error({ runId, decided: tally.decided, held: tally.held }, why);
    ctx.observe?.('run_circuit_open', 1);
  }
  return why;
}
