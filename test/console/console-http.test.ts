/**
 * The console and the dashboard over HTTP (fastify.inject, no browser): the CSP and other headers
 * on every /ui answer, the login (cookie flags, CSRF), sessions refused when forged, expired or
 * from other tokens, the cookie never opening the JSON API, errors as pages, the console kept
 * out of the OpenAPI document, and the dashboard: nothing linked from outside, no action with
 * HTTP Basic credentials alone (every write route of bull-board tried), actions with a bearer
 * token or the console's session, none from another site's page.
 */
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { SESSION_COOKIE, SESSION_TTL_MS, sealSession, sessionSecret } from '../../src/console/session.js';
import { AUTH, inject, TOKEN, useApi } from '../api/api-fixture.js';
import { testApp } from '../helpers/app.js';
import { ALICE, TOKENS } from './seed.js';

const api = useApi({ name: 'console-http', server: { tokens: TOKENS } });

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const cookiesOf = (setCookie: unknown): string[] =>
  (Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie]).map(String);
const pair = (cookie: string) => cookie.split(';')[0] ?? '';
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** Logs in through the form: the Cookie header the browser would send afterwards. */
async function login(token = ALICE): Promise<{ cookie: string; session: string; csrf: string }> {
  const form = await inject(api.server, 'GET', '/ui/login');
  expect(form.status).toBe(200);
  const csrfCookie = pair(cookiesOf(form.headers['set-cookie'])[0] ?? '');
  const csrf = csrfOf(form.text);
  const posted = await api.server.inject({
    method: 'POST',
    url: '/ui/login',
    headers: { ...FORM, cookie: csrfCookie },
    payload: new URLSearchParams({ _csrf: csrf, token, next: '/ui/audit' }).toString(),
  });
  expect(posted.statusCode, posted.body).toBe(303);
  expect(posted.headers.location).toBe('/ui/audit');
  const session =
    cookiesOf(posted.headers['set-cookie']).find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  return { cookie: `${csrfCookie}; ${pair(session)}`, session, csrf };
}

describe('the console over HTTP', () => {
  it('sends its CSP and other headers on every /ui answer, pages and files alike', async () => {
    const { cookie } = await login();
    for (const url of [
      '/ui',
      '/ui/login',
      '/ui/static/console.js',
      '/ui/static/uPlot.iife.min.js',
      '/ui/nope/x',
    ]) {
      for (const headers of [{}, { cookie }] as Record<string, string>[]) {
        const r = await inject(api.server, 'GET', url, undefined, headers);
        expect(r.headers['content-security-policy'], url).toBe(CSP);
        expect(r.headers['x-frame-options'], url).toBe('DENY');
        expect(r.headers['x-content-type-options'], url).toBe('nosniff');
      }
    }
    const page = await inject(api.server, 'GET', '/ui', undefined, { cookie });
    expect(page.headers['cache-control']).toBe('no-store');
    // No inline script or style: every script and stylesheet comes from /ui/static/.
    expect(page.text).not.toMatch(/<script(?![^>]*(\bsrc="\/ui\/static\/|type="application\/json"))/);
    expect(page.text).not.toMatch(/\sstyle=/);
    expect(page.text).not.toMatch(/<style/);
    expect(page.text).not.toMatch(/https?:\/\//);
    const uplot = await inject(api.server, 'GET', '/ui/static/uPlot.iife.min.js');
    expect(uplot.status).toBe(200);
    expect(uplot.headers['content-type']).toContain('javascript');
    expect(uplot.text).toContain('uPlot');
  });

  it('sets an HttpOnly, SameSite=Strict session cookie of 12 hours naming the token, never holding it', async () => {
    const { session } = await login();
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Path=\//);
    expect(session).toContain(`Max-Age=${SESSION_TTL_MS / 1000}`);
    // Plain http here: Secure is set when the request came over https.
    expect(session).not.toMatch(/; Secure/);
    expect(session).toContain('v1.alice.');
    expect(session).not.toContain(ALICE);
  });

  it('refuses a login without its CSRF token, and a wrong token', async () => {
    const noCsrf = await api.server.inject({
      method: 'POST',
      url: '/ui/login',
      headers: FORM,
      payload: `token=${ALICE}`,
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(cookiesOf(noCsrf.headers['set-cookie']).some((c) => c.startsWith(SESSION_COOKIE))).toBe(false);
    const form = await inject(api.server, 'GET', '/ui/login');
    const wrong = await api.server.inject({
      method: 'POST',
      url: '/ui/login',
      headers: { ...FORM, cookie: pair(cookiesOf(form.headers['set-cookie'])[0] ?? '') },
      payload: new URLSearchParams({ _csrf: csrfOf(form.text), token: 'nope-0123456789abcdef' }).toString(),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('not one of the API tokens');
  });

  it('sends every page without a valid session to the login form: forged, expired, other tokens', async () => {
    const now = api.app.clock().getTime();
    // The server's tokens: the fixture's own is `default`.
    const secret = sessionSecret([...TOKENS, { name: 'default', token: TOKEN }]);
    const sessions = {
      none: undefined,
      forged: `v1.alice.${now + 3_600_000}.AAAA`,
      expired: sealSession({ name: 'alice', expiresAt: now - 1 }, secret),
      tooLong: sealSession({ name: 'alice', expiresAt: now + SESSION_TTL_MS + 3_600_000 }, secret),
      unknownName: sealSession({ name: 'mallory', expiresAt: now + 3_600_000 }, secret),
      otherTokens: sealSession(
        { name: 'alice', expiresAt: now + 3_600_000 },
        sessionSecret([{ name: 'alice', token: 'rotated-0123456789abcdef' }]),
      ),
    };
    for (const [what, value] of Object.entries(sessions)) {
      const headers: Record<string, string> =
        value === undefined ? {} : { cookie: `${SESSION_COOKIE}=${value}` };
      for (const url of ['/ui/portfolios/p1', '/ui/runs/r1', '/ui/audit']) {
        const r = await inject(api.server, 'GET', url, undefined, headers);
        expect(r.status, `${what} ${url}`).toBe(303);
        expect(r.headers.location, `${what} ${url}`).toBe(`/ui/login?next=${encodeURIComponent(url)}`);
      }
      const home = await inject(api.server, 'GET', '/ui', undefined, headers);
      expect(home.status, what).toBe(200);
      expect(home.text, what).toContain('name="token"');
      expect(home.text, what).not.toContain('portfolio-table');
      const post = await inject(api.server, 'POST', '/ui/runs/r1/revert', undefined, headers);
      expect(post.status, what).toBe(303);
    }
    const good = sealSession({ name: 'alice', expiresAt: now + 3_600_000 }, secret);
    const ok = await inject(api.server, 'GET', '/ui/audit', undefined, {
      cookie: `${SESSION_COOKIE}=${good}`,
    });
    expect(ok.status).toBe(200);
  });

  it('never opens the JSON API with the cookie alone', async () => {
    const { cookie } = await login();
    for (const [method, url] of [
      ['GET', '/portfolios/p1'],
      ['GET', '/proposals'],
      ['GET', '/audit'],
      ['POST', '/runs/nightly'],
      ['GET', '/docs/json'],
    ] as const) {
      expect((await inject(api.server, method, url, undefined, { cookie })).status, url).toBe(401);
    }
  });

  it('shows refusals as pages with their message: unknown portfolio and run, a bad audit filter', async () => {
    const { cookie } = await login();
    const portfolio = await inject(api.server, 'GET', '/ui/portfolios/nope', undefined, { cookie });
    expect(portfolio.status).toBe(404);
    expect(portfolio.text).toContain('portfolio nope not found');
    expect(portfolio.text).not.toMatch(/at \S+ \(/);
    const run = await inject(api.server, 'GET', '/ui/runs/nope', undefined, { cookie });
    expect(run.status).toBe(404);
    expect(run.text).toContain('run nope not found');
    const audit = await inject(api.server, 'GET', '/ui/audit?since=soon', undefined, { cookie });
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('since: &quot;soon&quot;');
  });

  it('answers an action refused by its service with a redirect and the message, not a 500', async () => {
    const { cookie, csrf } = await login();
    const r = await api.server.inject({
      method: 'POST',
      url: '/ui/portfolios/nope/proposal/approve',
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({ _csrf: csrf, back: 'https://elsewhere.example/' }).toString(),
    });
    expect(r.statusCode).toBe(303);
    // Never back to another site: the portfolio's page.
    expect(r.headers.location).toBe('/ui/portfolios/nope');
    const flash = cookiesOf(r.headers['set-cookie']).find((c) => c.startsWith('ballast_flash='));
    expect(decodeURIComponent(flash ?? '')).toContain('portfolio nope not found');
  });

  it("restores a version and cancels a queued run from their forms, as the session's token", async () => {
    const { cookie, csrf } = await login();
    expect((await api.call('POST', '/portfolios', { id: 'rp', name: 'rp', owner_id: 'o' })).status).toBe(200);
    for (const b of ['x', 'y']) {
      expect((await api.call('POST', '/portfolios/rp/businesses', { business_id: b })).status).toBe(200);
    }
    const edit = await api.call('PUT', '/portfolios/rp/businesses/x/allocation', { weight: 0.3 });
    expect(edit.json.portfolio.version).toBe(4);
    const restore = await api.server.inject({
      method: 'POST',
      url: '/ui/portfolios/rp/restore',
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({ _csrf: csrf, version: '3', back: '/ui/portfolios/rp' }).toString(),
    });
    expect(restore.statusCode).toBe(303);
    const flash = cookiesOf(restore.headers['set-cookie']).find((c) => c.startsWith('ballast_flash=')) ?? '';
    expect(decodeURIComponent(flash)).toContain('Restored version 3 as version 5');
    // The flash is shown once on the page it came back to, then cleared.
    const shown = await inject(api.server, 'GET', '/ui/portfolios/rp', undefined, {
      cookie: `${cookie}; ${pair(flash)}`,
    });
    expect(shown.text).toContain('Restored version 3 as version 5');
    expect(cookiesOf(shown.headers['set-cookie']).some((c) => /^ballast_flash=;/.test(c))).toBe(true);
    const [latest] = await api.app.history.list('rp', 1);
    expect(latest).toMatchObject({ version: 5, actor: 'api:alice', cause: { type: 'restore', version: 3 } });

    // No worker in this file: the run stays queued, and its page offers Cancel.
    const queued = await api.call('POST', '/runs/nightly');
    const runId = queued.json.run_id as string;
    const page = await inject(api.server, 'GET', `/ui/runs/${runId}`, undefined, { cookie });
    expect(page.text).toContain('id="cancel"');
    const cancel = await api.server.inject({
      method: 'POST',
      url: `/ui/runs/${runId}/cancel`,
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    expect(cancel.statusCode).toBe(303);
    expect(cancel.headers.location).toBe(`/ui/runs/${runId}`);
    const after = await inject(api.server, 'GET', `/ui/runs/${runId}`, undefined, { cookie });
    expect(after.text).toContain('badge cancelled');
    expect(after.text).not.toContain('id="cancel"');
  });

  it('keeps the console out of the OpenAPI document', async () => {
    const doc = await api.call('GET', '/docs/json');
    expect(Object.keys(doc.json.paths).filter((p) => p.startsWith('/ui') || p.startsWith('/admin'))).toEqual(
      [],
    );
  });

  it('says Redis is unreachable on a page, at once, while the login form still answers', async () => {
    const app = testApp(`${api.prefix}-dead`, { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    const server = createApiServer(app, { tokens: TOKENS });
    try {
      await server.ready();
      const secret = sessionSecret(TOKENS);
      const cookie = `${SESSION_COOKIE}=${sealSession({ name: 'bob', expiresAt: Date.now() + 60_000 }, secret)}`;
      expect((await inject(server, 'GET', '/ui/login')).status).toBe(200);
      for (const url of ['/ui', '/ui/portfolios/p1', '/ui/audit']) {
        const started = Date.now();
        const r = await inject(server, 'GET', url, undefined, { cookie });
        expect(r.status, url).toBe(503);
        expect(r.text, url).toContain('Redis is not reachable');
        expect(Date.now() - started, url).toBeLessThan(3000);
      }
    } finally {
      await server.close();
      await Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
  });

  it('is open without login when the API runs without tokens (--insecure-no-auth)', async () => {
    const open = createApiServer(api.app, { insecureNoAuth: true });
    try {
      await open.ready();
      const r = await inject(open, 'GET', '/ui');
      expect(r.status).toBe(200);
      expect(r.text).toContain('no login (--insecure-no-auth)');
      expect(r.text).not.toContain('name="token"');
    } finally {
      await open.close();
    }
  });
});

describe('the dashboard at /admin/queues', () => {
  const basic = { authorization: `Basic ${Buffer.from(`admin:${ALICE}`).toString('base64')}` };
  const writes = appRoutes.api
    .flatMap((r) =>
      [r.method]
        .flat()
        .flatMap((method) =>
          [r.route].flat().map((route) => ({ method: String(method).toUpperCase(), route })),
        ),
    )
    .filter((r) => r.method !== 'GET');
  const url = (route: string) =>
    `/admin/queues${route
      .replace(':queueName', 'q')
      .replace(':queueStatus', 'failed')
      .replace(':jobId', 'j1')
      .replace(':schedulerId', 's1')}`;

  it('loads nothing from outside the server', async () => {
    const page = await api.call('GET', '/admin/queues');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('fonts.googleapis.com');
    expect(page.text).not.toMatch(/(?:href|src)=["'](?:https?:)?\/\//);
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");
  });

  it('refuses every action with HTTP Basic credentials alone; Basic may look', async () => {
    expect(writes.length).toBeGreaterThan(15);
    for (const { method, route } of writes) {
      const r = await inject(api.server, method as 'PUT', url(route), {}, basic);
      expect(r.status, `${method} ${route}`).toBe(403);
      expect(r.json.message, `${method} ${route}`).toContain('Basic');
    }
    expect(await api.app.queue.queue.isPaused()).toBe(false);
    expect((await inject(api.server, 'GET', '/admin/queues/api/queues', undefined, basic)).status).toBe(200);
    for (const { method, route } of writes) {
      expect((await inject(api.server, method as 'PUT', url(route), {})).status, `${method} ${route}`).toBe(
        401,
      );
    }
  });

  it('takes actions with a bearer token or the console session, never from another site', async () => {
    expect((await inject(api.server, 'PUT', '/admin/queues/api/queues/q/pause', {}, AUTH)).status).toBe(200);
    expect(await api.app.queue.queue.isPaused()).toBe(true);
    const { cookie } = await login();
    const resume = await inject(api.server, 'PUT', '/admin/queues/api/queues/q/resume', {}, { cookie });
    expect(resume.status).toBe(200);
    expect(await api.app.queue.queue.isPaused()).toBe(false);
    const crossSite: Record<string, string>[] = [
      { cookie, origin: 'https://elsewhere.example' },
      { cookie, 'sec-fetch-site': 'cross-site' },
      { ...AUTH, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of crossSite) {
      const r = await inject(api.server, 'PUT', '/admin/queues/api/queues/q/pause', {}, headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
    }
    expect(await api.app.queue.queue.isPaused()).toBe(false);
    expect((await inject(api.server, 'GET', '/admin/queues/api/queues', undefined, { cookie })).status).toBe(
      200,
    );
  });
});
