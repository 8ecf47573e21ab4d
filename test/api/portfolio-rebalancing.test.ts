/** rebalance_trigger, drift_type and min_trade through POST and PATCH /portfolios (issue 16). */
import { describe, expect, it } from 'vitest';
import { useApi } from './api-fixture.js';

const api = useApi({ name: 'api-rebalancing' });

function expectInvalid(r: { status: number; json: { error: string; details: string[] } }, mention: string) {
  expect(r.status, JSON.stringify(r.json)).toBe(400);
  expect(r.json.error).toBe('invalid');
  expect(r.json.details.join('\n')).toContain(mention);
}

describe('rebalancing options over HTTP', () => {
  it('default to allocation, absolute and none, and are shown on every portfolio', async () => {
    const r = await api.call('POST', '/portfolios', { id: 'reb-default', name: 'D', owner_id: 'owner-1' });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      rebalance_trigger: 'allocation',
      drift_type: 'absolute',
      min_trade: null,
    });
  });

  it('are set on create and PATCH; null on PATCH resets min_trade and leaves the others', async () => {
    const created = await api.call('POST', '/portfolios', {
      id: 'reb-set',
      name: 'S',
      owner_id: 'owner-1',
      rebalance_trigger: 'portfolio',
      drift_type: 'relative',
      min_trade: 0.01,
    });
    expect(created.status, created.text).toBe(200);
    expect(created.json).toMatchObject({
      rebalance_trigger: 'portfolio',
      drift_type: 'relative',
      min_trade: 0.01,
    });

    const patched = await api.call('PATCH', '/portfolios/reb-set', {
      rebalance_trigger: null,
      drift_type: 'absolute',
      min_trade: null,
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.portfolio).toMatchObject({
      rebalance_trigger: 'portfolio',
      drift_type: 'absolute',
      min_trade: null,
      version: 2,
    });
    const again = await api.call('PATCH', '/portfolios/reb-set', { drift_type: 'absolute' });
    expect(again.json.portfolio.version).toBe(2);
  });

  it('refuses unknown values and a min_trade outside [0, 1), naming the field', async () => {
    const body = { name: 'B', owner_id: 'owner-1' };
    expectInvalid(
      await api.call('POST', '/portfolios', { ...body, rebalance_trigger: 'daily' }),
      'rebalance_trigger',
    );
    expectInvalid(await api.call('POST', '/portfolios', { ...body, drift_type: 'percent' }), 'drift_type');
    expectInvalid(await api.call('POST', '/portfolios', { ...body, min_trade: 1 }), 'min_trade');
    expectInvalid(await api.call('POST', '/portfolios', { ...body, min_trade: -0.1 }), 'min_trade');
    await api.call('POST', '/portfolios', { ...body, id: 'reb-bad' });
    expectInvalid(await api.call('PATCH', '/portfolios/reb-bad', { min_trade: '0.01' }), 'min_trade');
    expectInvalid(
      await api.call('PATCH', '/portfolios/reb-bad', { rebalance_trigger: 'x' }),
      'rebalance_trigger',
    );
    expect((await api.call('GET', '/portfolios/reb-bad')).json.version).toBe(1);
  });
});
