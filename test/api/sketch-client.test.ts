/**
 * A client written against the sketch's FastAPI routes (Task 21.3), replayed end to end over a
 * real socket against `startApi`, with a real worker behind the apply: the sketch's paths,
 * bodies, status codes and response keys still work; its defects are fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../../src/api/start-api.js';
import type { App } from '../../src/app.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { TOKEN } from './api-fixture.js';

const redis = useRedisPrefix('api-sketch');
const source = new MemoryMetricsSource();
let app: App;
let worker: RunningWorker;
let api: RunningApi;

beforeAll(async () => {
  app = testApp(redis.prefix, {
    metricsSource: source,
    env: { BALLAST_API_TOKEN: TOKEN, BALLAST_API_PORT: '0' },
  });
  worker = await startWorker(app);
  api = await startApi(app, app.config);
});
afterAll(async () => {
  await api?.close();
  await worker?.close();
  await app?.close();
});

/** What the sketch's clients did with `requests`: JSON in, status code and JSON out. */
async function http(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

describe('the sketch client, over a real socket', () => {
  it('listens on 127.0.0.1 by default and answers health checks without a token', async () => {
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await http('GET', '/healthz', undefined, null)).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await http('GET', '/portfolios/owner/dana', undefined, null)).status).toBe(401);
  });

  it('replays create, add, allocate, lock, metrics, ranking, preview, apply and the owner listing', async () => {
    source.set(
      wire('biz_1', 50_000, 20_000, { name: 'Alpha', health_score: 90, growth_rate: 12, customers: 500 }),
      wire('biz_2', 30_000, 6_000, { name: 'Beta', health_score: 60, growth_rate: 3, customers: 200 }),
      wire('biz_3', 20_000, -2_000, { name: 'Gamma', health_score: 40, growth_rate: -5, customers: 50 }),
      wire('biz_4', 10_000, 1_000, { name: 'Delta', health_score: 70, growth_rate: 8, customers: 80 }),
    );

    // create_portfolio: POST /portfolios/ -> {id, name, status}
    const created = await http('POST', '/portfolios/', {
      name: 'Sketch Portfolio',
      owner_id: 'user_1',
      strategy: 'performance',
      total_budget: 100000.0,
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'Sketch Portfolio', status: 'active' });
    const id: string = created.body.id;
    expect(id).toEqual(expect.any(String));

    // add_business: {business_id, weight?} -> {status: "added"}
    for (const business_id of ['biz_1', 'biz_2', 'biz_3']) {
      const added = await http('POST', `/portfolios/${id}/businesses`, { business_id, weight: null });
      expect(added).toMatchObject({ status: 200, body: { status: 'added' } });
    }
    expect(
      (await http('POST', `/portfolios/${id}/businesses`, { business_id: 'biz_4', weight: 0.1 })).status,
    ).toBe(200);

    // set_allocation: {weight?, priority?, locked?} -> {status: "updated"}; then lock one
    const allocated = await http('PUT', `/portfolios/${id}/businesses/biz_2/allocation`, {
      weight: 0.3,
      priority: 8,
    });
    expect(allocated).toMatchObject({ status: 200, body: { status: 'updated' } });
    const locked = await http('PUT', `/portfolios/${id}/businesses/biz_4/allocation`, { locked: true });
    expect(locked).toMatchObject({ status: 200, body: { status: 'updated' } });

    // get_portfolio: the sketch's keys
    const shown = await http('GET', `/portfolios/${id}`);
    expect(shown.status).toBe(200);
    expect(Object.keys(shown.body)).toEqual(
      expect.arrayContaining([
        'id',
        'name',
        'status',
        'strategy',
        'business_count',
        'total_budget',
        'businesses',
        'allocations',
      ]),
    );
    expect(shown.body.business_count).toBe(4);
    expect(shown.body.businesses).toEqual(['biz_1', 'biz_2', 'biz_3', 'biz_4']);
    expect(shown.body.allocations.biz_2).toMatchObject({
      weight: 0.3,
      budget_percent: 30,
      priority: 8,
      locked: false,
    });
    expect(shown.body.allocations.biz_4.locked).toBe(true);
    const lockedWeight: number = shown.body.allocations.biz_4.weight;
    expect(lockedWeight).toBeCloseTo(0.1, 9);
    const sum = Object.values(shown.body.allocations as Record<string, { weight: number }>).reduce(
      (s, a) => s + a.weight,
      0,
    );
    expect(sum).toBeCloseTo(1, 9);

    // get_metrics: the sketch's ten keys, profit summed from the businesses' own profit
    const metrics = await http('GET', `/portfolios/${id}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatchObject({
      total_revenue: 110_000,
      total_expenses: 85_000,
      total_profit: 25_000,
      total_customers: 830,
      active_businesses: 4,
      best_performer: 'biz_1',
      worst_performer: 'biz_3',
    });
    for (const key of ['net_margin', 'average_margin', 'growth_rate'])
      expect(metrics.body[key]).toEqual(expect.any(Number));

    // get_ranking: {rankings: [{rank, business_id, name, revenue, profit, margin, growth_rate, health_score, stage}]}
    const ranking = await http('GET', `/portfolios/${id}/ranking`);
    expect(ranking.status).toBe(200);
    expect(ranking.body.rankings[0]).toMatchObject({ rank: 1, business_id: 'biz_1', name: 'Alpha' });
    for (const entry of ranking.body.rankings) {
      expect(Object.keys(entry)).toEqual(
        expect.arrayContaining([
          'rank',
          'business_id',
          'name',
          'revenue',
          'profit',
          'margin',
          'growth_rate',
          'health_score',
          'stage',
        ]),
      );
    }

    // recommend_rebalance: {portfolio_id, strategy, total_reallocation, actions: [...]}
    const preview = await http('GET', `/portfolios/${id}/rebalance`);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ portfolio_id: id, strategy: 'performance' });
    expect(preview.body.total_reallocation).toEqual(expect.any(Number));
    for (const action of preview.body.actions) {
      expect(Object.keys(action)).toEqual(
        expect.arrayContaining(['business_id', 'action', 'current_weight', 'recommended_weight', 'reason']),
      );
      // Negative profit never yields a negative weight (sketch defect 1).
      expect(action.recommended_weight).toBeGreaterThanOrEqual(0);
    }
    const biz4 = preview.body.actions.find((a: { business_id: string }) => a.business_id === 'biz_4');
    expect(biz4).toMatchObject({ action: 'locked', recommended_weight: lockedWeight });
    const realChanges = preview.body.actions.filter(
      (a: { action: string }) => a.action === 'increase' || a.action === 'decrease',
    ).length;

    // apply_rebalance: {status: "rebalanced", changes: N}, N the real count (sketch defect 10)
    const applied = await http('POST', `/portfolios/${id}/rebalance`);
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({ status: 'rebalanced', changes: realChanges });
    expect(realChanges).toBeLessThan(preview.body.actions.length);
    const after = (await http('GET', `/portfolios/${id}`)).body;
    expect(after.allocations.biz_4.weight).toBe(lockedWeight);
    for (const a of preview.body.actions) {
      expect(after.allocations[a.business_id].weight).toBeCloseTo(a.recommended_weight, 12);
    }

    // update_portfolio, get_owner_portfolios
    expect(await http('PATCH', `/portfolios/${id}`, { name: 'Renamed', total_budget: 2e5 })).toMatchObject({
      status: 200,
      body: { status: 'updated' },
    });
    const owner = await http('GET', '/portfolios/owner/user_1');
    expect(owner).toEqual({
      status: 200,
      body: { portfolios: [{ id, name: 'Renamed', status: 'active', business_count: 4 }] },
    });

    // remove_business: {status: "removed"}
    expect(await http('DELETE', `/portfolios/${id}/businesses/biz_3`)).toMatchObject({
      status: 200,
      body: { status: 'removed' },
    });
  });

  it('gets the fixed answers where the sketch was wrong', async () => {
    const created = (await http('POST', '/portfolios', { name: 'Fixed', owner_id: 'user_2' })).body;
    // Unknown strategy: the sketch made it "equal"; here a 400 with details.
    const strategy = await http('POST', '/portfolios/', {
      name: 'x',
      owner_id: 'user_2',
      strategy: 'moonshot',
    });
    expect(strategy.status).toBe(400);
    expect(strategy.body.details.join(' ')).toContain('moonshot');
    // The ranking of an unknown portfolio: the sketch answered an empty list.
    expect((await http('GET', '/portfolios/not-there/ranking')).status).toBe(404);
    // Removing a business that was never added: the sketch answered "removed".
    expect((await http('DELETE', `/portfolios/${created.id}/businesses/never`)).status).toBe(404);
    // A weight of -3 and a priority of 99: the sketch accepted both.
    expect(
      (await http('POST', `/portfolios/${created.id}/businesses`, { business_id: 'b', weight: -3 })).status,
    ).toBe(400);
    await http('POST', `/portfolios/${created.id}/businesses`, { business_id: 'b' });
    expect(
      (await http('PUT', `/portfolios/${created.id}/businesses/b/allocation`, { priority: 99 })).status,
    ).toBe(400);
    // Errors keep the sketch's `detail` key next to {error, message, details}.
    const missing = await http('GET', '/portfolios/not-there');
    expect(missing.body).toMatchObject({ error: 'not-found', detail: 'portfolio not-there not found' });
  });
});
