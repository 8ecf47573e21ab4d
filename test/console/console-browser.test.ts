/**
 * The console in a real headless Chromium against the API listening in-process (with a worker):
 * refused without a session, log in through the form, the overview, the weights chart drawn,
 * approve a proposal and revert a run from the pages (checked through the stores afterwards), a
 * POST without its CSRF token refused, the JSON API refusing the cookie alone, the dashboard with
 * the session, log out. Every request the browser made went to the server and nowhere else.
 * Screenshots: test-artifacts/console/*.png.
 */
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useApi } from '../api/api-fixture.js';
import { type Browser, hasChromium, launchBrowser, screenshot } from './browser.js';
import { ALICE, MARKUP_NAME, type Seeded, seed, TOKENS, weightsOf } from './seed.js';

const api = useApi({ name: 'console-browser', worker: true, server: { tokens: TOKENS } });

let origin = '';
let browser: Browser;
let page: Page;
let seeded: Seeded;
const requested: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  seeded = await seed(api);
  await api.server.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(api.server.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  browser.context.on('request', (request) => requested.push(request.url()));
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  // A step that does not happen fails with Playwright's message, well before the test's timeout.
  page.setDefaultTimeout(10_000);
  // CSP violations and script errors show up here.
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('dialog', (dialog) => void dialog.accept());
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const at = (path: string) => `${origin}${path}`;
/** The page without its random CSRF token (which may spell anything, `a1` included). */
const withoutCsrfToken = (html: string) => html.replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf"');
const loginUrl = (url: URL) => url.pathname === '/ui/login' || url.pathname === '/ui';

describe.skipIf(!hasChromium)('the console in Chromium', () => {
  it('without a session, every page shows the login form and no data', async () => {
    await page.goto(at('/ui/portfolios/alpha'));
    await page.waitForURL((url) => url.pathname === '/ui/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/ui/portfolios/alpha');
    await page.waitForSelector('#token');
    expect(await page.locator('#allocation-table').count()).toBe(0);
    expect(withoutCsrfToken(await page.content())).not.toContain('a1');

    for (const path of ['/ui/audit', `/ui/runs/${seeded.runId}`]) {
      await page.goto(at(path));
      await page.waitForURL((url) => url.pathname === '/ui/login');
      expect(await page.locator('table').count(), path).toBe(0);
    }
    await page.goto(at('/ui'));
    await page.waitForSelector('#token');
    expect(await page.locator('#portfolio-table').count()).toBe(0);
    expect(withoutCsrfToken(await page.content())).not.toContain('alpha');
    await page.screenshot({ path: screenshot('01-login'), fullPage: true });
  });

  it('refuses a wrong token, then logs in with a right one', async () => {
    await page.fill('#token', 'not-a-token-0123456789');
    await page.click('#login');
    await page.waitForSelector('#login-error');
    expect(await page.locator('#login-error').textContent()).toContain('not one of the API tokens');

    await page.fill('#token', ALICE);
    await page.click('#login');
    await page.waitForURL((url) => url.pathname === '/ui' && !url.search);
    await page.waitForSelector('#portfolio-table');
    const cookies = await browser.context.cookies(origin);
    const session = cookies.find((c) => c.name === 'ballast_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(session?.value).not.toContain(ALICE);
  });

  it('shows the portfolios, their last run, a pending proposal, the schedule and the last runs', async () => {
    const ids = await page
      .locator('#portfolio-table tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-portfolio')));
    expect(ids).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const row = (id: string) => page.locator(`#portfolio-table tr[data-portfolio="${id}"]`);
    expect(await row('alpha').textContent()).toContain('changed');
    expect(await row('beta').textContent()).toContain('proposal pending');
    expect(await row('beta').textContent()).toContain('approve');
    expect(await row('gamma').textContent()).toContain('skipped');
    // Markup in a name is text: shown as written, never run.
    expect(await row('delta').locator('td').nth(1).textContent()).toBe(MARKUP_NAME);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('#pending-summary').textContent()).toContain('1 pending proposal');
    expect(await page.locator(`#runs-table tr[data-run="${seeded.runId}"]`).textContent()).toContain(
      'finished',
    );
    await page.waitForSelector('#schedule h2');
    await page.screenshot({ path: screenshot('02-overview'), fullPage: true });

    await page.selectOption('select[name=status]', 'paused');
    await page.click('form.filters button');
    await page.waitForURL((url) => url.searchParams.get('status') === 'paused');
    expect(
      await page
        .locator('#portfolio-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.dataset.portfolio)),
    ).toEqual(['gamma']);
    await page.goto(at('/ui?owner=research'));
    expect(
      await page
        .locator('#portfolio-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.dataset.portfolio)),
    ).toEqual(['delta', 'gamma']);
  });

  it("draws alpha's weights over time from its history, with its allocations and reports", async () => {
    await page.goto(at('/ui/portfolios/alpha'));
    const chart = await page.waitForSelector('#weights-chart[data-drawn="3"] canvas');
    const box = await chart.boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(box?.height).toBeGreaterThan(100);
    expect(await page.locator('#allocation-table tbody tr').count()).toBe(3);
    // Created, three businesses added, the run: five versions.
    expect(await page.locator('#history-table tbody tr').count()).toBe(5);
    expect(await page.locator('#report-table').textContent()).toContain(seeded.runId);
    await page.screenshot({ path: screenshot('03-portfolio-alpha'), fullPage: true });
  });

  it("approves beta's proposal from its page: exactly the proposal's weights, as api:alice", async () => {
    const proposal = await api.app.proposals.get('beta');
    expect(proposal).not.toBeNull();
    await page.goto(at('/ui/portfolios/beta'));
    await page.waitForSelector('#pending-proposal');
    await page.screenshot({ path: screenshot('04-proposal-beta'), fullPage: true });
    await page.fill('#approve-form input[name=note]', 'checked by hand');
    await page.click('#approve');
    await page.waitForSelector('#flash.done');
    expect(new URL(page.url()).pathname).toBe('/ui/portfolios/beta');
    expect(await page.locator('#flash').textContent()).toContain(`Approved proposal ${proposal?.reportId}`);
    expect(await page.locator('#no-proposal').count()).toBe(1);

    const beta = await api.app.store.require('beta');
    expect(beta.version).toBe((proposal?.version ?? 0) + 1);
    const proposed = Object.fromEntries(
      (proposal?.actions ?? []).map((a) => [a.businessId, a.recommendedWeight]),
    );
    expect(weightsOf(beta)).toEqual(proposed);
    const [latest] = await api.app.history.list('beta', 1);
    expect(latest).toMatchObject({ actor: 'api:alice', cause: { type: 'approve' }, note: 'checked by hand' });
    expect(await api.app.proposals.get('beta')).toBeNull();
  });

  it("shows the run's outcomes and turnover, and reverts it from its page", async () => {
    await page.goto(at(`/ui/runs/${seeded.runId}`));
    await page.waitForSelector('#run-portfolio-table');
    const outcome = (id: string) =>
      page.locator(`#run-portfolio-table tr[data-portfolio="${id}"]`).textContent();
    expect(await outcome('alpha')).toContain('changed');
    expect(await outcome('beta')).toContain('held');
    expect(await outcome('beta')).toContain('approval-required');
    expect(await outcome('gamma')).toContain('skipped');
    expect(await page.locator('#turnover-table meter').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshot('05-run'), fullPage: true });

    await page.click(`#run-summary form.revert-form button`);
    await page.waitForSelector('#flash');
    expect(await page.locator('#flash').textContent()).toContain(`Reverted run ${seeded.runId}`);
    const alpha = await api.app.store.require('alpha');
    expect(weightsOf(alpha)).toEqual(seeded.alphaBefore);
    const [latest] = await api.app.history.list('alpha', 1);
    expect(latest).toMatchObject({ actor: 'api:alice', cause: { type: 'revert', run_id: seeded.runId } });
    await page.screenshot({ path: screenshot('06-run-reverted'), fullPage: true });
  });

  it('lists the audit stream, filtered by actor', async () => {
    await page.goto(at('/ui/audit?actor=api%3Aalice'));
    await page.waitForSelector('#audit-table');
    const text = await page.locator('#audit-table').textContent();
    expect(text).toContain('approve');
    expect(text).toContain('revert');
    expect(text).not.toContain('api:bob');
    await page.screenshot({ path: screenshot('07-audit'), fullPage: true });
  });

  it('refuses a POST without its CSRF token (403) and changes nothing; the JSON API refuses the cookie alone (401)', async () => {
    const before = await api.app.store.require('alpha');
    const statuses = await page.evaluate(async () => {
      const post = (body: string) =>
        fetch('/ui/portfolios/alpha/restore', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
          redirect: 'manual',
        }).then((r) => r.status);
      return {
        none: await post('version=1'),
        wrong: await post('version=1&_csrf=forged'),
      };
    });
    expect(statuses).toEqual({ none: 403, wrong: 403 });
    // The context's own requests carry its cookies (and no Authorization): a fetch from the page
    // would stop at the browser's Basic auth prompt.
    const request = browser.context.request;
    expect((await request.get(at('/portfolios/alpha'))).status()).toBe(401);
    expect((await request.get(at('/proposals'))).status()).toBe(401);
    const approve = await request.post(at('/portfolios/alpha/proposal/approve'), { data: {} });
    expect(approve.status()).toBe(401);
    expect((await browser.context.cookies(origin)).map((c) => c.name)).toContain('ballast_session');
    expect((await api.app.store.require('alpha')).version).toBe(before.version);
  });

  it('opens the queue dashboard with the session, loading nothing from outside', async () => {
    await page.goto(at('/admin/queues/queue/q'));
    await page.waitForSelector('text=Ballast');
    await page.waitForSelector('text=Loading', { state: 'detached' });
    await page.screenshot({ path: screenshot('08-dashboard') });
    const paused = await page.evaluate(async () => {
      const pause = await fetch('/admin/queues/api/queues/q/pause', { method: 'PUT' });
      const resume = await fetch('/admin/queues/api/queues/q/resume', { method: 'PUT' });
      return [pause.status, resume.status];
    });
    expect(paused).toEqual([200, 200]);
    expect(await api.app.queue.queue.isPaused()).toBe(false);
  });

  it('logs out: the pages are closed again', async () => {
    await page.goto(at('/ui'));
    await page.click('#logout');
    await page.waitForURL((url) => url.pathname === '/ui/login');
    await page.goto(at('/ui/portfolios/alpha'));
    await page.waitForURL((url) => loginUrl(url));
    expect(await page.locator('#allocation-table').count()).toBe(0);
  });

  it('made no request to any host but the server, and broke no CSP rule', () => {
    expect(requested.length).toBeGreaterThan(20);
    // A `data:` URL is no request to a host (the console's empty favicon).
    const elsewhere = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
    expect(elsewhere).toEqual([]);
    expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
  });
});
