/**
 * Nothing a request says is silently ignored: unknown query parameters and bodies on routes
 * that take none are 400s that name them (a dry run asked for the wrong way must not apply),
 * non-JSON bodies are 415s, and the odd cases of ids (too long, `owner`) are 400s that say why.
 * A worker runs on the queue, so anything wrongly enqueued would really apply.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { wire } from '../helpers/memory-metrics.js';
import { TOKEN, useApi } from './api-fixture.js';

const api = useApi({ name: 'api-strict', worker: true });

beforeAll(async () => {
  api.source.set(wire('st-a', 3000, 300), wire('st-b', 1000, 100));
  const created = await api.call('POST', '/portfolios', {
    id: 'st',
    name: 'strict',
    owner_id: 'st-owner',
    strategy: 'revenue',
    drift_threshold: 0,
  });
  expect(created.status, created.text).toBe(200);
  for (const business_id of ['st-a', 'st-b']) {
    expect((await api.call('POST', '/portfolios/st/businesses', { business_id })).status).toBe(200);
  }
});

/** Jobs of every state: a refused request must not have added one. */
async function jobCount(): Promise<number> {
  const counts = await api.app.queue.counts();
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

async function expectRefusedUntouched(
  method: string,
  url: string,
  body: unknown,
  headers: Record<string, string>,
  status: number,
  mention: RegExp,
) {
  const before = (await api.call('GET', '/portfolios/st')).json;
  const jobs = await jobCount();
  const r = await api.call(method as 'POST', url, body, headers);
  const where = `${method} ${url} ${JSON.stringify(body)} -> ${r.status} ${r.text}`;
  expect(r.status, where).toBe(status);
  expect(r.json.message, where).toMatch(mention);
  expect((await api.call('GET', '/portfolios/st')).json, where).toEqual(before);
  expect(await jobCount(), where).toBe(jobs);
}

describe('a dry run asked for the wrong way never applies', () => {
  it('refuses unknown query parameters on the apply, the enqueue and the nightly run, naming them', async () => {
    const cases: [string, RegExp][] = [
      [
        '/portfolios/st/rebalance?dry_run=true',
        /unknown query parameter "dry_run".*GET \/portfolios\/\{id\}\/rebalance/,
      ],
      ['/portfolios/st/rebalance?dryRun=1', /unknown query parameter "dryRun"/],
      ['/portfolios/st/recalculate?dryrun=true', /unknown query parameter "dryrun".*did you mean dry_run\?/],
      [
        '/portfolios/st/recalculate?dry_run=true&x=1',
        /unknown query parameter "x": this route takes only dry_run/,
      ],
      ['/runs/nightly?dry_run=true', /unknown query parameter "dry_run"/],
    ];
    for (const [url, mention] of cases)
      await expectRefusedUntouched('POST', url, undefined, {}, 400, mention);
  });

  it('refuses a body on routes that take none: dry_run in the body, any field, a non-object', async () => {
    for (const url of ['/portfolios/st/rebalance', '/portfolios/st/recalculate', '/runs/nightly']) {
      await expectRefusedUntouched('POST', url, { dry_run: true }, {}, 400, /takes no body/);
      await expectRefusedUntouched('POST', url, { anything: 1 }, {}, 400, /takes no body/);
      for (const raw of ['[]', 'null', '"dry"', '1', 'true']) {
        await expectRefusedUntouched('POST', url, raw, {}, 400, /takes no body/);
      }
    }
    const r = await api.call('POST', '/portfolios/st/recalculate', { dry_run: true });
    expect(r.json.details[0]).toMatch(/^body: got field "dry_run"; .*recalculate\?dry_run=true/);
    await expectRefusedUntouched(
      'DELETE',
      '/portfolios/st/businesses/st-a',
      { force: true },
      {},
      400,
      /takes no body/,
    );
  });

  it('refuses non-JSON bodies with a 415 that says what to send (text/plain included)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/csv']) {
      await expectRefusedUntouched(
        'POST',
        '/portfolios/st/rebalance',
        'hello',
        { 'content-type': type },
        415,
        new RegExp(`Content-Type: application/json \\(got Content-Type "${type.replace('/', '\\/')}"\\)`),
      );
    }
  });

  it('still takes the right forms: no body, an empty JSON body or {}, ?dry_run=true on recalculate', async () => {
    const dry = await api.call('POST', '/portfolios/st/recalculate?dry_run=true', {});
    expect(dry.status, dry.text).toBe(202);
    const waited = await api.call('POST', '/portfolios/st/recalculate', '', {
      'content-type': 'application/json',
    });
    expect(waited.status, waited.text).toBe(202);
    const applied = await api.call('POST', '/portfolios/st/rebalance');
    expect(applied.status, applied.text).toBe(200);
    expect(applied.json).toMatchObject({ status: 'rebalanced', applied: true, skipped: null });
  });
});

describe('unknown query parameters everywhere', () => {
  it('are a 400 naming them on every route, GET and HEAD included, and the known ones still work', async () => {
    // Bodies that pass validation (fastify checks the body before the query).
    const routes: [string, string, unknown?][] = [
      ['GET', '/portfolios/st'],
      ['GET', '/portfolios/owner/st-owner'],
      ['GET', '/portfolios/st/metrics'],
      ['GET', '/portfolios/st/ranking'],
      ['GET', '/portfolios/st/rebalance'],
      ['GET', '/portfolios/st/reports'],
      ['GET', '/jobs/x.y'],
      ['GET', '/healthz'],
      ['GET', '/readyz'],
      ['GET', '/metrics'],
      ['HEAD', '/portfolios/st'],
      ['POST', '/portfolios', { id: 'st-new', name: 'n', owner_id: 'o' }],
      ['PATCH', '/portfolios/st', { name: 'changed' }],
      ['POST', '/portfolios/st/businesses', { business_id: 'st-c' }],
      ['PUT', '/portfolios/st/businesses/st-a/allocation', { locked: true }],
      ['DELETE', '/portfolios/st/businesses/st-a'],
    ];
    const before = (await api.call('GET', '/portfolios/st')).json;
    for (const [method, path, body] of routes) {
      const r = await api.call(method as 'GET', `${path}?bogus=1`, body);
      expect(r.status, `${method} ${path}`).toBe(400);
      if (method !== 'HEAD') expect(r.json.message, path).toContain('unknown query parameter "bogus"');
    }
    expect((await api.call('GET', '/portfolios/st')).json).toEqual(before);
    expect(await api.app.store.get('st-new')).toBeNull();
    expect((await api.call('GET', '/portfolios/st/reports?limit=1')).status).toBe(200);
    const typo = await api.call('GET', '/portfolios/st/reports?limt=1');
    expect(typo.json.message).toBe(
      'invalid query: unknown query parameter "limt": this route takes only limit',
    );
    expect(typo.json.details).toEqual(['query: unknown query parameter "limt": this route takes only limit']);
  });

  it('says where the token goes when it is sent in the query, without repeating a long name', async () => {
    const r = await api.call('GET', '/portfolios/st?access_token=abc');
    expect(r.status).toBe(400);
    expect(r.json.message).toContain('the token goes in the Authorization header');
    const pasted = await api.call('GET', `/portfolios/st?${'s'.repeat(30)}`);
    expect(pasted.status).toBe(400);
    expect(pasted.text).not.toContain('s'.repeat(30));
  });

  it('names a short parameter (a cache-buster `_`), and never one that could be a token', async () => {
    const busted = await api.call('GET', '/portfolios/st?_=123');
    expect(busted.status).toBe(400);
    expect(busted.json.message).toBe('invalid query: unknown query parameter "_": this route takes none');
    const several = await api.call('GET', '/portfolios/st/reports?v=2&x.y-z_0=1&include_archived_items=1');
    expect(several.json.message).toBe(
      'invalid query: unknown query parameters "v", "x.y-z_0", "include_archived_items": this route takes only limit',
    );
    // Token-like (16 characters or more, not plain words), over 32 characters, or odd: not shown.
    const secrets = [TOKEN, 'a3f9c2e1b7d4a0c8e6f1b2d3', 'Xk9_pQ2-vL7mN4rT8wZ1', `words_${'x'.repeat(40)}`];
    for (const name of secrets) {
      const r = await api.call('GET', `/portfolios/st?${name}=1`);
      expect(r.status, name).toBe(400);
      expect(r.text, name).not.toContain(name);
      expect(r.json.message, name).toMatch(
        /^invalid query: unknown query parameter \(a long name, not shown: it could be a token\): this route takes none/,
      );
    }
    const odd = await api.call('GET', '/portfolios/st?a%20b=1');
    expect(odd.json.message).toBe(
      'invalid query: unknown query parameter (a name with unusual characters, not shown): this route takes none',
    );
  });
});

describe('ids', () => {
  it('refuses "owner" as a new portfolio id: /portfolios/owner/... is the owner listing', async () => {
    const r = await api.call('POST', '/portfolios', { id: 'owner', name: 'x', owner_id: 'o' });
    expect(r.status).toBe(400);
    expect(r.json.message).toContain('"owner" cannot be a portfolio id');
    expect(r.json.details).toEqual(['body.id: "owner" is reserved']);
    expect(await api.app.store.get('owner')).toBeNull();
    // Other ids that look like route words are fine: only `owner` collides.
    expect((await api.call('POST', '/portfolios', { id: 'metrics', name: 'x', owner_id: 'o' })).status).toBe(
      200,
    );
    expect((await api.call('GET', '/portfolios/metrics/metrics')).status).toBe(200);
  });

  it('answers an over-long path segment with a 400 that gives the id limits (not a 414)', async () => {
    for (const url of [
      `/portfolios/${'a'.repeat(300)}`,
      `/jobs/${'j'.repeat(300)}`,
      `/portfolios/st/businesses/${'b'.repeat(257)}`,
    ]) {
      const r = await api.call(url.includes('businesses') ? 'DELETE' : 'GET', url);
      expect(r.status, url).toBe(400);
      expect(r.json.message).toBe(
        'a path segment is too long: portfolio, business and owner ids are 1..64 characters, job ids 1..200',
      );
    }
    // Below the router's limit, validation names the id.
    const r = await api.call('GET', `/portfolios/${'a'.repeat(65)}`);
    expect(r.status).toBe(400);
    expect(r.json.details[0]).toMatch(/^path\.id: must be 1\.\.64 characters/);
  });
});

describe('updates that change nothing', () => {
  it('PATCH {} (or the values it has) answers the portfolio unchanged: same version, same updated_at', async () => {
    const before = (await api.call('GET', '/portfolios/st')).json;
    for (const body of [{}, { name: before.name }, { strategy: before.strategy, total_budget: null }]) {
      const r = await api.call('PATCH', '/portfolios/st', body);
      expect(r.status, JSON.stringify(body)).toBe(200);
      expect(r.json).toEqual({ status: 'updated', portfolio: before });
    }
    expect((await api.call('GET', '/portfolios/st')).json).toEqual(before);
    // A real change still writes a new version.
    const renamed = await api.call('PATCH', '/portfolios/st', { name: 'renamed' });
    expect(renamed.json.portfolio.version).toBe(before.version + 1);
  });

  it('PUT .../allocation {} (or the values it has) writes nothing either', async () => {
    const before = (await api.call('GET', '/portfolios/st')).json;
    for (const body of [{}, { priority: before.allocations['st-a'].priority }, { min_weight: null }]) {
      const r = await api.call('PUT', '/portfolios/st/businesses/st-a/allocation', body);
      expect(r.status, JSON.stringify(body)).toBe(200);
      expect(r.json).toEqual({ status: 'updated', portfolio: before });
    }
    const locked = await api.call('PUT', '/portfolios/st/businesses/st-a/allocation', { locked: true });
    expect(locked.json.portfolio.version).toBe(before.version + 1);
    // Still a 404 for an unknown business, whatever the body.
    expect((await api.call('PUT', '/portfolios/st/businesses/nope/allocation', {})).status).toBe(404);
  });
});

describe('the apply answer', () => {
  it('declares `skipped` as a report does: {reason} or null', async () => {
    const doc = (await api.call('GET', '/docs/json')).json;
    const ok =
      doc.paths['/portfolios/{id}/rebalance'].post.responses['200'].content['application/json'].schema;
    const skipped = ok.properties.skipped;
    const { description: _ours, ...shape } = skipped;
    const { description: _theirs, ...reportShape } = doc.components.schemas.Report.properties.skipped;
    expect(shape).toMatchObject({
      type: 'object',
      nullable: true,
      properties: { reason: { type: 'string' } },
    });
    expect(shape).toEqual(reportShape);
  });
});
