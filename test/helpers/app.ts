import { inject } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { WriteMeta } from '../../src/domain/index.js';
import { createLogger } from '../../src/logger.js';
import { redisUrl } from './redis.js';

/** A config on the test's own prefix and queue, with fast job settings. */
export function testConfig(prefix: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    REDIS_URL: redisUrl(),
    BALLAST_PREFIX: prefix,
    BALLAST_QUEUE: 'q',
    BALLAST_LOG_LEVEL: process.env.BALLAST_TEST_LOG_LEVEL ?? 'silent',
    BALLAST_JOB_BACKOFF_MS: '50',
    BALLAST_METRICS_SOURCE: 'redis',
    ...env,
  });
}

export function testApp(
  prefix: string,
  options: Parameters<typeof createApp>[1] & { env?: Record<string, string> } = {},
): App {
  const config = testConfig(prefix, options.env);
  return createApp(config, { log: createLogger(config.logLevel), ...options });
}

/** Who a test's own writes say they are. */
export const TEST_EDIT: WriteMeta = { actor: 'test', cause: { type: 'edit', command: 'test' } };

/** The private Redis Cluster of the test run (test/setup/global-setup.ts). */
export function clusterUrl(): string {
  const url = inject('clusterUrl');
  if (!url) throw new Error('no cluster URL: run the tests through vitest (test/setup/global-setup.ts)');
  return url;
}

/** A config on the test's own prefix and queue, on the private Redis Cluster. */
export function clusterConfig(prefix: string, env: Record<string, string> = {}): Config {
  return testConfig(prefix, { REDIS_URL: clusterUrl(), BALLAST_REDIS_CLUSTER: 'true', ...env });
}

/**
 * An app on the private Redis Cluster (BALLAST_REDIS_CLUSTER=true), on the test's own prefix. Its
 * keys stay until the cluster stops with the test run.
 */
export function clusterApp(
  prefix: string,
  options: Parameters<typeof createApp>[1] & { env?: Record<string, string> } = {},
): App {
  const config = clusterConfig(prefix, options.env);
  return createApp(config, { log: createLogger(config.logLevel), ...options });
}
