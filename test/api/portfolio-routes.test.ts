import { describe, expect, it } from 'vitest';
import { useApi } from './api-fixture.js';

const api = useApi({ name: 'api-portfolios' });

async function create(body: Record<string, unknown>) {
  const r = await api.call('POST', '/portfolios', { name: 'Test', owner_id: 'owner-1', ...body });
  expect(r.status, r.text).toBe(200);
  return r.json;
}

function expectInvalid(
  r: { status: number; json: { error: string; message: string; details: string[] } },
  mention: string,
) {
  expect(r.status).toBe(400);
  expect(r.json.error).toBe('invalid');
  expect(r.json.message).toEqual(expect.any(String));
  expect(r.json.details.join('\n')).toContain(mention);
}

describe('POST /portfolios', () => {
  it('creates with the sketch defaults and answers 200 with id, name and status', async () => {
    const r = await api.call('POST', '/portfolios', { name: 'Sketch', owner_id: 'owner-1' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'Sketch', status: 'active', strategy: 'equal', total_budget: 0 });
    expect(r.json.id).toMatch(/^p-[0-9a-f]{12}$/);
    expect(r.json.version).toBe(1);
  });

  it('accepts the trailing slash of the sketch (`POST /portfolios/`) and every optional field', async () => {
    const r = await api.call('POST', '/portfolios/', {
      id: 'full',
      name: 'Full',
      owner_id: 'owner-1',
      strategy: 'revenue',
      total_budget: 5000,
      status: 'paused',
      target_roi: 12,
      drift_threshold: 0.01,
      attention_hours_per_week: 20,
      max_turnover: 0.3,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      id: 'full',
      strategy: 'revenue',
      total_budget: 5000,
      status: 'paused',
      target_roi: 12,
      drift_threshold: 0.01,
      attention_hours_per_week: 20,
      max_turnover: 0.3,
    });
  });

  it('refuses an unknown strategy or status (the sketch turned it into equal)', async () => {
    expectInvalid(
      await api.call('POST', '/portfolios', { name: 'x', owner_id: 'o', strategy: 'magic' }),
      'strategy',
    );
    expectInvalid(
      await api.call('POST', '/portfolios', { name: 'x', owner_id: 'o', status: 'gone' }),
      'status',
    );
  });

  it('refuses a non-numeric or negative budget, a bad id, a missing name, an unknown field', async () => {
    expectInvalid(
      await api.call('POST', '/portfolios', { name: 'x', owner_id: 'o', total_budget: 'lots' }),
      'total_budget',
    );
    expectInvalid(
      await api.call('POST', '/portfolios', { name: 'x', owner_id: 'o', total_budget: -1 }),
      'total_budget',
    );
    expectInvalid(await api.call('POST', '/portfolios', { name: 'x', owner_id: 'o w' }), 'owner_id');
    expectInvalid(await api.call('POST', '/portfolios', { name: 'x', owner_id: 'o', id: 'a:b' }), 'id');
    expectInvalid(await api.call('POST', '/portfolios', { owner_id: 'o' }), 'name');
    expectInvalid(await api.call('POST', '/portfolios', { name: '   ', owner_id: 'o' }), 'name');
    expectInvalid(
      await api.call('POST', '/portfolios', { name: 'x', owner_id: 'o', colour: 'red' }),
      'colour',
    );
    expectInvalid(
      await api.call('POST', '/portfolios', { name: 'x', owner_id: 'o', drift_threshold: 2 }),
      'drift',
    );
  });

  it('refuses broken JSON, an empty or non-object body with details, and a body over the limit', async () => {
    const broken = await api.call('POST', '/portfolios', '{"name": "x", ');
    expect(broken.status).toBe(400);
    expect(broken.json.message).toContain('not valid JSON');
    expect(broken.json.details[0]).toMatch(/^body: /);
    expectInvalid(await api.call('POST', '/portfolios', ''), 'body');
    expectInvalid(await api.call('POST', '/portfolios', '[1,2]'), 'body');
    expectInvalid(await api.call('POST', '/portfolios', 'null'), 'body');
    const poisoned = await api.call(
      'POST',
      '/portfolios',
      '{"name":"x","owner_id":"o","__proto__":{"admin":true}}',
    );
    expect(poisoned.status).toBe(400);
    const big = await api.call('POST', '/portfolios', { name: 'x'.repeat(70_000), owner_id: 'o' });
    expect(big.status).toBe(413);
    expect(big.json.message).toEqual(expect.any(String));
    // Only JSON is parsed: text/plain is a 415 too (README's error table), not a string body.
    const text = await api.call('POST', '/portfolios', 'name=x', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.json).toMatchObject({ error: 'unsupported-media-type' });
    expect(text.json.message).toContain('application/json (got Content-Type "text/plain")');
    const form = await api.call('POST', '/portfolios', 'name=x', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect(form.json.message).toEqual(expect.any(String));
  });

  it('refuses an id that exists (409)', async () => {
    await create({ id: 'dup' });
    const r = await api.call('POST', '/portfolios', { id: 'dup', name: 'again', owner_id: 'o' });
    expect(r.status).toBe(409);
    expect(r.json.message).toContain('already exists');
  });
});

describe('GET /portfolios/{id} and /portfolios/owner/{owner_id}', () => {
  it('shows the full wire portfolio, with or without a trailing slash', async () => {
    await create({ id: 'show-me', strategy: 'growth' });
    for (const url of ['/portfolios/show-me', '/portfolios/show-me/']) {
      const r = await api.call('GET', url);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ id: 'show-me', strategy: 'growth', businesses: [], allocations: {} });
    }
  });

  it('answers 404 for an unknown portfolio and 400 for an id outside the pattern', async () => {
    const missing = await api.call('GET', '/portfolios/nobody-here');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error: 'not-found', detail: 'portfolio nobody-here not found' });
    for (const bad of ['a.b', 'a%20b', 'x'.repeat(65), '%F0%9F%92%A5', 'a%2Fb']) {
      const r = await api.call('GET', `/portfolios/${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.json.details[0]).toMatch(/^path\.id: /);
    }
  });

  it("lists an owner's portfolios in the sketch's shape; an unknown owner has none", async () => {
    await create({ id: 'own-1', owner_id: 'lister', name: 'One' });
    await create({ id: 'own-2', owner_id: 'lister', name: 'Two' });
    await api.call('POST', '/portfolios/own-2/businesses', { business_id: 'b1' });
    const r = await api.call('GET', '/portfolios/owner/lister/');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      portfolios: [
        { id: 'own-1', name: 'One', status: 'active', business_count: 0 },
        { id: 'own-2', name: 'Two', status: 'active', business_count: 1 },
      ],
    });
    expect((await api.call('GET', '/portfolios/owner/nobody')).json).toEqual({ portfolios: [] });
    expect((await api.call('GET', '/portfolios/owner/bad!owner')).status).toBe(400);
  });
});

describe('PATCH /portfolios/{id}', () => {
  it('updates and answers {status: "updated"} with the portfolio; null means "leave it" as in the sketch', async () => {
    await create({ id: 'patch-me', max_turnover: 0.5 });
    const r = await api.call('PATCH', '/portfolios/patch-me', {
      name: 'Renamed',
      status: 'paused',
      strategy: 'performance',
      total_budget: 1000,
      target_roi: null,
      max_turnover: null,
    });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('updated');
    expect(r.json.portfolio).toMatchObject({
      name: 'Renamed',
      status: 'paused',
      strategy: 'performance',
      total_budget: 1000,
      target_roi: 20,
      max_turnover: null,
      version: 2,
    });
  });

  it('refuses an unknown status or strategy, a bad budget, and answers 404 for an unknown portfolio', async () => {
    await create({ id: 'patch-bad' });
    expectInvalid(await api.call('PATCH', '/portfolios/patch-bad', { status: 'deleted' }), 'status');
    expectInvalid(await api.call('PATCH', '/portfolios/patch-bad', { strategy: 'random' }), 'strategy');
    expectInvalid(await api.call('PATCH', '/portfolios/patch-bad', { total_budget: '12' }), 'total_budget');
    expectInvalid(await api.call('PATCH', '/portfolios/patch-bad', { owner_id: 'someone' }), 'owner_id');
    expect((await api.call('PATCH', '/portfolios/patch-nobody', { name: 'x' })).status).toBe(404);
    expect((await api.call('GET', '/portfolios/patch-bad')).json.version).toBe(1);
  });
});

describe('businesses', () => {
  it('adds with {status: "added"}; equal re-spreads; a weight goes to the new business under other strategies', async () => {
    await create({ id: 'biz-eq' });
    for (const b of ['b1', 'b2', 'b3']) {
      const r = await api.call('POST', '/portfolios/biz-eq/businesses', { business_id: b });
      expect(r.status).toBe(200);
      expect(r.json.status).toBe('added');
    }
    const eq = (await api.call('GET', '/portfolios/biz-eq')).json;
    expect(eq.businesses).toEqual(['b1', 'b2', 'b3']);
    for (const b of ['b1', 'b2', 'b3']) expect(eq.allocations[b].weight).toBeCloseTo(1 / 3, 12);

    await create({ id: 'biz-rev', strategy: 'revenue' });
    await api.call('POST', '/portfolios/biz-rev/businesses', { business_id: 'a', weight: null });
    const r = await api.call('POST', '/portfolios/biz-rev/businesses', { business_id: 'b', weight: 0.25 });
    expect(r.json.portfolio.allocations.b.weight).toBe(0.25);
    expect(r.json.portfolio.allocations.a.weight).toBeCloseTo(0.75, 12);
  });

  it('refuses weights outside [0,1], bad ids, duplicates, a weight under equal, and unknown portfolios', async () => {
    await create({ id: 'biz-bad', strategy: 'revenue' });
    await api.call('POST', '/portfolios/biz-bad/businesses', { business_id: 'b1' });
    for (const weight of [-3, 1.5, 'half', true]) {
      expectInvalid(
        await api.call('POST', '/portfolios/biz-bad/businesses', { business_id: 'b2', weight }),
        'weight',
      );
    }
    expectInvalid(
      await api.call('POST', '/portfolios/biz-bad/businesses', { business_id: 'no spaces' }),
      'business_id',
    );
    expectInvalid(await api.call('POST', '/portfolios/biz-bad/businesses', {}), 'business_id');
    expect((await api.call('POST', '/portfolios/biz-bad/businesses', { business_id: 'b1' })).status).toBe(
      409,
    );
    expect((await api.call('POST', '/portfolios/biz-none/businesses', { business_id: 'b1' })).status).toBe(
      404,
    );
    await create({ id: 'biz-equal' });
    const equal = await api.call('POST', '/portfolios/biz-equal/businesses', {
      business_id: 'b1',
      weight: 0.5,
    });
    expect(equal.status).toBe(400);
    expect(equal.json.message).toContain('equal strategy');
  });

  it('removes with {status: "removed"}; an unknown business or portfolio is a 404, not "removed"', async () => {
    await create({ id: 'rm' });
    await api.call('POST', '/portfolios/rm/businesses', { business_id: 'b1' });
    await api.call('POST', '/portfolios/rm/businesses', { business_id: 'b2' });
    const r = await api.call('DELETE', '/portfolios/rm/businesses/b1');
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('removed');
    expect(r.json.portfolio.allocations).toEqual({ b2: expect.objectContaining({ weight: 1 }) });
    const again = await api.call('DELETE', '/portfolios/rm/businesses/b1');
    expect(again.status).toBe(404);
    expect(again.json.message).toContain('b1');
    expect((await api.call('DELETE', '/portfolios/rm-none/businesses/b1')).status).toBe(404);
    expect((await api.call('DELETE', '/portfolios/rm/businesses/b%201')).status).toBe(400);
  });

  it('sets an allocation with {status: "updated"}; the others absorb the difference', async () => {
    await create({ id: 'alloc', strategy: 'custom' });
    for (const b of ['a', 'b', 'c'])
      await api.call('POST', '/portfolios/alloc/businesses', { business_id: b });
    const r = await api.call('PUT', '/portfolios/alloc/businesses/a/allocation/', {
      weight: 0.5,
      priority: 9,
      locked: true,
      min_weight: 0.1,
      max_weight: 0.9,
      target_weight: 0.5,
    });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('updated');
    const a = r.json.portfolio.allocations;
    expect(a.a).toMatchObject({
      weight: 0.5,
      priority: 9,
      locked: true,
      min_weight: 0.1,
      max_weight: 0.9,
      target_weight: 0.5,
    });
    expect(a.b.weight + a.c.weight).toBeCloseTo(0.5, 12);
    const cleared = await api.call('PUT', '/portfolios/alloc/businesses/a/allocation', {
      min_weight: null,
      priority: null,
    });
    expect(cleared.json.portfolio.allocations.a).toMatchObject({ min_weight: null, priority: 9 });
  });

  it('refuses a priority outside 1..10, a weight outside [0,1], bad types; 404 for unknown ids; 409 when locks forbid it', async () => {
    await create({ id: 'alloc-bad', strategy: 'revenue' });
    for (const b of ['a', 'b'])
      await api.call('POST', '/portfolios/alloc-bad/businesses', { business_id: b });
    const url = '/portfolios/alloc-bad/businesses/a/allocation';
    for (const priority of [0, 11, 99, 2.5, '5'])
      expectInvalid(await api.call('PUT', url, { priority }), 'priority');
    for (const weight of [-0.1, 2]) expectInvalid(await api.call('PUT', url, { weight }), 'weight');
    expectInvalid(await api.call('PUT', url, { locked: 'yes' }), 'locked');
    expectInvalid(await api.call('PUT', url, { min_weight: 0.8, max_weight: 0.2 }), 'min_weight');
    expect(
      (await api.call('PUT', '/portfolios/alloc-bad/businesses/zz/allocation', { priority: 2 })).status,
    ).toBe(404);
    expect(
      (await api.call('PUT', '/portfolios/alloc-none/businesses/a/allocation', { priority: 2 })).status,
    ).toBe(404);
    await api.call('PUT', '/portfolios/alloc-bad/businesses/b/allocation', { locked: true });
    const refused = await api.call('PUT', url, { locked: true, min_weight: 0.9 });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toBe('refused');
  });
});
