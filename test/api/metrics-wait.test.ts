/**
 * The metrics routes (roll-up, ranking, preview) against an HTTP metrics source that never
 * answers: the source's own limits (a time-out per attempt, retries) decide when its businesses
 * are no-metrics (SPEC section 4), not the request deadline, which is meant for Redis; and the
 * fetch stops as soon as nobody waits for it any more.
 */
import { once } from 'node:events';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/api/context.js';
import { createApiServer } from '../../src/api/server.js';
import type { App } from '../../src/app.js';
import { testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { AUTH, inject, TOKEN } from './api-fixture.js';
import { clientGone, type SilentHttp, startSilentHttp } from './silent-http.js';

const redis = useRedisPrefix('api-metrics-wait');

/** An app on the HTTP source, pointed at `silent`, and a portfolio of two businesses. */
async function setUp(
  silent: SilentHttp,
  name: string,
  env: Record<string, string>,
  requestTimeoutMs: number,
) {
  const app = testApp(`${redis.prefix}-${name}`, {
    env: { BALLAST_METRICS_SOURCE: 'http', BALLAST_METRICS_URL: silent.url, ...env },
  });
  const server = createApiServer(app, { token: TOKEN, requestTimeoutMs });
  await server.ready();
  const created = await inject(server, 'POST', '/portfolios', { id: 'mw', name: 'mw', owner_id: 'o' }, AUTH);
  expect(created.status, created.text).toBe(200);
  for (const business_id of ['mw-a', 'mw-b']) {
    await inject(server, 'POST', '/portfolios/mw/businesses', { business_id }, AUTH);
  }
  return { app, server };
}

describe('a metrics source slower than the request deadline', () => {
  let silent: SilentHttp;
  let app: App;
  let server: ApiServer;
  beforeAll(async () => {
    silent = await startSilentHttp();
    // The source gives up after 3 attempts of 300 ms (and backoff): past the 200 ms deadline.
    ({ app, server } = await setUp(
      silent,
      'slow',
      { BALLAST_METRICS_TIMEOUT_MS: '300', BALLAST_METRICS_RETRIES: '2' },
      200,
    ));
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await silent?.close();
  });

  it('answers 200 with the businesses no-metrics once the source gives up, not a 503 at the deadline', async () => {
    const started = Date.now();
    const preview = await inject(server, 'GET', '/portfolios/mw/rebalance', undefined, AUTH);
    expect(preview.status, preview.text).toBe(200);
    // Three attempts of 300 ms each: the 200 ms deadline passed without a 503.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(preview.json.actions.map((a: { action: string }) => a.action)).toEqual([
      'no-metrics',
      'no-metrics',
    ]);
    expect(preview.json.actions[0].reason).toMatch(/timed out after 300 ms \(3 attempts\)/);

    const rollup = await inject(server, 'GET', '/portfolios/mw/metrics', undefined, AUTH);
    expect(rollup.status, rollup.text).toBe(200);
    expect(rollup.json).toMatchObject({ businesses_with_metrics: 0, businesses_without_metrics: 2 });

    const ranking = await inject(server, 'GET', '/portfolios/mw/ranking', undefined, AUTH);
    expect(ranking.status, ranking.text).toBe(200);
    expect(ranking.json.rankings.map((r: { rank: unknown }) => r.rank)).toEqual([null, null]);
  });
});

describe('a metrics fetch nobody waits for any more', () => {
  let silent: SilentHttp;
  let app: App;
  let server: ApiServer;
  let base: string;
  beforeAll(async () => {
    silent = await startSilentHttp();
    // One attempt of a minute: only an abort ends it within the test.
    ({ app, server } = await setUp(
      silent,
      'abort',
      { BALLAST_METRICS_TIMEOUT_MS: '60000', BALLAST_METRICS_RETRIES: '0' },
      10_000,
    ));
    await server.listen({ host: '127.0.0.1', port: 0 });
    const address = server.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await silent?.close();
  });

  it('stops when the client goes away', async () => {
    const asked = silent.nextRequest();
    // node:http without an agent: one connection, gone with the request (fetch would keep a
    // spare one open, holding the server's close below for its keep-alive time).
    const client = request(`${base}/portfolios/mw/rebalance`, { headers: AUTH, agent: false });
    const failed = once(client, 'error');
    client.end();
    const req = await asked;
    client.destroy(new Error('the client gave up'));
    await failed;
    // The API let go of the metrics request: a minute before its own time-out.
    await clientGone(req);
  });

  it('stops, and the preview answers 503 at once, when the server closes', async () => {
    const asked = silent.nextRequest();
    const pending = inject(server, 'GET', '/portfolios/mw/ranking', undefined, AUTH);
    const req = await asked;
    const started = Date.now();
    await server.close();
    const r = await pending;
    expect(r.status, r.text).toBe(503);
    expect(r.json.message).toBe(
      'the API is shutting down before the metrics arrived: this is a read, nothing was changed',
    );
    await clientGone(req);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
