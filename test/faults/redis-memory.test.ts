/** Redis's memory as operators see it: the Prometheus gauges and /readyz's "degraded". */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateRedis, startPrivateRedis } from '../../src/adapters/redis-launcher.js';
import { parseMemoryInfo } from '../../src/adapters/redis-memory.js';
import type { ApiServer } from '../../src/api/context.js';
import { createApiServer } from '../../src/api/server.js';
import type { App } from '../../src/app.js';
import { prometheusFor } from '../../src/observability/prometheus.js';
import { inject, TOKEN } from '../api/api-fixture.js';
import { parsePrometheusText, sampleValue } from '../api/prometheus-text.js';
import { testApp } from '../helpers/app.js';
import { testPrefix } from '../helpers/redis.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

// A Redis of its own: this file changes maxmemory and fills memory, which the shared one must not see.
const MAXMEMORY = 16 * 1024 * 1024;
const prefix = testPrefix('faults-memory');
let redis: PrivateRedis;
let client: Redis;
let app: App;
let server: ApiServer;
let fillers = 0;

beforeAll(async () => {
  redis = await startPrivateRedis({
    extraArgs: ['--maxmemory', String(MAXMEMORY), '--maxmemory-policy', 'noeviction'],
  });
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  app = testApp(prefix, { env: { REDIS_URL: redis.url } });
  server = createApiServer(app, { token: TOKEN });
  await server.ready();
});
afterAll(async () => {
  await server?.close();
  await app?.close();
  client?.disconnect();
  await redis?.stop();
});

async function memory(): Promise<{ used: number; max: number }> {
  return parseMemoryInfo(await client.info('memory'));
}

/** Writes 64 kB strings under the test's prefix until Redis uses more than `share` of maxmemory. */
async function fillTo(share: number): Promise<number> {
  const chunk = 'x'.repeat(64 * 1024);
  for (;;) {
    const { used, max } = await memory();
    if (used / max > share) return used / max;
    await client.set(`${prefix}:filler:${fillers++}`, chunk);
  }
}

async function freeMemory(): Promise<void> {
  const keys = Array.from({ length: fillers }, (_, i) => `${prefix}:filler:${i}`);
  // DEL, not UNLINK: the memory is back before the next command.
  if (keys.length > 0) await client.del(...keys);
  fillers = 0;
}

async function scrape(a: App, scrapeTimeoutMs = 1000) {
  const { body } = await prometheusFor(a, { processMetrics: false, scrapeTimeoutMs }).scrape();
  return parsePrometheusText(body);
}

describe('ballast_redis_used_memory_bytes and ballast_redis_maxmemory_bytes', () => {
  it('read used_memory and maxmemory at scrape time, maxmemory 0 when Redis has no limit', async () => {
    const families = await scrape(app);
    expect(families.get('ballast_redis_used_memory_bytes')?.type).toBe('gauge');
    expect(families.get('ballast_redis_maxmemory_bytes')?.type).toBe('gauge');
    expect(sampleValue(families, 'ballast_redis_maxmemory_bytes')).toBe(MAXMEMORY);
    const used = sampleValue(families, 'ballast_redis_used_memory_bytes');
    // Client buffers move used_memory by some kB between two reads.
    expect(Math.abs(used! - (await memory()).used)).toBeLessThan(512 * 1024);

    // Filled, the gauge follows; a scrape is one INFO, so used and max come from the same moment.
    await fillTo(0.5);
    try {
      expect(sampleValue(await scrape(app), 'ballast_redis_used_memory_bytes')).toBeGreaterThan(
        MAXMEMORY / 2,
      );
    } finally {
      await freeMemory();
    }

    await client.config('SET', 'maxmemory', '0');
    try {
      expect(sampleValue(await scrape(app), 'ballast_redis_maxmemory_bytes')).toBe(0);
    } finally {
      await client.config('SET', 'maxmemory', String(MAXMEMORY));
    }
  });

  it('give no sample when Redis does not answer within the scrape deadline', async () => {
    const proxy = await startTcpProxy(redis.url);
    const behind = testApp(`${prefix}-proxy`, { env: { REDIS_URL: proxy.url } });
    behind.redis.on('error', () => {});
    try {
      expect(sampleValue(await scrape(behind), 'ballast_redis_used_memory_bytes')).toBeGreaterThan(0);
      proxy.hang();
      const started = Date.now();
      const families = await scrape(behind, 300);
      expect(Date.now() - started).toBeLessThan(3000);
      // Declared, without a sample: neither a stale value nor an invented 0.
      expect(families.get('ballast_redis_used_memory_bytes')?.samples).toEqual([]);
      expect(families.get('ballast_redis_maxmemory_bytes')?.samples).toEqual([]);
      expect(sampleValue(families, 'ballast_queue_jobs', { state: 'waiting' })).toBeUndefined();
    } finally {
      await proxy.drop();
      behind.redis.disconnect();
      await Promise.race([behind.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
      await proxy.close();
    }
  });
});

describe('/readyz and Redis memory', () => {
  it('is "ready" with the memory below 90% of maxmemory, "degraded" (200) above, "ready" again once freed', async () => {
    const ready = await inject(server, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({
      status: 'ready',
      redis: 'ok',
      queue: 'ok',
      memory: { max: MAXMEMORY },
    });
    expect(ready.json.memory.ratio).toBeLessThan(0.9);

    const filled = await fillTo(0.92);
    expect(filled).toBeLessThan(1); // still under the limit: writes work, the warning comes first
    try {
      const degraded = await inject(server, 'GET', '/readyz');
      expect(degraded.status).toBe(200);
      expect(degraded.json).toMatchObject({ status: 'degraded', redis: 'ok', queue: 'ok' });
      const { used, max, ratio } = degraded.json.memory as { used: number; max: number; ratio: number };
      expect(max).toBe(MAXMEMORY);
      expect(ratio).toBeGreaterThan(0.9);
      expect(ratio).toBeCloseTo(used / max, 9);
    } finally {
      await freeMemory();
    }
    expect((await inject(server, 'GET', '/readyz')).json.status).toBe('ready');
  });

  it('is "ready" without a memory field when Redis has no maxmemory', async () => {
    await client.config('SET', 'maxmemory', '0');
    try {
      const r = await inject(server, 'GET', '/readyz');
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ status: 'ready', redis: 'ok', queue: 'ok' });
    } finally {
      await client.config('SET', 'maxmemory', String(MAXMEMORY));
    }
  });
});
