/**
 * The connection layer on the private Redis Cluster: a client from REDIS_URL's node list, batches
 * across slots (in order, errors in place), SCAN and UNLINK over every master, INFO of the fullest.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedis,
  masters,
  type RedisClient,
  redactUrl,
  redisUrls,
  scanKeys,
} from '../../src/adapters/redis.js';
import { crossSlot } from '../../src/adapters/redis-batch.js';
import { deletePrefix } from '../../src/adapters/redis-cleanup.js';
import { readRedisMemory } from '../../src/adapters/redis-memory.js';
import { loadConfig } from '../../src/config.js';
import { clusterUrl } from '../helpers/app.js';
import { testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('cluster-client');
let client: RedisClient;

beforeAll(() => {
  client = createRedis({ redisUrl: clusterUrl(), redisCluster: true });
});
afterAll(async () => {
  await deletePrefix(client, prefix);
  await client.quit();
});

describe('REDIS_URL on Redis Cluster', () => {
  it('lists nodes comma-separated; each must be a redis URL; passwords are hidden', () => {
    expect(redisUrls(' redis://a:1 , redis://b:2,')).toEqual(['redis://a:1', 'redis://b:2']);
    expect(redactUrl('redis://u:secret@a:1,redis://b:2')).toBe('redis://u:***@a:1,redis://b:2');
    expect(loadConfig({ REDIS_URL: 'redis://a:1,rediss://b:2' }).redisUrl).toBe('redis://a:1,rediss://b:2');
    expect(() => loadConfig({ REDIS_URL: 'redis://a:1,http://b:2' })).toThrow(/REDIS_URL.*redis:\/\//s);
  });

  it('is a cluster client that knows the three masters', async () => {
    expect(client).toBeInstanceOf(Cluster);
    expect(await masters(client)).toHaveLength(3);
  });
});

describe('on the cluster', () => {
  const keys = Array.from({ length: 40 }, (_, i) => `${prefix}:k${i}`);

  it('a batch across slots answers each command in order, an error in its place', async () => {
    const write = crossSlot(client);
    for (const [i, key] of keys.entries()) write.set(key, String(i));
    expect((await write.exec())?.every(([err, ok]) => err === null && ok === 'OK')).toBe(true);
    const read = crossSlot(client);
    for (const key of keys) read.get(key);
    read.hget(keys[0]!, 'field'); // WRONGTYPE: a string is not a hash
    const replies = (await read.exec()) ?? [];
    expect(replies.slice(0, 40).map(([, v]) => v)).toEqual(keys.map((_, i) => String(i)));
    expect(replies[40]?.[0]?.message).toMatch(/WRONGTYPE/);
    // A plain pipeline of the same keys is what the cluster refuses.
    const plain = client.pipeline();
    for (const key of keys) plain.get(key);
    await expect(plain.exec()).rejects.toThrow(/same slot/);
  });

  it('SCAN visits every master, and the prefix is deleted from all of them', async () => {
    const found: string[] = [];
    for await (const batch of scanKeys(client, `${prefix}:*`, 10)) found.push(...batch);
    expect(found.sort()).toEqual([...keys].sort());
    const holders = await Promise.all((await masters(client)).map((node) => node.dbsize()));
    expect(holders.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(await deletePrefix(client, prefix)).toBe(keys.length);
    expect(await client.exists(keys[0]!)).toBe(0);
  });

  it('INFO memory: the master nearest its limit is the one reported', async () => {
    const memory = await readRedisMemory(client);
    expect(memory.used).toBeGreaterThan(0);
    const each = await Promise.all((await masters(client)).map((node) => node.info('memory')));
    const used = each.map((text) => Number(/^used_memory:(\d+)/m.exec(text)?.[1]));
    // No node has a limit here: the one using the most (read a moment apart: within 1 MB).
    expect(Math.abs(memory.used - Math.max(...used))).toBeLessThan(1_000_000);
    expect(memory.max).toBe(0);
  });
});
