/**
 * Runs and jobs over HTTP: GET /runs, GET /runs/{id}, DELETE /runs/{id}/pending, GET /jobs and
 * DELETE /jobs/{id}, first with no worker (what waits), then with one (what a run did).
 */
import { describe, expect, it } from 'vitest';
import { startWorker } from '../../src/runtime/worker.js';
import { wire } from '../helpers/memory-metrics.js';
import { useApi } from './api-fixture.js';

const api = useApi({ name: 'api-run-list', env: { BALLAST_GUARDS: 'off' } });

async function portfolio(id: string): Promise<void> {
  api.source.set(wire('l1', 100, 10), wire('l2', 300, 10));
  const created = await api.call('POST', '/portfolios', {
    id,
    name: id,
    owner_id: 'o',
    strategy: 'revenue',
    drift_threshold: 0,
  });
  expect(created.status, created.text).toBe(200);
  for (const business of ['l1', 'l2']) {
    const added = await api.call('POST', `/portfolios/${id}/businesses`, { business_id: business });
    expect(added.status, added.text).toBe(200);
  }
}

describe('runs and jobs over HTTP', () => {
  let queuedRun: string;

  it('a queued run is listed with its job; cancelling it removes its fan-out', async () => {
    await portfolio('la');
    await portfolio('lb');
    const queued = await api.call('POST', '/runs/nightly');
    expect(queued.status).toBe(202);
    queuedRun = queued.json.run_id;

    const runs = await api.call('GET', '/runs');
    expect(runs.status).toBe(200);
    expect(runs.json.runs[0]).toMatchObject({
      run_id: queuedRun,
      state: 'queued',
      trigger: 'manual',
      actor: 'api:default',
      total: null,
    });
    const jobs = await api.call('GET', '/jobs?state=waiting');
    expect(jobs.status).toBe(200);
    expect(jobs.json.jobs.map((j: { id: string }) => j.id)).toContain(`nightly.${queuedRun}`);

    const cancelled = await api.call('DELETE', `/runs/${queuedRun}/pending`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({ run_id: queuedRun, fan_out_cancelled: true, state: 'cancelled' });
    const shown = await api.call('GET', `/runs/${queuedRun}`);
    expect(shown.json).toMatchObject({ state: 'cancelled', cancelled_by: 'api:default', portfolios: [] });
    const twice = await api.call('DELETE', `/runs/${queuedRun}/pending`);
    expect(twice.status).toBe(409);
    expect(twice.json.message).toMatch(/is cancelled/);
  });

  it('cancels a waiting job, and refuses one that is gone', async () => {
    const queued = await api.call('POST', '/portfolios/la/recalculate');
    expect(queued.status).toBe(202);
    const jobId = queued.json.job_id as string;
    const cancelled = await api.call('DELETE', `/jobs/${jobId}`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({ job_id: jobId, portfolio_id: 'la', cancelled: true });
    const gone = await api.call('DELETE', `/jobs/${jobId}`);
    expect(gone.status).toBe(404);
    expect((await api.call('GET', '/jobs')).json.jobs).toEqual([]);
  });

  it('shows what a finished run did to each portfolio', async () => {
    const worker = await startWorker(api.app);
    try {
      const queued = await api.call('POST', '/runs/nightly');
      const runId = queued.json.run_id as string;
      await expect
        .poll(async () => (await api.call('GET', `/runs/${runId}`)).json.state, { timeout: 20_000 })
        .toBe('finished');
      const shown = await api.call('GET', `/runs/${runId}?limit=1`);
      expect(shown.status).toBe(200);
      expect(shown.json).toMatchObject({ run_id: runId, total: 2, done: 2, counts: { changed: 2 } });
      expect(shown.json.portfolios_total).toBe(2);
      expect(shown.json.portfolios).toHaveLength(1);
      expect(shown.json.portfolios[0]).toMatchObject({ portfolio_id: 'la', outcome: 'changed' });
      expect(shown.json.portfolios[0].turnover).toBeGreaterThan(0);
      const list = await api.call('GET', '/runs?limit=2');
      expect(list.json.runs.map((r: { run_id: string }) => r.run_id)).toEqual([runId, queuedRun]);
    } finally {
      await worker.close();
    }
  });

  it('refuses bad input with a 400 naming it, and an unknown run with a 404', async () => {
    const badLimit = await api.call('GET', '/runs?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.text).toMatch(/limit/);
    const badState = await api.call('GET', '/jobs?state=sleeping');
    expect(badState.status).toBe(400);
    expect(badState.text).toMatch(/waiting, active, delayed, failed/);
    const badOutcome = await api.call('GET', `/runs/${queuedRun}?outcome=exploded`);
    expect(badOutcome.status).toBe(400);
    const unknown = await api.call('GET', '/runs/cron-19990101T000000Z');
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toMatch(/not found/);
    const badId = await api.call('GET', '/runs/bad.id');
    expect(badId.status).toBe(400);
  });
});
