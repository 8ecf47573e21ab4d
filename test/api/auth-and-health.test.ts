import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { tokenMatcher } from '../../src/api/http/auth.js';
import { createApiServer } from '../../src/api/server.js';
import { testApp } from '../helpers/app.js';
import { AUTH, inject, TOKEN, useApi } from './api-fixture.js';

// No worker on this queue: an apply waits for nobody (the 202 case).
const api = useApi({ name: 'api-auth', server: { applyTimeoutMs: 300 } });

const PROTECTED: readonly [string, string][] = [
  ['POST', '/portfolios'],
  ['GET', '/portfolios/p1'],
  ['GET', '/portfolios/owner/o1'],
  ['PATCH', '/portfolios/p1'],
  ['POST', '/portfolios/p1/businesses'],
  ['DELETE', '/portfolios/p1/businesses/b1'],
  ['PUT', '/portfolios/p1/businesses/b1/allocation'],
  ['GET', '/portfolios/p1/metrics'],
  ['GET', '/portfolios/p1/ranking'],
  ['GET', '/portfolios/p1/rebalance'],
  ['POST', '/portfolios/p1/rebalance'],
  ['POST', '/portfolios/p1/recalculate'],
  ['POST', '/runs/nightly'],
  ['GET', '/jobs/x.y'],
  ['GET', '/portfolios/p1/reports'],
  ['GET', '/metrics'],
  ['GET', '/docs'],
  ['GET', '/docs/json'],
  ['GET', '/admin/queues'],
  ['GET', '/no/such/route'],
];

describe('auth', () => {
  it('answers 401 with a message and a challenge without a token or with a wrong one, on every route', async () => {
    const wrong: Record<string, string>[] = [
      {},
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${TOKEN.toUpperCase()}` },
      { authorization: TOKEN },
      { authorization: `Token ${TOKEN}` },
      { authorization: `Basic ${Buffer.from(TOKEN).toString('base64')}` },
      { authorization: `Basic ${Buffer.from(`${TOKEN}:nope`).toString('base64')}` },
      { authorization: 'Basic !!!' },
    ];
    for (const [method, url] of PROTECTED) {
      for (const headers of wrong) {
        const r = await inject(api.server, method as 'GET', url, undefined, headers);
        expect(r.status, `${method} ${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.json).toMatchObject({ error: 'unauthorized', message: expect.stringContaining('token') });
        expect(String(r.headers['www-authenticate'])).toContain('Bearer realm="ballast"');
      }
    }
  });

  it('lets the right token through, as a bearer token or the password of Basic auth', async () => {
    await api.call('POST', '/portfolios', { id: 'p1', name: 'p1', owner_id: 'o1' });
    const basic = `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`;
    for (const authorization of [AUTH.authorization, `bearer ${TOKEN}`, basic]) {
      const r = await inject(api.server, 'GET', '/portfolios/p1', undefined, { authorization });
      expect(r.status, authorization).toBe(200);
    }
  });

  it('serves /healthz and /readyz without a token', async () => {
    expect(await inject(api.server, 'GET', '/healthz')).toMatchObject({
      status: 200,
      json: { status: 'ok' },
    });
    expect(await inject(api.server, 'GET', '/readyz/')).toMatchObject({
      status: 200,
      json: { status: 'ready', redis: 'ok', queue: 'ok' },
    });
  });

  it('compares in constant time over hashes: any length, any bytes', () => {
    const matches = tokenMatcher(TOKEN);
    expect(matches(`Bearer ${TOKEN}`)).toBe(true);
    expect(matches(undefined)).toBe(false);
    expect(matches(`Bearer ${'é'.repeat(1000)}`)).toBe(false);
    expect(matches('Bearer \u0000')).toBe(false);
  });

  it('refuses to build a server without a token unless insecureNoAuth, and a short token', () => {
    expect(() => createApiServer(api.app, {})).toThrow(/BALLAST_API_TOKEN/);
    expect(() => createApiServer(api.app, { token: 'short' })).toThrow(/16/);
    const open = createApiServer(api.app, { insecureNoAuth: true });
    return open.close();
  });

  it('serves everything without a token when started with insecureNoAuth', async () => {
    const open = createApiServer(api.app, { insecureNoAuth: true });
    try {
      expect((await inject(open, 'GET', '/portfolios/p1')).status).toBe(200);
      const doc = (await inject(open, 'GET', '/docs/json')).json;
      expect(doc.components?.securitySchemes).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('never writes the token to the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = testApp(`${api.prefix}-log`, { log: pino({ level: 'trace' }, sink) });
    const server = createApiServer(app, { token: TOKEN });
    try {
      await inject(server, 'GET', '/portfolios/nobody', undefined, AUTH);
      await inject(server, 'GET', '/portfolios/bad.id', undefined, {
        authorization: `Bearer ${TOKEN}-wrong`,
      });
      await inject(server, 'POST', '/portfolios', '{broken', AUTH);
      // Pasted into the query string, where no header redaction reaches: refused, never logged.
      for (const url of [
        `/portfolios/nobody?token=${TOKEN}`,
        `/portfolios/nobody?access_token=${TOKEN}&dry_run=true`,
        `/portfolios/owner/o?${TOKEN}`,
        `/portfolios/owner/o?${TOKEN}=1`,
        `/portfolios/%E0%A4%A?token=${TOKEN}`,
        `/portfolios/${'x'.repeat(300)}?token=${TOKEN}`,
        `/no/such/route?token=${TOKEN}`,
      ]) {
        expect((await inject(server, 'GET', url)).status, url).toBe(401);
        const refused = await inject(server, 'GET', url, undefined, AUTH);
        expect(refused.status, url).toBeGreaterThanOrEqual(400);
        expect(refused.text, url).not.toContain(TOKEN);
      }
    } finally {
      await server.close();
      await app.close();
    }
    const log = lines.join('');
    expect(log).toContain('incoming request');
    expect(log).toContain('"url":"/portfolios/nobody?token=[redacted]"');
    expect(log).toContain('"url":"/portfolios/nobody?access_token=[redacted]&dry_run=[redacted]"');
    expect(log).not.toContain(TOKEN);
  });
});

describe('readiness and odd requests', () => {
  it('/readyz answers 503 within a second or two when Redis does not answer', async () => {
    const app = testApp(`${api.prefix}-down`, { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    app.redis.on('error', () => {});
    app.queue.queue.on('error', () => {});
    const server = createApiServer(app, { token: TOKEN });
    try {
      const started = Date.now();
      const r = await inject(server, 'GET', '/readyz');
      expect(r.status).toBe(503);
      expect(r.json).toEqual({ status: 'unavailable', redis: 'down', queue: 'down' });
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await inject(server, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await server.close();
      app.redis.disconnect();
      await Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
  });

  it('answers 404 with a message for an unknown route and 405-free 404 for a wrong method', async () => {
    const r = await api.call('GET', '/portfolio');
    expect(r.status).toBe(404);
    expect(r.json.message).toBe('no route GET /portfolio');
    expect((await api.call('PUT', '/portfolios/p1')).status).toBe(404);
  });

  it('answers 400, not 500, for a malformed URL or an over-long path segment', async () => {
    const bad = await api.call('GET', '/portfolios/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(bad.json.message).toEqual(expect.any(String));
    const long = await api.call('GET', `/portfolios/${'a'.repeat(300)}`);
    expect(long.status).toBeGreaterThanOrEqual(400);
    expect(long.status).toBeLessThan(500);
    expect(long.json.message).toEqual(expect.any(String));
  });

  it('answers 202 with the job id when no worker finishes the apply in time; the job stays queued', async () => {
    await api.call('POST', '/portfolios/p1/businesses', { business_id: 'b1' });
    const r = await api.call('POST', '/portfolios/p1/rebalance');
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'queued', job_id: `${r.json.run_id}.p1` });
    expect(r.json.message).toContain('stays queued');
    const job = await api.call('GET', `/jobs/${r.json.job_id}`);
    expect(job.json.state).toBe('waiting');
  });
});
