import type { z } from 'zod';
import type { MetricsSource } from '../src/adapters/metrics/metrics-source.js';
import type { RunKind } from '../src/adapters/metrics/run-cache.js';
import type { JobQueue } from '../src/adapters/queue.js';
import type { RedisPortfolioStore } from '../src/adapters/redis-portfolio-store.js';
import type { RedisProposalStore } from '../src/adapters/redis-proposal-store.js';
import type { RedisReportStore } from '../src/adapters/redis-report-store.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';

/** Everything a handler may use: no globals (graphile-worker's JobHelpers). */
export interface JobContext {
  /** Bound to the job's id and name, and to the run id and portfolio id of its payload. */
  readonly log: Logger;
  readonly clock: () => Date;
  readonly signal: AbortSignal;
  readonly config: Config;
  readonly store: RedisPortfolioStore;
  readonly reports: RedisReportStore;
  readonly proposals: RedisProposalStore;
  /**
   * Metrics for a run: a business shared by many portfolios is fetched once per run. A nightly
   * run's children say `fanOut`, so that operator runs in between cannot evict its answers.
   */
  readonly metricsFor: (runId: string, kind?: RunKind) => MetricsSource;
  readonly queue: JobQueue;
  readonly jobId: string;
  readonly attemptsMade: number;
  readonly updateProgress: (progress: number | object) => Promise<void>;
  /** Optional hook for job metrics (Prometheus). */
  readonly observe?: (event: string, value: number, labels?: Record<string, string>) => void;
}

export interface JobDefinition<S extends z.ZodType, R> {
  readonly name: string;
  readonly schema: S;
  readonly handler: (payload: z.output<S>, ctx: JobContext) => Promise<R>;
}

export function defineJob<S extends z.ZodType, R>(definition: JobDefinition<S, R>): JobDefinition<S, R> {
  return definition;
}
