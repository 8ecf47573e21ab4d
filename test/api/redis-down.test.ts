/**
 * With Redis down, or hung, the API answers 503 with a message within a bounded time instead of
 * holding requests until Redis returns (the app's connections wait through outages, as a
 * worker's must: the API has its own that fail fast).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiServer } from '../../src/api/context.js';
import { createApiServer } from '../../src/api/server.js';
import type { App } from '../../src/app.js';
import { testApp } from '../helpers/app.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { AUTH, inject, TOKEN } from './api-fixture.js';

const redis = useRedisPrefix('api-redis-down');

/** A request of every kind that needs Redis: reads, writes, enqueues, the apply, the dashboard. */
const DATA_ROUTES: readonly [string, string, unknown?][] = [
  ['GET', '/portfolios/orbit'],
  ['GET', '/portfolios/owner/dana'],
  ['POST', '/portfolios', { id: 'orbit2', name: 'Orbit', owner_id: 'dana' }],
  ['PATCH', '/portfolios/orbit', { name: 'x' }],
  ['POST', '/portfolios/orbit/businesses', { business_id: 'b9' }],
  ['PUT', '/portfolios/orbit/businesses/b1/allocation', { locked: true }],
  ['DELETE', '/portfolios/orbit/businesses/b1'],
  ['GET', '/portfolios/orbit/metrics'],
  ['GET', '/portfolios/orbit/rebalance'],
  ['POST', '/portfolios/orbit/rebalance'],
  ['POST', '/portfolios/orbit/recalculate'],
  ['POST', '/runs/nightly'],
  ['GET', '/jobs/nightly.x'],
  ['GET', '/portfolios/orbit/reports'],
  ['GET', '/admin/queues/api/queues'],
];

async function expectUnavailable(server: ApiServer, within: number, message: RegExp) {
  for (const [method, url, body] of DATA_ROUTES) {
    const started = Date.now();
    const r = await inject(server, method as 'GET', url, body, AUTH);
    const where = `${method} ${url} -> ${r.status} ${r.text.slice(0, 200)}`;
    expect(r.status, where).toBe(503);
    expect(r.json.error, where).toBe('unavailable');
    expect(r.json.message, where).toMatch(message);
    expect(Date.now() - started, where).toBeLessThan(within);
  }
}

describe('Redis down from the start (a dead port)', () => {
  let app: App;
  let server: ApiServer;
  beforeAll(async () => {
    app = testApp(`${redis.prefix}-dead`, { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    server = createApiServer(app, { token: TOKEN });
    await server.ready();
  });
  afterAll(async () => {
    await server?.close();
    await Promise.race([app?.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  });

  it('answers 503 at once on every data route, with a message; health and readiness still answer', async () => {
    await expectUnavailable(server, 3000, /^Redis is not reachable .*GET \/readyz/);
    expect((await inject(server, 'GET', '/healthz')).status).toBe(200);
    expect((await inject(server, 'GET', '/readyz')).status).toBe(503);
    // Bad input is still said first: the client has something to fix whatever Redis does.
    expect((await inject(server, 'GET', '/portfolios/bad.id', undefined, AUTH)).status).toBe(400);
    expect((await inject(server, 'GET', '/portfolios/orbit')).status).toBe(401);
  });
});

describe('Redis going away, hanging, and coming back', () => {
  let proxy: TcpProxy;
  let app: App;
  let server: ApiServer;
  beforeAll(async () => {
    proxy = await startTcpProxy(redisUrl());
    app = testApp(`${redis.prefix}-proxy`, { env: { REDIS_URL: proxy.url } });
    // The app's own connections reconnect through the outages this file makes.
    app.redis.on('error', () => {});
    server = createApiServer(app, { token: TOKEN, requestTimeoutMs: 1000 });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const created = await inject(
      server,
      'POST',
      '/portfolios',
      { id: 'orbit', name: 'O', owner_id: 'dana' },
      AUTH,
    );
    expect(created.status, created.text).toBe(200);
    await inject(server, 'POST', '/portfolios/orbit/businesses', { business_id: 'b1' }, AUTH);
  });
  afterAll(async () => {
    await proxy?.drop();
    await server?.close();
    await Promise.race([app?.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    await proxy?.close();
  });

  it('answers 503 at once when Redis goes away while the API is up, and 200 again when it is back', async () => {
    await proxy.drop();
    try {
      await expectUnavailable(server, 3000, /Redis is not reachable/);
    } finally {
      await proxy.pass();
    }
    await vi.waitFor(
      async () =>
        expect((await inject(server, 'GET', '/portfolios/orbit', undefined, AUTH)).status).toBe(200),
      { timeout: 10_000, interval: 100 },
    );
  });

  it('answers 503 within the request deadline when Redis accepts but never answers (real sockets)', async () => {
    const address = server.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    proxy.hang();
    try {
      for (const [method, url, body] of [
        ['GET', '/portfolios/orbit'],
        ['GET', '/portfolios/orbit/rebalance'],
        ['PATCH', '/portfolios/orbit', { name: 'never written' }],
        ['POST', '/runs/nightly'],
      ] as const) {
        const started = Date.now();
        const response = await fetch(`${base}${url}`, {
          method,
          headers: { ...AUTH, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const json = (await response.json()) as { error: string; message: string };
        expect(response.status, `${method} ${url}`).toBe(503);
        expect(json.message).toMatch(/^no answer within 1s \(is Redis reachable\? see GET \/readyz\): /);
        // Only a write may have happened: a read never sends the client looking for one.
        if (method === 'GET')
          expect(json.message).toMatch(/: this is a read, nothing was changed; try again later$/);
        else
          expect(json.message).toMatch(
            /: a change may or may not have been made; read it back before retrying$/,
          );
        expect(Date.now() - started, `${method} ${url}`).toBeLessThan(3000);
      }
    } finally {
      await proxy.pass();
    }
    await vi.waitFor(
      async () =>
        expect((await inject(server, 'GET', '/portfolios/orbit', undefined, AUTH)).status).toBe(200),
      { timeout: 10_000, interval: 100 },
    );
  });
});
