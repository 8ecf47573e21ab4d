/** Kept apart from redis.ts so that the CLI's error handling does not load ioredis (issue 15). */

/**
 * What to tell an operator whose Redis answered `message`, when it is a Redis Cluster's redirect
 * or slot refusal (MOVED, ASK, CROSSSLOT, CLUSTERDOWN): Ballast talks to it as one Redis. Null
 * for any other error.
 */
export function clusterHint(message: string): string | null {
  if (!/^(MOVED|ASK|CROSSSLOT|CLUSTERDOWN)\b/.test(message)) return null;
  return `${message} (Redis answered as a Redis Cluster: set BALLAST_REDIS_CLUSTER=true and list its nodes in REDIS_URL)`;
}
