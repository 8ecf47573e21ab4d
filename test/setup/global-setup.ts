import type { TestProject } from 'vitest/node';
import { resolveRedis } from '../../src/adapters/redis-launcher.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** Picks one Redis for the whole run: REDIS_URL, else the local default, else a private server. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await resolveRedis(process.env);
  // Workers and the CLI processes that end-to-end tests spawn inherit the environment.
  process.env.REDIS_URL = redis.url;
  project.provide('redisUrl', redis.url);
  if (redis.private) console.log(`[ballast tests] started a private redis-server at ${redis.url}`);
  return async () => {
    await redis.stop();
  };
}
