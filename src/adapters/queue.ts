/**
 * With queue-worker.ts and queue-run-watch.ts, the only modules that talk to BullMQ (immich's
 * job.repository pattern): here the queue, waiting for a job, and events readers; the worker and
 * the mapping from Ballast's errors to BullMQ's retry semantics in queue-worker.ts; following a
 * nightly run in queue-run-watch.ts.
 */

import { type Job, type JobsOptions, type JobType, Queue, QueueEvents } from 'bullmq';
import type { Config } from '../config.js';
import type { Keys } from './keys.js';
import { type RunProgress, type WatchOptions, watchRun } from './queue-run-watch.js';
import { type WaitOptions, waitForJob } from './queue-wait.js';
import { finishedJobs } from './queue-worker.js';
import { duplicate, type RedisClient } from './redis.js';

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

export type { RunFailure, RunProgress, RunTally } from './queue-run-watch.js';

export { JobFailedError, JobWaitTimeoutError, type WaitOptions } from './queue-wait.js';

export interface AddJob {
  readonly name: string;
  readonly data: unknown;
  readonly jobId: string;
  readonly priority: number;
}

const UNFINISHED: JobType[] = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'];
/** Not started: what `jobs cancel` and `runs cancel` may remove. */
const PENDING: JobType[] = ['waiting', 'prioritized', 'delayed'];

export class JobQueue {
  readonly queue: Queue;

  constructor(
    readonly config: Config,
    readonly keys: Keys,
    connection: RedisClient,
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
   * Resolves with the job's result when it completes; rejects with a JobFailedError carrying its
   * failure reason, or a JobWaitTimeoutError when `timeoutMs` passes. QueueEvents are
   * best-effort (see watchRun), so the job's state is also read every `pollMs`: a lost event
   * delays the answer and never loses it. A job that finished and was then trimmed from the kept
   * jobs (BALLAST_KEEP_COMPLETED: within a second during a big nightly run) is gone from BullMQ;
   * `ifGone` tells its result from what the job stored, or throws (a JobFailedError) when what
   * is stored says it failed (undefined: not known, keep waiting; a job that is gone when the
   * wait starts and that `ifGone` does not know is refused).
   */
  waitFor(
    jobId: string,
    events: QueueEvents,
    timeoutMs?: number,
    options: WaitOptions = {},
  ): Promise<unknown> {
    return waitForJob(this.queue, this.onError, jobId, events, timeoutMs, options);
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
  watchRun(
    events: QueueEvents,
    runId: string,
    fanOutJobId: string,
    onProgress: (progress: RunProgress) => void,
    options: WatchOptions = {},
  ): Promise<RunProgress> {
    return watchRun(this.queue, this.onError, events, runId, fanOutJobId, onProgress, options);
  }

  /** The ids of the failed jobs BullMQ keeps (BALLAST_KEEP_FAILED of them at most). */
  async failedJobIds(): Promise<string[]> {
    return this.queue.getRanges(['failed'], 0, -1);
  }

  /** Whether a job with one of these id prefixes is still waiting, delayed or running. */
  async hasUnfinished(prefixes: readonly string[]): Promise<boolean> {
    const ids = await this.queue.getRanges(UNFINISHED, 0, -1);
    return ids.some((id) => prefixes.some((p) => id.startsWith(p)));
  }

  /**
   * Jobs in these states, newest first as BullMQ orders each state, `start` to `end` inclusive
   * (BullMQ's paging: over the states together).
   */
  async listJobs(states: readonly JobType[], start: number, end: number): Promise<JobInfo[]> {
    const out: JobInfo[] = [];
    for (const state of states) {
      const jobs = await this.queue.getJobs([state], 0, end);
      for (const job of jobs) if (job) out.push(describeJob(job, state));
    }
    return out.slice(start, end + 1);
  }

  /** The ids of the jobs not yet started (waiting, prioritized, delayed) whose id starts with `prefix`. */
  async pendingJobIds(prefix: string): Promise<string[]> {
    const ids = await this.queue.getRanges(PENDING, 0, -1);
    return ids.filter((id) => id.startsWith(prefix));
  }

  /**
   * Removes a job that has not started (waiting, prioritized or delayed): its state, or null when it
   * was removed. A job that started meanwhile is not touched (BullMQ refuses to remove a locked job).
   */
  async removePending(jobId: string): Promise<string | null> {
    const state = await this.queue.getJobState(jobId);
    if (!(PENDING as string[]).includes(state)) return state;
    try {
      const removed = await this.queue.remove(jobId);
      return removed === 1 ? null : await this.queue.getJobState(jobId);
    } catch {
      // Taken by a worker between the state read and the removal.
      return this.queue.getJobState(jobId);
    }
  }

  async failedReason(jobId: string): Promise<string | null> {
    const job = await this.queue.getJob(jobId);
    return job ? job.failedReason : null;
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  }

  /** A QueueEvents reader, ready before it is returned so that no event is missed after. */
  async events(connection: RedisClient): Promise<QueueEvents> {
    return this.openEvents(connection).ready;
  }

  /**
   * A QueueEvents reader handed over at once, and when it is ready: a caller that may have to
   * close it while it is still connecting (Redis down) keeps the reader rather than a promise
   * that settles only once Redis is back.
   */
  openEvents(connection: RedisClient): {
    readonly reader: QueueEvents;
    readonly ready: Promise<QueueEvents>;
  } {
    // BullMQ leaves a connection it was given open: this one is ours, so close() ends it too.
    const own = duplicate(connection);
    // A duplicate has none of the original's listeners: without one, a Redis restart would be
    // reported as an unhandled 'error' event.
    own.on('error', this.onError);
    const events = new QueueEvents(this.config.queueName, { connection: own, prefix: this.keys.bullPrefix });
    events.on('error', this.onError);
    const close = events.close.bind(events);
    events.close = async () => {
      // BullMQ's close waits for the connection's first 'ready', which never comes while Redis
      // is down; a reader has nothing to flush, so its connection is cut first (BullMQ's own
      // close starts by cutting it too, once ready).
      if (own.status !== 'ready') own.disconnect();
      try {
        await close();
      } finally {
        own.disconnect();
      }
    };
    return { reader: events, ready: events.waitUntilReady().then(() => events) };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

function defaultJobOptions(config: Config): JobsOptions {
  return {
    attempts: config.jobs.attempts,
    backoff: { type: 'exponential', delay: config.jobs.backoffMs },
    removeOnComplete: finishedJobs(config, config.jobs.keepCompleted),
    removeOnFail: finishedJobs(config, config.jobs.keepFailed),
  };
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
