import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis.js';
import { createFileMetricsSource } from './file-metrics-source.js';
import { createHttpMetricsSource, type MetricsLog } from './http-metrics-source.js';
import type { MetricsSource, MetricsSourceStats } from './metrics-source.js';
import { createRedisMetricsSource } from './redis-metrics-source.js';

export type { FileMetricsSource } from './file-metrics-source.js';
export { createFileMetricsSource } from './file-metrics-source.js';
export type { HttpMetricsSource, HttpMetricsSourceOptions, MetricsLog } from './http-metrics-source.js';
export { createHttpMetricsSource } from './http-metrics-source.js';
export type { MetricsResult, MetricsSource, MetricsSourceStats } from './metrics-source.js';
export type { RedisMetricsSource } from './redis-metrics-source.js';
export { createRedisMetricsSource, importMetrics, metricsToHash } from './redis-metrics-source.js';
export type { RunCachedSource, RunCacheOptions, RunCacheStats, RunKind } from './run-cache.js';
export { createRunCachedSource } from './run-cache.js';

export interface MetricsSourceConfig {
  readonly source: 'http' | 'redis' | 'file';
  /** BALLAST_METRICS_URL, for `http`. */
  readonly url?: string | undefined;
  /** BALLAST_METRICS_FILE, for `file`. */
  readonly file?: string | undefined;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly concurrency: number;
  readonly batchSize: number;
  /** BALLAST_METRICS_MAX_BYTES, for `http`; its default when left out. */
  readonly maxBytes?: number | undefined;
  /** BALLAST_METRICS_FILE_MAX_BYTES, for `file`; its default when left out. */
  readonly fileMaxBytes?: number | undefined;
}

export interface MetricsSourceDeps {
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly log?: MetricsLog | undefined;
}

/** The metrics source that BALLAST_METRICS_SOURCE names, with its stats for /metrics. */
export function createMetricsSource(
  config: MetricsSourceConfig,
  deps: MetricsSourceDeps,
): MetricsSource & { stats(): MetricsSourceStats } {
  switch (config.source) {
    case 'http':
      if (!config.url) throw new Error('BALLAST_METRICS_URL is required when BALLAST_METRICS_SOURCE=http');
      return createHttpMetricsSource({
        baseUrl: config.url,
        timeoutMs: config.timeoutMs,
        retries: config.retries,
        concurrency: config.concurrency,
        batchSize: config.batchSize,
        ...(config.maxBytes !== undefined ? { maxBytes: config.maxBytes } : {}),
        ...(deps.log ? { log: deps.log } : {}),
      });
    case 'redis':
      return createRedisMetricsSource(deps.redis, deps.keys);
    case 'file':
      if (!config.file) throw new Error('BALLAST_METRICS_FILE is required when BALLAST_METRICS_SOURCE=file');
      return createFileMetricsSource(
        config.file,
        config.fileMaxBytes !== undefined ? { maxBytes: config.fileMaxBytes } : {},
      );
    default:
      throw new Error(
        `unknown metrics source ${JSON.stringify(config.source satisfies never)}: set BALLAST_METRICS_SOURCE to http, redis or file`,
      );
  }
}
