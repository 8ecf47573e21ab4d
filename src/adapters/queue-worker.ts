/**
 * The worker side of the queue: a BullMQ Worker running Ballast's processor. Split from queue.ts
 * (the queue itself, waiting for jobs, watching runs); BullMQ is still reached only from these
 * two adapter files.
 */
import { UnrecoverableError, Worker } from 'bullmq';
import type { Config } from '../config.js';
import { isBallastError } from '../domain/index.js';
import type { Keys } from './keys.js';
import type { RedisClient } from './redis.js';

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
export function createWorker(
  config: Config,
  keys: Keys,
  connection: RedisClient,
  processor: Processor,
): Worker {
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
      removeOnComplete: finishedJobs(config, config.jobs.keepCompleted),
      removeOnFail: finishedJobs(config, config.jobs.keepFailed),
      autorun: false,
    },
  );
}

/**
 * How many finished jobs BullMQ keeps, and for how long: the count (BALLAST_KEEP_*) and the
 * retention window (BALLAST_RETENTION_DAYS), whichever trims first.
 */
export function finishedJobs(config: Config, count: number): { count: number; age: number } {
  return { count, age: config.retention.days * 86_400 };
}
