import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findFreePort,
  pingRedis,
  resolveRedis,
  startPrivateRedis,
} from '../../src/adapters/redis-launcher.js';
import { connect, deleteByPrefix, redisUrl, testPrefix, useRedisPrefix } from '../helpers/redis.js';

describe('pingRedis', () => {
  it('answers true for the Redis the tests use', async () => {
    expect(await pingRedis(redisUrl())).toBe(true);
  });

  it('answers false quickly for a closed port', async () => {
    const port = await findFreePort();
    const started = Date.now();
    expect(await pingRedis(`redis://127.0.0.1:${port}`, 500)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('startPrivateRedis', () => {
  it('starts a server on a free port that answers, and stop() shuts it down', async () => {
    const server = await startPrivateRedis();
    const client = new Redis(server.url, { lazyConnect: true });
    try {
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
      expect(await pingRedis(server.url)).toBe(true);
      await client.connect();
      await client.set('greeting', 'hello');
      expect(await client.get('greeting')).toBe('hello');
    } finally {
      await client.quit();
      await server.stop();
    }
    expect(await pingRedis(server.url, 300)).toBe(false);
  });

  it('keeps data across restart() with appendonly', async () => {
    const server = await startPrivateRedis({ appendonly: true });
    try {
      const before = new Redis(server.url);
      await before.set('kept', 'yes');
      await before.quit();
      await server.restart();
      const after = new Redis(server.url);
      expect(await after.get('kept')).toBe('yes');
      await after.quit();
    } finally {
      await server.stop();
    }
  });

  it('says how to install redis-server when it is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startPrivateRedis()).rejects.toThrow(/redis-server not found on PATH.*REDIS_URL/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('resolveRedis', () => {
  it('uses REDIS_URL when it answers', async () => {
    const resolved = await resolveRedis({ REDIS_URL: redisUrl() });
    expect(resolved).toMatchObject({ url: redisUrl(), private: false });
    await resolved.stop();
  });

  it('refuses a REDIS_URL that does not answer, naming it', async () => {
    const port = await findFreePort();
    await expect(resolveRedis({ REDIS_URL: `redis://:secret@127.0.0.1:${port}` })).rejects.toThrow(
      `REDIS_URL=redis://:***@127.0.0.1:${port}`,
    );
  });
});

describe('deleteByPrefix', () => {
  const redis = useRedisPrefix('launcher');
  const other = testPrefix('launcher-other');
  const extra: Redis[] = [];

  afterAll(async () => {
    for (const client of extra) {
      await deleteByPrefix(client, other);
      await client.quit();
    }
  });

  it('removes only the keys under its prefix', async () => {
    const client = redis.client;
    const second = await connect();
    extra.push(second);
    for (let i = 0; i < 50; i++) {
      await client.set(`${redis.prefix}:k${i}`, String(i));
      await second.set(`${other}:k${i}`, String(i));
    }
    await client.hset(`${redis.prefix}:hash`, 'field', '1');

    expect(await deleteByPrefix(client, redis.prefix)).toBe(51);

    expect(await client.exists(`${redis.prefix}:k0`, `${redis.prefix}:hash`)).toBe(0);
    expect(await second.get(`${other}:k49`)).toBe('49');
    expect(await second.exists(...Array.from({ length: 50 }, (_, i) => `${other}:k${i}`))).toBe(50);
  });
});
