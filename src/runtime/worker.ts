import type { Worker } from 'bullmq';
import { checkRunEnd } from '../../jobs/circuit.js';
import type { JobContext } from '../../jobs/job.js';
import {
  payloadIds,
  recalculateBlockPayload,
  recalculateJobId,
  recalculatePayload,
} from '../../jobs/payloads.js';
import { isJobName, jobRegistry } from '../../jobs/registry.js';
import { createWorker, type Processor } from '../adapters/queue-worker.js';
import { createRedis } from '../adapters/redis.js';
import type { App } from '../app.js';
import { ValidationError } from '../domain/index.js';
import { describeIssues } from '../domain/wire.js';
import { abortable, settledWithin } from '../timing.js';
import { type ActiveJob, ActiveJobs } from './active-jobs.js';
import { tightenHeapGrowth } from './heap-growth.js';

export interface RunningWorker {
  readonly worker: Worker;
  /** The jobs this process is running now (a shutdown that runs out of time names them). */
  activeJobs(): ActiveJob[];
  /** Stops taking jobs, waits for the active ones, closes its connections. */
  close(): Promise<void>;
}

/**
 * How long BullMQ's close may take once no job is running. Begun while Redis was unreachable,
 * it waits for its blocking connection to end, which a reconnecting connection never does,
 * not even once Redis is back.
 */
const BULLMQ_CLOSE_GRACE_MS = 1000;

export function jobProcessor(app: App, observe?: JobContext['observe']): Processor {
  return async (name, data, job) => {
    // Every line of the job carries its job id, run id and portfolio id (SPEC: logs), those of
    // an invalid payload included, as far as they can be read.
    const log = app.log.child({ jobId: job.jobId, job: name, ...payloadIds(data) });
    const started = performance.now();
    try {
      if (!isJobName(name)) throw new ValidationError(`unknown job name ${JSON.stringify(name)}`);
      const definition = jobRegistry[name];
      const parsed = definition.schema.safeParse(data);
      if (!parsed.success) {
        throw new ValidationError(`invalid ${name} payload: ${describeIssues(parsed.error.issues)}`);
      }
      const ctx: JobContext = {
        log,
        clock: app.clock,
        signal: job.signal,
        config: app.config,
        store: app.store,
        reports: app.reports,
        proposals: app.proposals,
        metricsFor: app.metricsFor,
        queue: app.queue,
        jobId: job.jobId,
        attemptsMade: job.attemptsMade,
        updateProgress: job.updateProgress,
        ...(observe ? { observe } : {}),
      };
      const result = await definition.handler(parsed.data, ctx);
      observe?.('job_duration_seconds', (performance.now() - started) / 1000, { name });
      return result;
    } catch (err) {
      observe?.('job_failed', 1, { name });
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'job failed');
      throw err;
    }
  };
}

/** The start was aborted (a shutdown signal while the worker waited on Redis). */
export class WorkerAbortedError extends Error {
  override readonly name = 'WorkerAbortedError';
  constructor() {
    super('worker start aborted');
  }
}

/**
 * Starts a BullMQ worker for every job in the registry, with its own blocking connection. With
 * `signal`, a start still waiting for Redis gives up when it aborts (WorkerAbortedError), so that
 * SIGTERM stops a worker that never reached Redis.
 */
export async function startWorker(
  app: App,
  observe?: JobContext['observe'],
  options: { signal?: AbortSignal } = {},
): Promise<RunningWorker> {
  tightenHeapGrowth();
  const connection = createRedis(app.config);
  const active = new ActiveJobs();
  const processor = jobProcessor(app, observe);
  const tracked: Processor = (name, data, job) =>
    active.run({ jobId: job.jobId, job: name, ...payloadIds(data), since: app.clock().toISOString() }, () =>
      processor(name, data, job),
    );
  const worker = createWorker(app.config, app.keys, connection, tracked);
  worker.on('error', (err) => app.log.warn({ err: err.message }, 'worker error'));
  const failures = new Set<Promise<void>>();
  worker.on('failed', (job, err) => {
    app.log.warn(
      {
        jobId: job?.id,
        job: job?.name,
        ...payloadIds(job?.data),
        attemptsMade: job?.attemptsMade,
        err: err.message,
      },
      'job attempt failed',
    );
    // BullMQ sets finishedOn only when the job failed for good (no retry left).
    if ((job?.name === 'recalculate' || job?.name === 'recalculate-block') && job.finishedOn) {
      // Waited for by close(): a run whose failure is not recorded would never end.
      const recording = recordFinalFailure(app, job.data, err.message);
      failures.add(recording);
      void recording.finally(() => failures.delete(recording));
    }
  });
  void worker.run().catch((err: unknown) => app.log.error({ err: String(err) }, 'worker stopped'));
  try {
    await abortable(worker.waitUntilReady(), options.signal, () => new WorkerAbortedError());
  } catch (err) {
    // Never connected: nothing is active, so nothing to wait for.
    connection.disconnect();
    await worker.close(true).catch(() => undefined);
    throw err;
  }
  for (const warning of app.config.warnings) app.log.warn(warning);
  if (!app.config.guards.enabled) {
    app.log.warn(
      'BALLAST_GUARDS=off: metric checks, the turnover and missing-metrics guards and the run circuit breaker are OFF; every recommendation of an auto portfolio is applied unchecked',
    );
  }
  let closing: Promise<void> | undefined;
  return {
    worker,
    activeJobs: () => active.list(),
    close: () => {
      closing ??= (async () => {
        // From here BullMQ takes no new job; the active ones finish.
        const closed = worker.close();
        for (;;) {
          await active.idle();
          if (await settledWithin(closed, BULLMQ_CLOSE_GRACE_MS)) break;
          // A job taken in the meantime is waited for too.
          if (active.size > 0) continue;
          // A completion BullMQ had not yet written is lost with the connection: the job is
          // taken over once its lock lapses, and finds its run committed (nothing applied twice).
          app.log.warn(
            'BullMQ worker still closing though no job is running (it began while Redis was unreachable): not waiting for it',
          );
          break;
        }
        // The failures being recorded (bounded: a Redis that hangs must not keep the process up).
        await settledWithin(Promise.allSettled([...failures]), 2000);
        // The jobs have finished: a Redis that hangs now must not keep the process up.
        if (connection.status === 'ready') await settledWithin(connection.quit(), 2000);
        connection.disconnect();
      })();
      return closing;
    },
  };
}

/**
 * A nightly run's portfolio whose job failed for good: the run keeps why (BullMQ trims its failed
 * jobs), and counts it as done, so that the run can end.
 */
async function recordFinalFailure(app: App, data: unknown, reason: string): Promise<void> {
  const parsed = recalculatePayload.safeParse(data);
  const block = recalculateBlockPayload.safeParse(data);
  // A block's portfolios that it had not committed failed with it (recordFailed skips the others).
  const [runId, portfolioIds] =
    parsed.success && parsed.data.fanOut
      ? [parsed.data.runId, [parsed.data.portfolioId]]
      : block.success
        ? [block.data.runId, block.data.portfolioIds]
        : [null, []];
  if (runId === null) return;
  const portfolioId = portfolioIds.length === 1 ? portfolioIds[0] : `${portfolioIds.length} portfolios`;
  try {
    for (const id of portfolioIds) {
      // A portfolio the block handed to its own job is that job's to record.
      if (block.success && (await app.queue.getJob(recalculateJobId(runId, id)))) continue;
      await app.reports.recordFailed(runId, id, reason);
    }
    await checkRunEnd(app, runId);
  } catch (err) {
    app.log.warn(
      { runId, portfolioId, err: err instanceof Error ? err.message : String(err) },
      'could not record a failed portfolio of the run',
    );
  }
}
