/**
 * Closing the API while Redis misbehaves: it must not wait for Redis forever, or SIGTERM never
 * leads to exit 0 (and `ballast start`, which closes the API before the worker, never closes
 * the worker either). Each case has its own proxy in front of the test Redis.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiServer } from '../../src/api/context.js';
import { CLOSE_WAIT_MS } from '../../src/api/http/request-limits.js';
import { createApiServer } from '../../src/api/server.js';
import type { App } from '../../src/app.js';
import { testApp } from '../helpers/app.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { AUTH, inject, TOKEN } from './api-fixture.js';

const redis = useRedisPrefix('api-shutdown-redis');
/** The reader's close, the queue's close, the connections' QUIT: each waits at most CLOSE_WAIT_MS. */
const CLOSES_WITHIN = 3 * CLOSE_WAIT_MS + 1000;

let proxy: TcpProxy | undefined;
let app: App | undefined;
let server: ApiServer | undefined;

afterEach(async () => {
  // Whatever the test left: cut Redis away so that nothing waits on it, then let go.
  await proxy?.close();
  await Promise.race([server?.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  await Promise.race([app?.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  proxy = app = server = undefined;
});

/** An API on a proxied Redis, with portfolio `sd` (one business) and its connections ready. */
async function apiBehindProxy(name: string, applyTimeoutMs?: number) {
  proxy = await startTcpProxy(redisUrl());
  app = testApp(`${redis.prefix}-${name}`, { env: { REDIS_URL: proxy.url } });
  // The app's own connections reconnect through the outages made here.
  app.redis.on('error', () => {});
  await app.redis.ping();
  const appConnections = proxy.connections;
  server = createApiServer(app, { token: TOKEN, ...(applyTimeoutMs ? { applyTimeoutMs } : {}) });
  await server.ready();
  const created = await inject(server, 'POST', '/portfolios', { id: 'sd', name: 'sd', owner_id: 'o' }, AUTH);
  expect(created.status, created.text).toBe(200);
  await inject(server, 'POST', '/portfolios/sd/businesses', { business_id: 'b1' }, AUTH);
  return { proxy, server, appConnections };
}

describe('closing the API', () => {
  it('ends within a few seconds, its connections cut, when Redis accepts but never answers', async () => {
    const { proxy, server, appConnections } = await apiBehindProxy('hang', 300);
    // No worker: the apply answers 202 after 300 ms, and the events reader is open.
    expect((await inject(server, 'POST', '/portfolios/sd/rebalance', undefined, AUTH)).status).toBe(202);
    proxy.hang();

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(CLOSES_WITHIN);
    // None of the API's connections is left to hold the process: only the app's own remain.
    await vi.waitFor(() => expect(proxy.connections).toBe(appConnections), { timeout: 2000, interval: 20 });
  });

  it('ends within a few seconds when Redis went away while the events reader was opening', async () => {
    const { proxy, server } = await apiBehindProxy('drop');
    const before = proxy.connections;
    // Redis hangs: the API's connections still look ready, so the apply goes on to open the
    // events reader, whose connection is accepted and never gets an answer...
    proxy.hang();
    const pending = inject(server, 'POST', '/portfolios/sd/rebalance', undefined, AUTH);
    await vi.waitFor(() => expect(proxy.connections).toBeGreaterThan(before), { timeout: 2000, interval: 5 });
    // ... then Redis goes away altogether, and the reader retries, never ready.
    await proxy.drop();
    const r = await pending;
    expect(r.status, r.text).toBe(503);
    expect(r.json.message).toMatch(/^cannot follow jobs now \(opening the queue events reader: no answer/);

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(CLOSES_WITHIN);
  });
});

describe('closing the app (after the API, in ballast api and ballast start)', () => {
  it('ends within a few seconds, its connections cut, when Redis accepts but never answers', async () => {
    proxy = await startTcpProxy(redisUrl());
    app = testApp(`${redis.prefix}-app-hang`, { env: { REDIS_URL: proxy.url } });
    app.redis.on('error', () => {});
    await app.redis.ping();
    // The queue's own connection is open too.
    expect(await app.queue.getJob('none')).toBeNull();
    const open = proxy.connections;
    expect(open).toBeGreaterThan(0);
    proxy.hang();

    const started = Date.now();
    await app.close();
    // Queue close, source close and two QUITs, each at most 2 s: in practice the hung ones.
    expect(Date.now() - started).toBeLessThan(4 * 2000 + 1000);
    await vi.waitFor(() => expect(proxy?.connections).toBe(0), { timeout: 2000, interval: 20 });
  });
});
