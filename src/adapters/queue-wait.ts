/**
 * Waiting for one job to finish: by its QueueEvents, and by reading its state every `pollMs`
 * (events are best-effort), with `ifGone` telling the result of a job trimmed meanwhile.
 */
import type { EventEmitter } from 'node:events';
import type { Queue, QueueEvents } from 'bullmq';

/** A job waited for failed (its reason is the message). */
export class JobFailedError extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'JobFailedError';
  }
}

/** A job waited for did not finish in time; it may still run. */
export class JobWaitTimeoutError extends Error {
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${jobId} did not finish within ${timeoutMs} ms`);
    this.name = 'JobWaitTimeoutError';
  }
}

export interface WaitOptions {
  readonly pollMs?: number;
  readonly ifGone?: () => Promise<unknown>;
  /** Stops waiting (the job is left as it is): rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Whatever was thrown, as an Error. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
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
export async function waitForJob(
  queue: Queue,
  onError: (err: Error) => void,
  jobId: string,
  events: QueueEvents,
  timeoutMs?: number,
  options: WaitOptions = {},
): Promise<unknown> {
  if ((await queue.getJobState(jobId)) === 'unknown') {
    const result = await options.ifGone?.();
    if (result !== undefined) return result;
    throw new Error(`job ${jobId} not found`);
  }
  // Not Job.waitUntilFinished: its own first state check rejects outside any promise a caller
  // holds ("Missing key for job") when the job is trimmed meanwhile.
  const emitter = events as unknown as EventEmitter;
  const completedEvent = `completed:${jobId}`;
  const failedEvent = `failed:${jobId}`;
  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      emitter.off(completedEvent, onCompleted);
      emitter.off(failedEvent, onFailed);
      if (error) reject(error);
      else resolve(value);
    };
    // BullMQ has parsed the return value of a 'completed' event already.
    const onCompleted = (event: { returnvalue: unknown }) => finish(null, event.returnvalue);
    const onFailed = (event: { failedReason: string }) =>
      finish(new JobFailedError(jobId, event.failedReason));
    const poll = async () => {
      // The state first: BullMQ writes a job's result and moves it to its final state in one
      // script, so a job read after its final state carries its result or failure reason.
      const state = await queue.getJobState(jobId);
      if (settled) return;
      if (state === 'unknown') {
        let result: unknown;
        try {
          result = await options.ifGone?.();
        } catch (err) {
          // ifGone knows that the job failed.
          return finish(toError(err));
        }
        if (result !== undefined) finish(null, result);
        return;
      }
      if (state !== 'completed' && state !== 'failed') return;
      const job = await queue.getJob(jobId);
      if (!job) return; // trimmed in between: the next poll asks ifGone
      if (state === 'completed') finish(null, job.returnvalue);
      else finish(new JobFailedError(jobId, job.failedReason));
    };
    const pollSafely = () => {
      // A Redis hiccup: the next poll tries again.
      poll().catch((err: unknown) => onError(toError(err)));
    };
    const onAbort = () => finish(abortReason(options.signal));
    // Per-job events: one shared reader (the API's) serves many waits without waking them all.
    emitter.on(completedEvent, onCompleted);
    emitter.on(failedEvent, onFailed);
    const timer = setInterval(pollSafely, options.pollMs ?? 5000);
    const deadline =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => finish(new JobWaitTimeoutError(jobId, timeoutMs)), timeoutMs);
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // It may have finished before the caller's events reader was listening.
    pollSafely();
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('stopped waiting');
}
