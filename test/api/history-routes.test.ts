/** History and undo over HTTP: named tokens in the audit, history, restore, revert of a run. */
import { describe, expect, it } from 'vitest';
import { recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import { wire } from '../helpers/memory-metrics.js';
import { useApi } from './api-fixture.js';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef00';
const api = useApi({
  name: 'api-history',
  worker: true,
  server: {
    tokens: [
      { name: 'alice', token: ALICE },
      { name: 'bob', token: BOB },
    ],
  },
});
const as = (token: string) => ({ authorization: `Bearer ${token}` });

async function portfolio(id: string, businesses: string[]) {
  expect(
    (
      await api.call(
        'POST',
        '/portfolios',
        // A run from equal weights here moves a third: applied, not held (guards have their own tests).
        { id, name: id, owner_id: 'o', strategy: 'revenue', drift_threshold: 0, max_auto_turnover: 1 },
        as(ALICE),
      )
    ).status,
  ).toBe(200);
  for (const b of businesses) {
    expect(
      (await api.call('POST', `/portfolios/${id}/businesses`, { business_id: b }, as(ALICE))).status,
    ).toBe(200);
  }
}
const weights = async (id: string) => {
  const p = (await api.call('GET', `/portfolios/${id}`)).json;
  return Object.fromEntries(
    Object.entries(p.allocations).map(([k, v]) => [k, (v as { weight: number }).weight]),
  );
};

describe('history and audit routes', () => {
  it('names each token in history and audit, never the token itself; an unknown token is a 401', async () => {
    await portfolio('hp', ['a', 'b']);
    const edit = await api.call('PUT', '/portfolios/hp/businesses/a/allocation', { weight: 0.3 }, as(BOB));
    expect(edit.status, edit.text).toBe(200);
    // The same values again: no write, no record.
    const same = await api.call('PUT', '/portfolios/hp/businesses/a/allocation', { weight: 0.3 }, as(BOB));
    expect(same.json.portfolio.version).toBe(edit.json.portfolio.version);

    const history = await api.call('GET', '/portfolios/hp/history?limit=2', undefined, as(ALICE));
    expect(history.status, history.text).toBe(200);
    expect(history.json.history.map((r: { actor: string }) => r.actor)).toEqual(['api:bob', 'api:alice']);
    expect(history.json.history[0]).toMatchObject({
      cause: { type: 'edit', command: 'PUT /portfolios/{id}/businesses/{business_id}/allocation' },
      changes: 'a 50% -> 30%, b 50% -> 70%',
    });
    expect(history.json.current_version).toBe(edit.json.portfolio.version);

    const audit = await api.call('GET', '/audit?portfolio=hp&actor=api:bob');
    expect(audit.json.entries).toHaveLength(1);
    const all = await api.call('GET', '/audit?portfolio=hp&since=1h&limit=50');
    expect(new Set(all.json.entries.map((e: { actor: string }) => e.actor))).toEqual(
      new Set(['api:alice', 'api:bob']),
    );
    const raw = JSON.stringify([
      await api.app.redis.xrange(api.app.keys.history('hp'), '-', '+'),
      await api.app.redis.xrange(api.app.keys.audit, '-', '+'),
    ]);
    expect(raw).not.toContain(ALICE);
    expect(raw).not.toContain(BOB);

    expect((await api.call('GET', '/audit', undefined, as('nobody-0123456789abcdefgh'))).status).toBe(401);
    const bad = await api.call('GET', '/audit?since=yesterday-ish');
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('since');
    expect((await api.call('GET', '/portfolios/nope/history')).status).toBe(404);
  });

  it('restores a version; refuses one whose businesses differ, one not kept, and bad bodies', async () => {
    await portfolio('rp', ['a', 'b']);
    const v = (await api.call('GET', '/portfolios/rp')).json.version;
    const before = await weights('rp');
    await api.call('PUT', '/portfolios/rp/businesses/a/allocation', { weight: 0.2, locked: true });
    const dry = await api.call('POST', '/portfolios/rp/restore', { version: v, dry_run: true });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json).toMatchObject({ dry_run: true, changed: true });
    expect((await weights('rp')).a).toBe(0.2);
    const done = await api.call('POST', '/portfolios/rp/restore', { version: v });
    expect(done.json).toMatchObject({ changed: true, version_after: v + 2 });
    expect(await weights('rp')).toEqual(before);

    await api.call('POST', '/portfolios/rp/businesses', { business_id: 'c' });
    const refused = await api.call('POST', '/portfolios/rp/restore', { version: v });
    expect(refused.status).toBe(409);
    expect(refused.json.message).toContain('c, not in version');
    expect((await api.call('POST', '/portfolios/rp/restore', { version: 999 })).status).toBe(404);
    for (const body of [{ version: 0 }, { version: 'abc' }, { version: 1, extra: true }, {}]) {
      expect((await api.call('POST', '/portfolios/rp/restore', body)).status, JSON.stringify(body)).toBe(400);
    }
  });

  it('reverts a run exactly, then reports it already reverted; an unknown run is a 404', async () => {
    api.source.set(wire('x1', 900, 10), wire('x2', 100, 10));
    await portfolio('vp', ['x1', 'x2']);
    const before = await weights('vp');
    const runId = 'manual-api-revert';
    const jobId = recalculateJobId(runId, 'vp');
    const events = await api.app.queue.events(api.app.redis);
    try {
      await api.app.queue.add({
        name: 'recalculate',
        data: { portfolioId: 'vp', runId, trigger: 'manual', dryRun: false },
        jobId,
        priority: OPERATOR_PRIORITY,
      });
      await api.app.queue.waitFor(jobId, events, 20_000);
    } finally {
      await events.close();
    }
    expect(await weights('vp')).not.toEqual(before);
    const revert = await api.call('POST', `/runs/${runId}/revert`, undefined, as(BOB));
    expect(revert.status, revert.text).toBe(200);
    expect(revert.json).toMatchObject({ reverted: ['vp'], conflicts: [], already_reverted: [] });
    expect(await weights('vp')).toEqual(before);
    const again = await api.call('POST', `/runs/${runId}/revert`, { dry_run: false });
    expect(again.json).toMatchObject({ reverted: [], already_reverted: ['vp'] });
    const history = (await api.call('GET', '/portfolios/vp/history')).json.history;
    expect(history[0]).toMatchObject({ actor: 'api:bob', cause: { type: 'revert', run_id: runId } });
    expect((await api.call('POST', '/runs/manual-none/revert')).status).toBe(404);
    expect((await api.call('POST', `/runs/${runId}/revert`, { force: 'yes' })).status).toBe(400);
  });
});
