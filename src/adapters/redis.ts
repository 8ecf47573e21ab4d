import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** A connection Ballast talks through: one Redis, or a Redis Cluster (BALLAST_REDIS_CLUSTER). */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL (on Cluster, one or more nodes' URLs, comma-separated). */
export interface RedisTarget {
  readonly redisUrl: string;
  readonly redisCluster: boolean;
}

/**
 * One ioredis connection, or one Cluster client. `maxRetriesPerRequest: null` makes commands wait
 * through a Redis restart (or a failover) instead of failing (BullMQ requires it for workers, and
 * it suits every role).
 */
export function createRedis(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  const nodeOptions: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    ...options,
  };
  if (!target.redisCluster) return new Redis(firstUrl(target.redisUrl), nodeOptions);
  return createCluster(target.redisUrl, nodeOptions);
}

/** The URLs of REDIS_URL: one, or several comma-separated (Cluster seed nodes). */
export function redisUrls(url: string): string[] {
  return url
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function firstUrl(url: string): string {
  return redisUrls(url)[0] ?? url;
}

function createCluster(url: string, nodeOptions: RedisOptions): Cluster {
  const urls = redisUrls(url).map((u) => new URL(u));
  const first = urls[0];
  if (!first) throw new Error('REDIS_URL names no Redis node');
  const { enableOfflineQueue, retryStrategy, lazyConnect, enableReadyCheck, ...perNode } = nodeOptions;
  const auth: RedisOptions = {
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const options: ClusterOptions = {
    redisOptions: { ...perNode, ...auth },
    // The same backoff as a single connection, for the whole cluster's (re)connection.
    clusterRetryStrategy: (times) => (retryStrategy ? (retryStrategy(times) ?? null) : null),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(enableReadyCheck === undefined ? {} : { enableReadyCheck }),
    // During a failover the slots move: ask again soon, for as long as the commands wait.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
  };
  return new Cluster(
    urls.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    options,
  );
}

/** Every master of `client` (itself when it is one Redis): what SCAN, INFO and the like must visit. */
export async function masters(client: RedisClient): Promise<Redis[]> {
  if (!(client instanceof Cluster)) return [client];
  // The node list fills once the client has the slots: a first command waits for that.
  if (client.status !== 'ready') await client.ping();
  const nodes = client.nodes('master');
  if (nodes.length === 0) throw new Error('the Redis Cluster client knows no master node');
  return nodes;
}

/** A new connection like `client` (a Cluster client for a Cluster), none of its listeners. */
export function duplicate(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}

/**
 * Every key matching `pattern`, a SCAN reply at a time (`count` keys looked at each): SCAN on
 * one Redis, on each master of a Cluster.
 */
export async function* scanKeys(
  client: RedisClient,
  pattern: string,
  count = 1000,
): AsyncGenerator<string[]> {
  for (const node of await masters(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      yield keys; // empty too: a caller may count the SCAN calls
    } while (cursor !== '0');
  }
}

/**
 * Removes `keys` (UNLINK): in one command on one Redis; one command per key on a Cluster, where
 * a command may not touch keys of two hash slots (auto-pipelined: one round trip per node).
 */
export async function unlinkKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  if (!(client instanceof Cluster)) return client.unlink(...keys);
  const removed = await Promise.all(keys.map((key) => client.unlink(key)));
  return removed.reduce((sum, n) => sum + n, 0);
}

/** Whether the server behind `client` is a Redis Cluster node (INFO cluster), whatever the client is. */
export async function serverIsCluster(client: RedisClient): Promise<boolean> {
  const info = await client.info('cluster');
  return /^cluster_enabled:1/m.test(info);
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** The URL (or URLs) with passwords hidden, for logs and messages. */
export function redactUrl(url: string): string {
  return redisUrls(url)
    .map((one) => {
      try {
        const u = new URL(one);
        if (u.password) u.password = '***';
        return u.toString();
      } catch {
        return '<invalid url>';
      }
    })
    .join(',');
}
