import type { TestProject } from 'vitest/node';
import { startPrivateCluster } from '../../src/adapters/redis-cluster-launcher.js';
import { resolveRedis } from '../../src/adapters/redis-launcher.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** A private 3-master Redis Cluster (comma-separated node URLs), for test/cluster. */
    clusterUrl: string;
  }
}

/**
 * Picks one Redis for the whole run: REDIS_URL, else the local default, else a private server;
 * and starts a private Redis Cluster.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await resolveRedis(process.env);
  // Workers and the CLI processes that end-to-end tests spawn inherit the environment.
  process.env.REDIS_URL = redis.url;
  project.provide('redisUrl', redis.url);
  if (redis.private) console.log(`[ballast tests] started a private redis-server at ${redis.url}`);
  // A private cluster for the tests that run the product on Redis Cluster (test/cluster): its
  // own redis-servers on free ports, so no test ever touches a cluster it did not start.
  const cluster = await startPrivateCluster({ masters: 3 });
  project.provide('clusterUrl', cluster.url);
  return async () => {
    await cluster.stop();
    await redis.stop();
  };
}
