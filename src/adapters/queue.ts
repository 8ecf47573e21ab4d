/**
 * The only module that talks to BullMQ (immich's job.repository pattern): queue, worker,
 * events, and the mapping from Ballast's errors to BullMQ's retry semantics.
 */
import { type Job, type JobsOptions, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { isBallastError } from '../domain/index.js';
import type { Keys } from './keys.js';

/** Operators' jobs carry no priority and so run before prioritized (nightly) ones. */
export const OPERATOR_PRIORITY = 0;
export const NIGHTLY_PRIORITY = 10;

export interface JobInfo {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly data: unknown;
  readonly progress: unknown;
  readonly result: unknown;
  readonly failedReason: string | null;
  readonly attemptsMade: number;
  readonly timestamp: number;
  readonly finishedOn: number | null;
}

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

export interface AddJob {
  readonly name: string;
  readonly data: unknown;
  readonly jobId: string;
  readonly priority: number;
}

export class JobQueue {
  readonly queue: Queue;

  constructor(
    readonly config: Config,
    readonly keys: Keys,
    connection: Redis,
    /** Connection errors of the queue and of every events reader (they reconnect by themselves). */
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.queue = new Queue(config.queueName, {
      connection,
      prefix: keys.bullPrefix,
      defaultJobOptions: defaultJobOptions(config),
    });
    this.queue.on('error', onError);
  }

  /** Adds one job; a job id that exists already returns the existing job (nothing is added twice). */
  async add(job: AddJob): Promise<string> {
    const added = await this.queue.add(job.name, job.data, { jobId: job.jobId, priority: job.priority });
    return added.id ?? job.jobId;
  }

  async addBulk(jobs: readonly AddJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((j) => ({ name: j.name, data: j.data, opts: { jobId: j.jobId, priority: j.priority } })),
    );
  }

  async getJob(id: string): Promise<JobInfo | null> {
    // The state before the job: a job read after reaching its final state carries its result
    // (read the other way round, a job finishing in between would show "completed" and no result).
    const state = await this.queue.getJobState(id);
    if (state === 'unknown') return null;
    const job = await this.queue.getJob(id);
    return job ? describeJob(job, state) : null;
  }

  /**
   * Resolves with the job's result when it completes; rejects with its failure reason, or when
   * `timeoutMs` passes. QueueEvents are best-effort (see watchRun), so the job's state is also
   * read every `pollMs`: a lost event delays the answer and never loses it. A job that finished
   * and was then trimmed from the kept completed jobs (BALLAST_KEEP_COMPLETED: within a second
   * during a big nightly run) is gone from BullMQ; `ifGone` tells its result from what the job
   * stored (undefined: keep waiting).
   */
  async waitFor(
    jobId: string,
    events: QueueEvents,
    timeoutMs?: number,
    options: { readonly pollMs?: number; readonly ifGone?: () => Promise<unknown> } = {},
  ): Promise<unknown> {
    if (!(await this.queue.getJob(jobId))) throw new Error(`job ${jobId} not found`);
    // Not Job.waitUntilFinished: its own first state check rejects outside any promise a caller
    // holds ("Missing key for job") when the job is trimmed meanwhile.
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | null, value?: unknown) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        clearTimeout(deadline);
        events.off('completed', onCompleted);
        events.off('failed', onFailed);
        if (error) reject(error);
        else resolve(value);
      };
      const onCompleted = (event: { jobId: string; returnvalue: unknown }) => {
        if (event.jobId === jobId) finish(null, parseReturn(event.returnvalue));
      };
      const onFailed = (event: { jobId: string; failedReason: string }) => {
        if (event.jobId === jobId) finish(new Error(event.failedReason));
      };
      const poll = async () => {
        // The state first: BullMQ writes a job's result and moves it to its final state in one
        // script, so a job read after its final state carries its result or failure reason.
        const state = await this.queue.getJobState(jobId);
        if (settled) return;
        if (state === 'unknown') {
          const result = await options.ifGone?.();
          if (result !== undefined) finish(null, result);
          return;
        }
        if (state !== 'completed' && state !== 'failed') return;
        const job = await this.queue.getJob(jobId);
        if (!job) return; // trimmed in between: the next poll asks ifGone
        if (state === 'completed') finish(null, job.returnvalue);
        else finish(new Error(job.failedReason));
      };
      const pollSafely = () => {
        // A Redis hiccup: the next poll tries again.
        poll().catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))));
      };
      events.on('completed', onCompleted);
      events.on('failed', onFailed);
      const timer = setInterval(pollSafely, options.pollMs ?? 5000);
      const deadline =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => finish(new Error(`job ${jobId} did not finish within ${timeoutMs} ms`)),
              timeoutMs,
            );
      // It may have finished before the caller's events reader was listening.
      pollSafely();
    });
  }

  /**
   * Follows a nightly run: its fan-out job gives the total, and every child job of the run
   * (job id `<runId>.<portfolioId>`) counts as done or failed when it finishes. The events reader
   * must be ready before the nightly job is added, so that no child's event is missed.
   *
   * QueueEvents are best-effort: BullMQ trims its event stream (~10,000 entries), so a reader
   * that falls behind a busy queue loses events, and a run followed by events alone would never
   * end. When no event of the run has come for `quietMs`, `reconcile` counts the run from what
   * is stored (the fan-out job's result, the children's outcomes) and ends the watch when that
   * count is complete. Counts that events have completed are confirmed the same way once a
   * reconcile has been needed, since events that arrive late could count a child twice.
   */
  async watchRun(
    events: QueueEvents,
    runId: string,
    fanOutJobId: string,
    onProgress: (progress: RunProgress) => void,
    options: { readonly reconcile?: () => Promise<RunTally>; readonly quietMs?: number } = {},
  ): Promise<RunProgress> {
    const childPrefix = `${runId}.`;
    const quietMs = options.quietMs ?? 5000;
    const progress: { total: number | null; completed: number; failed: number; failures: RunFailure[] } = {
      total: null,
      completed: 0,
      failed: 0,
      failures: [],
    };
    let lastEventAt = Date.now();
    let reconciled = false;
    let reconciling = false;
    let settled = false;
    return new Promise<RunProgress>((resolve, reject) => {
      const snapshot = (): RunProgress => ({ ...progress, failures: [...progress.failures] });
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        events.off('completed', onCompleted);
        events.off('failed', onFailed);
        if (error) reject(error);
        else resolve(snapshot());
      };
      const counted = () => progress.total !== null && progress.completed + progress.failed >= progress.total;
      const check = () => {
        onProgress(snapshot());
        if (!counted()) return;
        if (reconciled) void reconcile();
        else finish();
      };
      const fanOutFinished = (total: number) => {
        progress.total = total;
        check();
      };
      const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
        if (jobId === fanOutJobId) {
          lastEventAt = Date.now();
          const total = (parseReturn(returnvalue) as { total?: number } | null)?.total;
          fanOutFinished(typeof total === 'number' ? total : 0);
        } else if (jobId.startsWith(childPrefix)) {
          lastEventAt = Date.now();
          progress.completed++;
          check();
        }
      };
      const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
        if (jobId === fanOutJobId) {
          finish(new Error(`nightly fan-out ${jobId} failed: ${failedReason}`));
        } else if (jobId.startsWith(childPrefix)) {
          lastEventAt = Date.now();
          progress.failed++;
          progress.failures.push({ jobId, reason: failedReason });
          check();
        }
      };
      // The fan-out may have finished before we listened (an existing job id), or its event may
      // have been trimmed away: read its state.
      const readFanOut = async () => {
        // The state before the job, as in waitFor: a job read after its final state has its result.
        const state = await this.queue.getJobState(fanOutJobId);
        if (state !== 'completed' && state !== 'failed') return;
        const job = await this.queue.getJob(fanOutJobId);
        if (!job || progress.total !== null || settled) return;
        if (state === 'completed') onCompleted({ jobId: fanOutJobId, returnvalue: job.returnvalue });
        else onFailed({ jobId: fanOutJobId, failedReason: job.failedReason });
      };
      const reconcile = async () => {
        if (reconciling || settled) return;
        reconciling = true;
        try {
          if (progress.total === null) await readFanOut();
          if (!options.reconcile || settled) return;
          const tally = await options.reconcile();
          // The fan-out job may be gone from BullMQ's kept jobs; the run's own record has its total.
          if (progress.total === null) progress.total = tally.total;
          if (progress.total === null || settled) return;
          reconciled = true;
          progress.completed = tally.completed;
          progress.failed = tally.failed;
          progress.failures = [...tally.failures];
          onProgress(snapshot());
          if (counted()) finish();
        } catch (err) {
          // A Redis hiccup: the next quiet period tries again.
          this.onError(err instanceof Error ? err : new Error(String(err)));
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
      events.on('completed', onCompleted);
      events.on('failed', onFailed);
      void readFanOut().catch((err: unknown) =>
        this.onError(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  /** The ids of the failed jobs BullMQ keeps (BALLAST_KEEP_FAILED of them at most). */
  async failedJobIds(): Promise<string[]> {
    return this.queue.getRanges(['failed'], 0, -1);
  }

  async failedReason(jobId: string): Promise<string | null> {
    const job = await this.queue.getJob(jobId);
    return job ? job.failedReason : null;
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  }

  /** A QueueEvents reader, ready before it is returned so that no event is missed after. */
  async events(connection: Redis): Promise<QueueEvents> {
    // BullMQ leaves a connection it was given open: this one is ours, so close() ends it too.
    const own = connection.duplicate();
    // A duplicate has none of the original's listeners: without one, a Redis restart would be
    // reported as an unhandled 'error' event.
    own.on('error', this.onError);
    const events = new QueueEvents(this.config.queueName, { connection: own, prefix: this.keys.bullPrefix });
    events.on('error', this.onError);
    const close = events.close.bind(events);
    events.close = async () => {
      await close();
      own.disconnect();
    };
    await events.waitUntilReady();
    return events;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

function defaultJobOptions(config: Config): JobsOptions {
  return {
    attempts: config.jobs.attempts,
    backoff: { type: 'exponential', delay: config.jobs.backoffMs },
    removeOnComplete: { count: config.jobs.keepCompleted },
    removeOnFail: { count: config.jobs.keepFailed },
  };
}

function parseReturn(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function describeJob(job: Job, state: string): JobInfo {
  return {
    id: job.id ?? '',
    name: job.name,
    state,
    data: job.data,
    progress: job.progress,
    result: job.returnvalue ?? null,
    failedReason: job.failedReason || null,
    attemptsMade: job.attemptsMade,
    timestamp: job.timestamp,
    finishedOn: job.finishedOn ?? null,
  };
}

export interface ProcessorContext {
  readonly jobId: string;
  readonly name: string;
  readonly attemptsMade: number;
  readonly signal: AbortSignal;
  updateProgress(progress: number | object): Promise<void>;
}

export type Processor = (name: string, data: unknown, ctx: ProcessorContext) => Promise<unknown>;

/**
 * A BullMQ worker running `processor`. Refusals that a retry cannot fix (invalid payload,
 * unknown or archived portfolio) become UnrecoverableError, so BullMQ fails them at once.
 */
export function createWorker(config: Config, keys: Keys, connection: Redis, processor: Processor): Worker {
  return new Worker(
    config.queueName,
    async (job, _token, signal) => {
      const controller = new AbortController();
      const forward = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', forward, { once: true });
      try {
        return await processor(job.name, job.data, {
          jobId: job.id ?? '',
          name: job.name,
          attemptsMade: job.attemptsMade,
          signal: controller.signal,
          updateProgress: (progress) => job.updateProgress(progress),
        });
      } catch (err) {
        if (isBallastError(err) && err.code !== 'conflict') throw new UnrecoverableError(err.message);
        throw err;
      } finally {
        signal?.removeEventListener('abort', forward);
      }
    },
    {
      connection,
      prefix: keys.bullPrefix,
      concurrency: config.concurrency,
      lockDuration: config.jobs.lockDurationMs,
      stalledInterval: config.jobs.stalledIntervalMs,
      maxStalledCount: 1,
      removeOnComplete: { count: config.jobs.keepCompleted },
      removeOnFail: { count: config.jobs.keepFailed },
      autorun: false,
    },
  );
}
