/**
 * The two kinds of Redis the product runs on, for tests that must hold on both: the run's Redis
 * (one server) and its private 3-master Redis Cluster (test/setup/global-setup.ts). A test file
 * runs its scenario once per target with `describe.each(TARGETS)`, on its own prefix on each.
 */
import type { App } from '../../src/app.js';
import { clusterApp, clusterUrl, testApp } from './app.js';
import { redisUrl } from './redis.js';

export interface RedisTargetFixture {
  readonly name: string;
  /** REDIS_URL and BALLAST_REDIS_CLUSTER for a `ballast` process. */
  env(): Record<string, string>;
  /** An app on this target (the test's prefix). */
  app(prefix: string, options?: Parameters<typeof testApp>[1]): App;
}

export const ONE_REDIS: RedisTargetFixture = {
  name: 'one Redis',
  env: () => ({ REDIS_URL: redisUrl() }),
  app: (prefix, options) => testApp(prefix, options),
};

export const REDIS_CLUSTER: RedisTargetFixture = {
  name: 'Redis Cluster',
  env: () => ({ REDIS_URL: clusterUrl(), BALLAST_REDIS_CLUSTER: 'true' }),
  app: (prefix, options) => clusterApp(prefix, options),
};

export const TARGETS: readonly RedisTargetFixture[] = [ONE_REDIS, REDIS_CLUSTER];
