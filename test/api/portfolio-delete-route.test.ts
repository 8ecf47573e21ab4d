/** DELETE /portfolios/{id}: refused while one of its jobs runs, then every key of it gone. */
import { describe, expect, it } from 'vitest';
import { wire } from '../helpers/memory-metrics.js';
import { useApi } from './api-fixture.js';

const api = useApi({ name: 'api-delete', worker: true, env: { BALLAST_GUARDS: 'off' } });

describe('DELETE /portfolios/{id}', () => {
  it('is refused while a job of the portfolio runs, then deletes it', async () => {
    api.source.set(wire('d1', 100, 10), wire('d2', 300, 10));
    expect((await api.call('POST', '/portfolios', { id: 'gone', name: 'Gone', owner_id: 'o' })).status).toBe(
      200,
    );
    for (const business_id of ['d1', 'd2']) {
      expect((await api.call('POST', '/portfolios/gone/businesses', { business_id })).status).toBe(200);
    }
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const inFetch = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    api.source.beforeAnswer = async () => {
      entered();
      await gate;
    };
    try {
      const queued = await api.call('POST', '/portfolios/gone/recalculate');
      expect(queued.status).toBe(202);
      await inFetch;
      const refused = await api.call('DELETE', '/portfolios/gone');
      expect(refused.status).toBe(409);
      expect(refused.json.message).toContain(`has a job running (${queued.json.job_id})`);
      release();
      await expect
        .poll(async () => (await api.call('GET', `/jobs/${queued.json.job_id}`)).json.state, {
          timeout: 20_000,
        })
        .toBe('completed');
    } finally {
      api.source.beforeAnswer = undefined;
      release();
    }
    const deleted = await api.call('DELETE', '/portfolios/gone');
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.json).toMatchObject({ portfolio_id: 'gone', deleted: true, businesses: 2 });
    expect((await api.call('GET', '/portfolios/gone')).status).toBe(404);
    expect((await api.call('GET', '/portfolios/gone/reports')).status).toBe(404);
    const audit = await api.call('GET', '/audit?portfolio=gone&limit=1');
    expect(audit.json.entries[0]).toMatchObject({
      actor: 'api:default',
      cause: { command: 'DELETE /portfolios/{id}' },
    });
    expect((await api.call('DELETE', '/portfolios/gone')).status).toBe(404);
  });
});
