/**
 * Proposals over HTTP, with a worker in-process: recommendations held by `max_auto_turnover` or
 * `apply_mode: approve` (run through the real recalculate job by POST /portfolios/{id}/rebalance),
 * then listed, shown, approved (exactly the proposal's weights, named in history and audit),
 * refused after an edit (409 naming it) and rejected; apply_mode and max_auto_turnover on
 * create and PATCH.
 */
import { describe, expect, it } from 'vitest';
import { wire } from '../helpers/memory-metrics.js';
import { type Reply, useApi } from './api-fixture.js';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef00';
const api = useApi({
  name: 'api-proposals',
  worker: true,
  server: {
    tokens: [
      { name: 'alice', token: ALICE },
      { name: 'bob', token: BOB },
    ],
  },
});
const as = (token: string) => ({ authorization: `Bearer ${token}` });

/** Revenue 1000, 1300, 1600: a revenue portfolio moves from a third each, a turnover of ~7.7%. */
function sane(prefix: string): void {
  api.source.set(wire(`${prefix}1`, 1000, 400), wire(`${prefix}2`, 1300, 500), wire(`${prefix}3`, 1600, 600));
}

/** Creates `id` (revenue, no drift threshold, `extra` settings) holding `${id}1..3`, as alice. */
async function portfolio(id: string, extra: Record<string, unknown> = {}): Promise<void> {
  sane(id);
  const created = await api.call(
    'POST',
    '/portfolios',
    { id, name: id, owner_id: 'o', strategy: 'revenue', drift_threshold: 0, ...extra },
    as(ALICE),
  );
  expect(created.status, created.text).toBe(200);
  for (const b of [`${id}1`, `${id}2`, `${id}3`]) {
    const added = await api.call('POST', `/portfolios/${id}/businesses`, { business_id: b }, as(ALICE));
    expect(added.status, added.text).toBe(200);
  }
}

/** POST /portfolios/{id}/rebalance through the worker, which must hold the recommendation. */
async function hold(id: string): Promise<Reply> {
  const r = await api.call('POST', `/portfolios/${id}/rebalance`);
  expect(r.status, r.text).toBe(200);
  expect(r.json).toMatchObject({ status: 'held', held: true, applied: false });
  return r;
}

const get = async (id: string) => {
  const r = await api.call('GET', `/portfolios/${id}`);
  expect(r.status, r.text).toBe(200);
  return r.json;
};
const weights = (p: { allocations: Record<string, { weight: number }> }) =>
  Object.fromEntries(Object.entries(p.allocations).map(([k, v]) => [k, v.weight]));
const proposed = (proposal: { actions: { business_id: string; recommended_weight: number }[] }) =>
  Object.fromEntries(proposal.actions.map((a) => [a.business_id, a.recommended_weight]));

describe('apply_mode and max_auto_turnover on create and PATCH', () => {
  it('creates with them (defaults auto and null), PATCH sets them and null resets the turnover; an unknown mode is a 400', async () => {
    const plain = await api.call('POST', '/portfolios', { id: 'am0', name: 'am0', owner_id: 'o' });
    expect(plain.status, plain.text).toBe(200);
    expect(plain.json).toMatchObject({ apply_mode: 'auto', max_auto_turnover: null });

    const created = await api.call('POST', '/portfolios', {
      id: 'am1',
      name: 'am1',
      owner_id: 'o',
      apply_mode: 'approve',
      max_auto_turnover: 0.1,
    });
    expect(created.status, created.text).toBe(200);
    expect(created.json).toMatchObject({ apply_mode: 'approve', max_auto_turnover: 0.1, version: 1 });

    const patched = await api.call('PATCH', '/portfolios/am1', {
      apply_mode: 'advisory',
      max_auto_turnover: 0.5,
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.portfolio).toMatchObject({
      apply_mode: 'advisory',
      max_auto_turnover: 0.5,
      version: 2,
    });

    const reset = await api.call('PATCH', '/portfolios/am1', { max_auto_turnover: null });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.json.portfolio).toMatchObject({
      apply_mode: 'advisory',
      max_auto_turnover: null,
      version: 3,
    });
    expect(await get('am1')).toMatchObject({ apply_mode: 'advisory', max_auto_turnover: null });

    const sometimes = await api.call('POST', '/portfolios', {
      name: 'x',
      owner_id: 'o',
      apply_mode: 'sometimes',
    });
    expect(sometimes.status).toBe(400);
    expect(sometimes.json.error).toBe('invalid');
    expect(`${sometimes.json.message} ${sometimes.json.details.join(' ')}`).toContain(
      'unknown apply mode "sometimes": use one of auto, approve, advisory',
    );
    const patchSometimes = await api.call('PATCH', '/portfolios/am1', { apply_mode: 'sometimes' });
    expect(patchSometimes.status).toBe(400);
    expect(`${patchSometimes.json.message} ${patchSometimes.json.details.join(' ')}`).toContain('apply_mode');
    for (const value of [1.5, -0.1, '0.2']) {
      const bad = await api.call('PATCH', '/portfolios/am1', { max_auto_turnover: value });
      expect(bad.status, JSON.stringify(value)).toBe(400);
      expect(bad.json.details.join(' '), JSON.stringify(value)).toContain('max_auto_turnover');
    }
    // Nothing of the refused requests was written.
    expect((await get('am1')).version).toBe(3);
  });
});

describe('a held recommendation: rebalance, preview, show', () => {
  it('POST rebalance answers held and moves nothing; the preview says why; show has the proposal', async () => {
    await portfolio('pt', { max_auto_turnover: 0 });
    const before = await get('pt');

    const preview = await api.call('GET', '/portfolios/pt/rebalance');
    expect(preview.status, preview.text).toBe(200);
    expect(preview.json.held.reasons).toEqual([
      { guard: 'turnover', detail: expect.stringMatching(/^turnover .+ is above max_auto_turnover 0/) },
    ]);
    expect(preview.json.flags).toEqual([]);
    expect(preview.json.changes).toBe(2);

    const held = await hold('pt');
    expect(held.json.changes).toBe(2);
    expect(held.json.turnover).toBeGreaterThan(0);
    expect(held.json.skipped).toBeNull();
    const after = await get('pt');
    expect(after).toEqual(before);

    const shown = await api.call('GET', '/portfolios/pt/proposal');
    expect(shown.status, shown.text).toBe(200);
    const proposal = shown.json;
    expect(proposal).toMatchObject({
      portfolio_id: 'pt',
      report_id: held.json.report_id,
      run_id: held.json.run_id,
      version: before.version,
      strategy: 'revenue',
      turnover: held.json.turnover,
      changes: 2,
      supersedes: null,
    });
    expect(proposal.reasons).toEqual(preview.json.held.reasons);
    expect(Date.parse(proposal.expires_at) - Date.parse(proposal.created_at)).toBe(7 * 86_400_000);
    expect(proposal.actions.map((a: { business_id: string }) => a.business_id)).toEqual([
      'pt1',
      'pt2',
      'pt3',
    ]);
    for (const a of proposal.actions) {
      expect(a).toEqual({
        business_id: expect.any(String),
        action: expect.any(String),
        current_weight: before.allocations[a.business_id].weight,
        recommended_weight: expect.any(Number),
        reason: expect.any(String),
      });
    }
    const sum = proposal.actions.reduce(
      (s: number, a: { recommended_weight: number }) => s + a.recommended_weight,
      0,
    );
    expect(sum).toBeCloseTo(1, 9);
    // The proposal is the held report's recommendation, as the preview computed it.
    expect(proposed(proposal)).toEqual(
      Object.fromEntries(
        preview.json.actions.map((a: { business_id: string; recommended_weight: number }) => [
          a.business_id,
          a.recommended_weight,
        ]),
      ),
    );

    const unknown = await api.call('GET', '/portfolios/nope/proposal');
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toBe('portfolio nope not found');
    await portfolio('pn');
    const none = await api.call('GET', '/portfolios/pn/proposal');
    expect(none.status).toBe(404);
    expect(none.json.message).toBe('portfolio pn has no pending proposal');
  });

  it('a second held run replaces the proposal and says which one it replaced', async () => {
    const first = (await api.call('GET', '/portfolios/pt/proposal')).json;
    const again = await hold('pt');
    const replaced = await api.call('GET', '/portfolios/pt/proposal');
    expect(replaced.json).toMatchObject({
      report_id: again.json.report_id,
      supersedes: { report_id: first.report_id, run_id: first.run_id },
    });
  });
});

describe('GET /proposals', () => {
  it('is an array, the longest-waiting first, with x-total-count; ?limit cuts it; a limit of 0 or 1001 is a 400', async () => {
    await portfolio('la', { apply_mode: 'approve' });
    await hold('la');
    const list = await api.call('GET', '/proposals');
    expect(list.status, list.text).toBe(200);
    expect(Array.isArray(list.json)).toBe(true);
    const ids = list.json.map((p: { portfolio_id: string }) => p.portfolio_id);
    expect(ids).toEqual(expect.arrayContaining(['pt', 'la']));
    expect(ids.indexOf('pt')).toBeLessThan(ids.indexOf('la'));
    expect(list.headers['x-total-count']).toBe(String(list.json.length));
    const la = list.json.find((p: { portfolio_id: string }) => p.portfolio_id === 'la');
    expect(la.reasons).toEqual([
      {
        guard: 'approval-required',
        detail: 'apply_mode is approve: every change waits for an operator',
      },
    ]);
    expect(la).toEqual((await api.call('GET', '/portfolios/la/proposal')).json);

    const one = await api.call('GET', '/proposals?limit=1');
    expect(one.status, one.text).toBe(200);
    expect(one.json).toHaveLength(1);
    expect(one.json[0]).toEqual(list.json[0]);
    expect(one.headers['x-total-count']).toBe(String(list.json.length));

    for (const limit of ['0', '1001', 'abc', '-1', '1.5']) {
      const bad = await api.call('GET', `/proposals?limit=${limit}`);
      expect(bad.status, limit).toBe(400);
      expect(`${bad.json.message} ${bad.json.details?.join(' ')}`, limit).toContain('limit');
    }
    expect((await api.call('GET', '/proposals?limit=1000')).status).toBe(200);
    expect((await api.call('GET', '/proposals?sort=asc')).status).toBe(400);
    expect((await api.call('GET', '/proposals', undefined, { authorization: 'Bearer nope' })).status).toBe(
      401,
    );
  });
});

describe('approve', () => {
  it("applies exactly the proposal's weights, named after the token in history and audit; then there is nothing to approve", async () => {
    await portfolio('ap', { max_auto_turnover: 0 });
    await hold('ap');
    const before = await get('ap');
    const proposal = (await api.call('GET', '/portfolios/ap/proposal')).json;

    const approved = await api.call(
      'POST',
      '/portfolios/ap/proposal/approve',
      { note: 'checked with finance' },
      as(BOB),
    );
    expect(approved.status, approved.text).toBe(200);
    expect(approved.json).toMatchObject({
      portfolio_id: 'ap',
      report_id: proposal.report_id,
      version_before: before.version,
      version_after: before.version + 1,
      changes: proposal.changes,
      portfolio: { id: 'ap', version: before.version + 1 },
    });
    const after = await get('ap');
    expect(after.version).toBe(before.version + 1);
    expect(weights(after)).toEqual(proposed(proposal));
    expect(weights(after)).not.toEqual(weights(before));
    expect(after.last_run).toMatchObject({ run_id: proposal.run_id, report_id: proposal.report_id });

    const history = await api.call('GET', '/portfolios/ap/history?limit=1');
    expect(history.status, history.text).toBe(200);
    expect(history.json.history[0]).toMatchObject({
      version: before.version + 1,
      version_before: before.version,
      actor: 'api:bob',
      cause: { type: 'approve', report_id: proposal.report_id },
      note: 'checked with finance',
    });
    const audit = await api.call('GET', '/audit?portfolio=ap&limit=1');
    expect(audit.json.entries[0]).toMatchObject({
      actor: 'api:bob',
      portfolio_id: 'ap',
      cause: { type: 'approve', report_id: proposal.report_id },
      note: 'checked with finance',
      version_before: before.version,
      version_after: before.version + 1,
    });

    const shown = await api.call('GET', '/portfolios/ap/proposal');
    expect(shown.status).toBe(404);
    const again = await api.call('POST', '/portfolios/ap/proposal/approve', undefined, as(BOB));
    expect(again.status).toBe(404);
    expect(again.json.message).toBe('portfolio ap has no pending proposal');
    expect((await get('ap')).version).toBe(before.version + 1);
    expect(
      (await api.call('GET', '/proposals')).json.map((p: { portfolio_id: string }) => p.portfolio_id),
    ).not.toContain('ap');
  });

  it('without a body approves with no note; an unknown portfolio is a 404', async () => {
    await portfolio('an', { apply_mode: 'approve' });
    await hold('an');
    const proposal = (await api.call('GET', '/portfolios/an/proposal')).json;
    const approved = await api.call('POST', '/portfolios/an/proposal/approve', undefined, as(ALICE));
    expect(approved.status, approved.text).toBe(200);
    expect(weights(await get('an'))).toEqual(proposed(proposal));
    const history = (await api.call('GET', '/portfolios/an/history?limit=1')).json.history[0];
    expect(history).toMatchObject({ actor: 'api:alice', cause: { type: 'approve' }, note: null });

    const unknown = await api.call('POST', '/portfolios/nope/proposal/approve');
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toBe('portfolio nope not found');
    expect((await api.call('POST', '/portfolios/nope/proposal/reject', {})).status).toBe(404);
  });

  it('is a 409 naming the change after a PATCH of the portfolio, and writes nothing; reject still works', async () => {
    await portfolio('ac', { apply_mode: 'approve' });
    await hold('ac');
    const proposal = (await api.call('GET', '/portfolios/ac/proposal')).json;
    const patched = await api.call('PATCH', '/portfolios/ac', { name: 'Renamed' }, as(ALICE));
    expect(patched.status, patched.text).toBe(200);
    const edited = await get('ac');
    expect(edited.version).toBe(proposal.version + 1);

    const refused = await api.call('POST', '/portfolios/ac/proposal/approve', { note: 'ok?' }, as(BOB));
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.message).toContain(
      `portfolio ac changed since proposal ${proposal.report_id} was computed on version ${proposal.version} (now version ${edited.version})`,
    );
    expect(refused.json.message).toMatch(
      new RegExp(`version ${edited.version} at \\S+ by api:alice: name ac -> Renamed`),
    );
    expect(await get('ac')).toEqual(edited);
    // The proposal stays pending (it can still be rejected).
    expect((await api.call('GET', '/portfolios/ac/proposal')).status).toBe(200);
    const rejected = await api.call('POST', '/portfolios/ac/proposal/reject', { note: 'stale' });
    expect(rejected.status, rejected.text).toBe(200);
    expect(await get('ac')).toEqual(edited);
  });
});

describe('reject', () => {
  it('discards the proposal, keeps the weights and version, and records cause reject in audit', async () => {
    await portfolio('rj', { max_auto_turnover: 0 });
    await hold('rj');
    const before = await get('rj');
    const proposal = (await api.call('GET', '/portfolios/rj/proposal')).json;
    const note = 'n'.repeat(500);
    const rejected = await api.call('POST', '/portfolios/rj/proposal/reject', { note }, as(ALICE));
    expect(rejected.status, rejected.text).toBe(200);
    expect(rejected.json).toEqual({
      portfolio_id: 'rj',
      report_id: proposal.report_id,
      version: before.version,
    });
    expect(await get('rj')).toEqual(before);

    const audit = await api.call('GET', '/audit?portfolio=rj&limit=1');
    expect(audit.json.entries[0]).toMatchObject({
      actor: 'api:alice',
      portfolio_id: 'rj',
      cause: { type: 'reject', report_id: proposal.report_id },
      note,
      version_before: before.version,
      version_after: before.version,
    });
    expect((await api.call('GET', '/portfolios/rj/proposal')).status).toBe(404);
    const again = await api.call('POST', '/portfolios/rj/proposal/reject');
    expect(again.status).toBe(404);
    expect(again.json.message).toBe('portfolio rj has no pending proposal');
  });
});

describe('bad bodies', () => {
  it('an unknown field, an empty, too long or control-character note is a 400 and changes nothing', async () => {
    await portfolio('bb', { apply_mode: 'approve' });
    await hold('bb');
    const before = await get('bb');
    const proposal = (await api.call('GET', '/portfolios/bb/proposal')).json;
    const bodies: unknown[] = [
      { force: true },
      { note: 'x'.repeat(501) },
      { note: '' },
      { note: 'line\nbreak' },
      { note: 42 },
      [],
    ];
    for (const route of ['approve', 'reject']) {
      for (const body of bodies) {
        const r = await api.call('POST', `/portfolios/bb/proposal/${route}`, body);
        expect(r.status, `${route} ${JSON.stringify(body)}`).toBe(400);
        expect(r.json.error, `${route} ${JSON.stringify(body)}`).toBe('invalid');
      }
      const notJson = await api.call('POST', `/portfolios/bb/proposal/${route}`, '{"note":');
      expect(notJson.status, `${route} malformed`).toBe(400);
    }
    const long = await api.call('POST', '/portfolios/bb/proposal/approve', { note: 'x'.repeat(501) });
    expect(long.json.details.join(' ')).toContain('note');
    expect(await get('bb')).toEqual(before);
    expect((await api.call('GET', '/portfolios/bb/proposal')).json).toEqual(proposal);
    const audit = await api.call('GET', '/audit?portfolio=bb&limit=1');
    expect(audit.json.entries[0].cause.type).toBe('edit');
  });
});
