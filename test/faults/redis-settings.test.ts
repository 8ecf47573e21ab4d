import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type PrivateRedis, startPrivateRedis } from '../../src/adapters/redis-launcher.js';
import { checkRedisSettings } from '../../src/runtime/redis-check.js';
import { spawnBallast } from '../helpers/process.js';
import { testPrefix } from '../helpers/redis.js';
import { workerEnv } from './support.js';

/** A private redis-server started with `args`, and a client on it, for the length of `body`. */
async function withRedis(
  args: string[],
  body: (client: Redis, server: PrivateRedis) => Promise<void>,
  appendonly = false,
): Promise<void> {
  const server = await startPrivateRedis({ appendonly, extraArgs: args });
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  try {
    await body(client, server);
  } finally {
    client.disconnect();
    await server.stop();
  }
}

describe('Redis settings that put data at risk', () => {
  it('names an evicting maxmemory-policy and a Redis without AOF', async () => {
    await withRedis(['--maxmemory-policy', 'allkeys-lru'], async (client) => {
      const problems = await checkRedisSettings(client);
      expect(problems?.map((p) => [p.setting, p.value, p.recommended])).toEqual([
        ['maxmemory-policy', 'allkeys-lru', 'noeviction'],
        ['appendonly', 'no', 'yes'],
      ]);
    });
  });

  it('names appendfsync no, and finds nothing wrong with noeviction + appendonly yes + appendfsync everysec', async () => {
    await withRedis(
      ['--maxmemory-policy', 'noeviction', '--appendfsync', 'no'],
      async (client) => {
        expect((await checkRedisSettings(client))?.map((p) => p.setting)).toEqual(['appendfsync']);
        await client.config('SET', 'appendfsync', 'everysec');
        expect(await checkRedisSettings(client)).toEqual([]);
      },
      true,
    );
  });

  it('answers null (unknown) when CONFIG is disabled, as on some managed Redis services', async () => {
    await withRedis(['--rename-command', 'CONFIG', ''], async (client) => {
      expect(await checkRedisSettings(client)).toBeNull();
    });
  });

  it('ballast worker warns at start and works all the same', async () => {
    await withRedis(['--maxmemory-policy', 'volatile-lru'], async (_client, server) => {
      const worker = spawnBallast(['worker'], workerEnv(server.url, testPrefix('faults-settings')));
      try {
        await worker.waitFor(/worker started/);
        expect(worker.stderr()).toMatch(
          /Redis maxmemory-policy is volatile-lru, not noeviction: .*evicts keys/,
        );
        expect(worker.stderr()).toMatch(/Redis appendonly is no, not yes/);
        worker.child.kill('SIGTERM');
        expect(await worker.exited).toBe(0);
      } finally {
        if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      }
    });
  });

  it('ballast api warns once connected, and serves all the same', async () => {
    await withRedis(['--maxmemory-policy', 'allkeys-lru'], async (_client, server) => {
      const api = spawnBallast(
        ['api', '--insecure-no-auth'],
        workerEnv(server.url, testPrefix('faults-settings-api'), { BALLAST_API_PORT: '0' }),
      );
      try {
        const listening = await api.waitFor(/"msg":"api listening"/);
        await api.waitFor(/Redis maxmemory-policy is allkeys-lru, not noeviction/);
        expect(api.stderr()).toMatch(/"role":"api".*Redis maxmemory-policy is allkeys-lru/);
        const url = (JSON.parse(listening) as { url: string }).url;
        expect((await fetch(`${url}/readyz`)).status).toBe(200);
        api.child.kill('SIGTERM');
        expect(await api.exited).toBe(0);
      } finally {
        if (api.child.exitCode === null) api.child.kill('SIGKILL');
      }
    });
  });
});
