import { retentionOf } from './adapters/history-args.js';
import { createKeys, type Keys } from './adapters/keys.js';
import { createMetricsSource } from './adapters/metrics/index.js';
import type { MetricsSource, MetricsSourceStats } from './adapters/metrics/metrics-source.js';
import { createRunCachedSource, type RunCacheStats, type RunKind } from './adapters/metrics/run-cache.js';
import { JobQueue } from './adapters/queue.js';
import type { RedisClient } from './adapters/redis.js';
import { createRedis } from './adapters/redis.js';
import { RedisHistoryStore } from './adapters/redis-history-store.js';
import { RedisPortfolioStore } from './adapters/redis-portfolio-store.js';
import { RedisProposalStore } from './adapters/redis-proposal-store.js';
import { RedisReportStore } from './adapters/redis-report-store.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { settledWithin } from './timing.js';

/** How long each step of closing the app may wait on Redis. */
const CLOSE_STEP_MS = 2000;

export interface App extends AsyncDisposable {
  readonly config: Config;
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly log: Logger;
  readonly clock: () => Date;
  readonly store: RedisPortfolioStore;
  readonly reports: RedisReportStore;
  /** Each portfolio's versions and the audit stream, read back. */
  readonly history: RedisHistoryStore;
  /** Held recommendations waiting for an operator, and the metrics baselines of the jump guard. */
  readonly proposals: RedisProposalStore;
  readonly queue: JobQueue;
  /** The configured metrics source behind a per-run cache (fan-out runs kept apart from single ones). */
  readonly metricsFor: (runId: string, kind?: RunKind) => MetricsSource;
  /** The run cache's counters, and the source's own (calls, errors) when it keeps them. */
  readonly metricsStats: () => RunCacheStats & { readonly source: MetricsSourceStats | null };
  close(): Promise<void>;
}

export interface AppDeps {
  readonly log?: Logger;
  readonly clock?: () => Date;
  /** Replaces the configured metrics source (tests, benchmarks). */
  readonly metricsSource?: MetricsSource;
  /**
   * What to do with a connection error (every connection reconnects by itself). Default: log a
   * warning, as the roles do; operator commands say it their own way.
   */
  readonly onRedisError?: (err: Error) => void;
}

/** Everything a role needs, wired once: used the same way by the CLI, the worker and the tests. */
export function createApp(config: Config, deps: AppDeps = {}): App {
  const redis = createRedis(config);
  const keys = createKeys(config.prefix);
  const log = deps.log ?? createLogger(config.logLevel);
  const clock = deps.clock ?? (() => new Date());
  // Every connection reconnects by itself; its errors are logged, never unhandled.
  const onRedisError =
    deps.onRedisError ?? ((err: Error) => log.warn({ err: err.message }, 'redis connection error'));
  redis.on('error', onRedisError);
  const source =
    deps.metricsSource ??
    createMetricsSource(
      {
        source: config.metrics.source,
        url: config.metrics.url,
        file: config.metrics.file,
        timeoutMs: config.metrics.timeoutMs,
        retries: config.metrics.retries,
        concurrency: config.metrics.concurrency,
        batchSize: config.metrics.batchSize,
        maxBytes: config.metrics.maxBytes,
        fileMaxBytes: config.metrics.fileMaxBytes,
      },
      { redis, keys, log },
    );
  const cached = createRunCachedSource(source);
  // The queue gets its own connection: ioredis copies every script defined on a connection onto
  // each pipeline made from it, and BullMQ defines ~40; Ballast's own pipelines stay light.
  const queueRedis = createRedis(config);
  queueRedis.on('error', onRedisError);
  const queue = new JobQueue(config, keys, queueRedis, onRedisError);
  let closed = false;
  // Each step waits at most CLOSE_STEP_MS: a Redis that accepts but never answers must not keep
  // a stopping process up (active jobs have finished by now: the worker closes before the app).
  const close = async () => {
    if (closed) return;
    closed = true;
    if (!(await settledWithin(queue.close(), CLOSE_STEP_MS))) log.warn('queue did not close in time');
    await settledWithin(source.close?.() ?? Promise.resolve(), CLOSE_STEP_MS);
    for (const connection of [queueRedis, redis]) {
      if (connection.status === 'ready') await settledWithin(connection.quit(), CLOSE_STEP_MS);
      connection.disconnect(); // after a QUIT that answered, a no-op
    }
  };
  return {
    config,
    redis,
    keys,
    log,
    clock,
    ...stores(config, keys, redis, clock),
    queue,
    metricsFor: (runId, kind) => cached.forRun(runId, kind),
    metricsStats: () => ({ ...cached.stats(), source: sourceStats(source) }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The portfolio and report stores on `redis`: the app's connection, or one of the API's own
 * (which fails fast during an outage instead of waiting, see src/api/api-redis.ts).
 */
export function stores(
  config: Config,
  keys: Keys,
  redis: RedisClient,
  clock: () => Date,
): Pick<App, 'store' | 'reports' | 'history' | 'proposals'> {
  return {
    store: new RedisPortfolioStore(redis, keys, {
      cluster: config.redisCluster,
      clock,
      retention: retentionOf(config),
    }),
    history: new RedisHistoryStore(redis, keys),
    proposals: new RedisProposalStore(redis, keys, { cluster: config.redisCluster, clock }),
    reports: new RedisReportStore(redis, keys, {
      retention: {
        perPortfolio: config.retention.reportsPerPortfolio,
        global: config.retention.reportsGlobal,
        maxAgeMs: config.retention.days * 86_400_000,
      },
      markerTtlSeconds: config.runMarkerTtlSeconds,
      cluster: config.redisCluster,
      proposalTtlMs: config.proposalTtlMs,
    }),
  };
}

function sourceStats(source: MetricsSource): MetricsSourceStats | null {
  const withStats = source as MetricsSource & { stats?: () => MetricsSourceStats };
  return typeof withStats.stats === 'function' ? withStats.stats() : null;
}
