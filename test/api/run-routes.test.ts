import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire } from '../helpers/memory-metrics.js';
import { useApi } from './api-fixture.js';

const api = useApi({ name: 'api-runs', worker: true });
let events: QueueEvents;

beforeAll(async () => {
  events = await api.app.queue.events(api.app.redis);
  api.source.set(
    wire('r-big', 3000, 900, {
      name: 'Big',
      growth_rate: 10,
      health_score: 90,
      customers: 30,
      expenses: 2100,
    }),
    wire('r-mid', 2000, 300, {
      name: 'Mid',
      growth_rate: 5,
      health_score: 60,
      customers: 20,
      expenses: 1700,
    }),
    wire('r-small', 1000, -100, {
      name: 'Small',
      growth_rate: -2,
      health_score: 30,
      customers: 10,
      expenses: 1100,
    }),
  );
});
afterAll(async () => {
  await events?.close();
});

async function seed(id: string, businesses: string[], body: Record<string, unknown> = {}) {
  const created = await api.call('POST', '/portfolios', {
    id,
    name: id,
    owner_id: 'runner',
    strategy: 'revenue',
    drift_threshold: 0,
    total_budget: 1000,
    ...body,
  });
  expect(created.status, created.text).toBe(200);
  for (const business_id of businesses) {
    const added = await api.call('POST', `/portfolios/${id}/businesses`, { business_id });
    expect(added.status, added.text).toBe(200);
  }
}

describe('metrics, ranking, preview', () => {
  it('rolls up live metrics with the sketch keys and the new ones', async () => {
    await seed('m1', ['r-big', 'r-mid', 'r-small', 'r-none']);
    const r = await api.call('GET', '/portfolios/m1/metrics/');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      total_revenue: 6000,
      total_expenses: 4900,
      total_profit: 1100,
      total_customers: 60,
      active_businesses: 4,
      businesses_with_metrics: 3,
      businesses_without_metrics: 1,
      best_performer: 'r-big',
      worst_performer: 'r-small',
      target_roi: 20,
      roi_met: true,
    });
    expect(r.json.net_margin).toBeCloseTo((1100 / 6000) * 100, 9);
    expect(r.json.roi).toBeCloseTo(110, 9);
    for (const key of ['average_margin', 'growth_rate', 'revenue_weighted_growth_rate']) {
      expect(r.json[key]).toEqual(expect.any(Number));
    }
  });

  it('ranks with the sketch keys; a business without metrics is listed unranked', async () => {
    const r = await api.call('GET', '/portfolios/m1/ranking');
    expect(r.status).toBe(200);
    expect(r.json.rankings.map((e: { business_id: string }) => e.business_id)).toEqual([
      'r-big',
      'r-mid',
      'r-small',
      'r-none',
    ]);
    expect(r.json.rankings[0]).toMatchObject({
      rank: 1,
      name: 'Big',
      revenue: 3000,
      profit: 900,
      growth_rate: 10,
      health_score: 90,
      stage: 'growth',
    });
    expect(r.json.rankings[3]).toMatchObject({ rank: null, business_id: 'r-none', revenue: null });
  });

  it('previews a rebalance without changing anything', async () => {
    const before = (await api.call('GET', '/portfolios/m1')).json;
    const r = await api.call('GET', '/portfolios/m1/rebalance');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ portfolio_id: 'm1', strategy: 'revenue', version: before.version });
    const byId = Object.fromEntries(r.json.actions.map((a: { business_id: string }) => [a.business_id, a]));
    expect(byId['r-big'].action).toBe('increase');
    expect(byId['r-small'].action).toBe('decrease');
    expect(byId['r-none']).toMatchObject({
      action: 'no-metrics',
      current_weight: 0.25,
      recommended_weight: 0.25,
    });
    expect(byId['r-big'].recommended_weight).toBeCloseTo(0.75 * 0.5, 9);
    const moves = r.json.actions.reduce(
      (sum: number, a: { current_weight: number; recommended_weight: number }) =>
        sum + Math.abs(a.recommended_weight - a.current_weight),
      0,
    );
    expect(r.json.total_reallocation).toBeCloseTo(moves, 12);
    expect(r.json.turnover).toBeCloseTo(moves / 2, 12);
    expect((await api.call('GET', '/portfolios/m1')).json).toEqual(before);
  });

  it('answers 404 for an unknown portfolio on metrics, ranking and preview, 400 for a bad id', async () => {
    for (const route of ['metrics', 'ranking', 'rebalance']) {
      const r = await api.call('GET', `/portfolios/ghost/${route}`);
      expect(r.status, route).toBe(404);
      expect(r.json.message).toContain('ghost');
      expect((await api.call('GET', `/portfolios/gh.ost/${route}`)).status).toBe(400);
    }
  });
});

describe('POST /portfolios/{id}/rebalance', () => {
  it('applies through the job and reports the real number of changes (maintain not counted)', async () => {
    // Equal weights already match the revenue split of a and b (1000 each); c moves.
    api.source.set(wire('ap-a', 1000, 100), wire('ap-b', 1000, 100), wire('ap-c', 2000, 100));
    await seed('apply', ['ap-a', 'ap-b', 'ap-c', 'ap-d'], { drift_threshold: 0.01 });
    const preview = (await api.call('GET', '/portfolios/apply/rebalance')).json;
    const moving = preview.actions.filter(
      (a: { action: string }) => a.action === 'increase' || a.action === 'decrease',
    );
    expect(preview.actions.length).toBe(4);
    expect(moving.length).toBeLessThan(4);

    const r = await api.call('POST', '/portfolios/apply/rebalance/');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      status: 'rebalanced',
      changes: moving.length,
      applied: true,
      skipped: null,
    });
    expect(r.json.job_id).toBe(`${r.json.run_id}.apply`);
    const after = (await api.call('GET', '/portfolios/apply')).json;
    expect(after.version).toBe(preview.version + 1);
    expect(after.last_run.run_id).toBe(r.json.run_id);
    for (const a of preview.actions)
      expect(after.allocations[a.business_id].weight).toBeCloseTo(a.recommended_weight, 12);

    const reports = (await api.call('GET', '/portfolios/apply/reports')).json;
    expect(reports.reports[0]).toMatchObject({
      run_id: r.json.run_id,
      applied: true,
      changes: moving.length,
    });
  });

  it('refuses an archived portfolio (409) and an unknown one (404) before queueing anything', async () => {
    await seed('archived', ['r-big'], { status: 'archived' });
    const archived = await api.call('POST', '/portfolios/archived/rebalance');
    expect(archived.status).toBe(409);
    expect(archived.json.message).toContain('archived');
    expect((await api.call('POST', '/portfolios/ghost/rebalance')).status).toBe(404);
    expect((await api.call('POST', '/portfolios/archived/recalculate')).status).toBe(409);
  });
});

describe('runs, jobs, reports', () => {
  it('enqueues a dry run (202) that publishes a report without applying', async () => {
    await seed('dry', ['r-big', 'r-small']);
    const before = (await api.call('GET', '/portfolios/dry')).json;
    const r = await api.call('POST', '/portfolios/dry/recalculate?dry_run=true');
    expect(r.status).toBe(202);
    expect(r.json).toEqual({
      job_id: expect.stringMatching(/\.dry$/),
      run_id: expect.stringMatching(/^manual-/),
    });
    await api.app.queue.waitFor(r.json.job_id, events, 20_000);

    const job = await api.call('GET', `/jobs/${r.json.job_id}`);
    expect(job.status).toBe(200);
    expect(job.json).toMatchObject({
      id: r.json.job_id,
      name: 'recalculate',
      state: 'completed',
      failed_reason: null,
      attempts_made: expect.any(Number),
      data: { portfolio_id: 'dry', run_id: r.json.run_id, dry_run: true, trigger: 'manual' },
      result: { portfolio_id: 'dry', applied: false, dry_run: true },
    });
    expect(job.json.finished_at).toEqual(expect.any(String));
    expect((await api.call('GET', '/portfolios/dry')).json).toEqual(before);
    const reports = await api.call('GET', '/portfolios/dry/reports?limit=5');
    expect(reports.json.portfolio_id).toBe('dry');
    expect(reports.json.reports[0]).toMatchObject({ run_id: r.json.run_id, dry_run: true, applied: false });
  });

  it('lists reports newest first and honours the limit; validates the limit and dry_run', async () => {
    const first = await api.call('POST', '/portfolios/dry/recalculate?dry_run=false');
    await api.app.queue.waitFor(first.json.job_id, events, 20_000);
    const second = await api.call('POST', '/portfolios/dry/recalculate');
    await api.app.queue.waitFor(second.json.job_id, events, 20_000);
    const all = (await api.call('GET', '/portfolios/dry/reports')).json.reports;
    expect(all.map((x: { run_id: string }) => x.run_id).slice(0, 2)).toEqual([
      second.json.run_id,
      first.json.run_id,
    ]);
    expect((await api.call('GET', '/portfolios/dry/reports?limit=1')).json.reports).toHaveLength(1);
    for (const limit of ['0', '1001', 'ten', '-1', '1.5']) {
      const r = await api.call('GET', `/portfolios/dry/reports?limit=${limit}`);
      expect(r.status, limit).toBe(400);
      expect(r.json.details[0]).toMatch(/^query\.limit: /);
    }
    expect((await api.call('POST', '/portfolios/dry/recalculate?dry_run=maybe')).status).toBe(400);
    expect((await api.call('GET', '/portfolios/ghost/reports')).status).toBe(404);
    expect((await api.call('POST', '/portfolios/ghost/recalculate')).status).toBe(404);
  });

  it('runs the nightly fan-out (202) and follows it at /jobs/{job_id}', async () => {
    const r = await api.call('POST', '/runs/nightly/');
    expect(r.status).toBe(202);
    expect(r.json.job_id).toBe(`nightly.${r.json.run_id}`);
    await api.app.queue.waitFor(r.json.job_id, events, 20_000);
    const job = await api.call('GET', `/jobs/${r.json.job_id}`);
    expect(job.json).toMatchObject({
      name: 'nightly',
      state: 'completed',
      result: { run_id: r.json.run_id },
    });
    expect(job.json.result.total).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown job and 400 for a job id outside the pattern', async () => {
    const missing = await api.call('GET', '/jobs/manual-x.nobody');
    expect(missing.status).toBe(404);
    expect(missing.json.message).toContain('manual-x.nobody');
    expect((await api.call('GET', '/jobs/a%20b')).status).toBe(400);
    expect((await api.call('GET', `/jobs/${'j'.repeat(201)}`)).status).toBe(400);
  });
});
