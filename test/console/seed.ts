/**
 * What the console tests look at: portfolios with several versions each, one nightly run through
 * an in-process worker that changes one (alpha), holds one as a proposal (beta, apply mode
 * approve) and skips a paused one (gamma), and a portfolio whose name is markup (delta).
 */
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { followRun } from '../../src/runtime/follow-run.js';
import { enqueueNightly } from '../../src/services/runs.js';
import type { ApiFixture } from '../api/api-fixture.js';
import { wire } from '../helpers/memory-metrics.js';

export const ALICE = 'alice-token-0123456789abcdef';
export const BOB = 'bob-token-0123456789abcdef00';
export const TOKENS = [
  { name: 'alice', token: ALICE },
  { name: 'bob', token: BOB },
];
/** Shown as text, never run: the console escapes every value. */
export const MARKUP_NAME = '<img src=x onerror="window.__xss=1">Delta & co';

export interface Seeded {
  readonly runId: string;
  /** alpha's weights before the run (version 4), which a revert brings back. */
  readonly alphaBefore: Record<string, number>;
}

export const weightsOf = (p: { allocations: readonly { businessId: string; weight: number }[] }) =>
  Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));

export async function seed(api: ApiFixture): Promise<Seeded> {
  // Revenue 1000, 1300, 1600: a revenue portfolio moves from a third each (~7.7% turnover).
  for (const p of ['a', 'b', 'g', 'd']) {
    api.source.set(wire(`${p}1`, 1000, 400), wire(`${p}2`, 1300, 500), wire(`${p}3`, 1600, 600));
  }
  const create = async (id: string, extra: Record<string, unknown>, owner = 'ops') => {
    const r = await api.call('POST', '/portfolios', {
      id,
      name: id,
      owner_id: owner,
      strategy: 'revenue',
      drift_threshold: 0,
      max_auto_turnover: 1,
      ...extra,
    });
    expect(r.status, r.text).toBe(200);
    for (const n of [1, 2, 3]) {
      const added = await api.call('POST', `/portfolios/${id}/businesses`, { business_id: `${id[0]}${n}` });
      expect(added.status, added.text).toBe(200);
    }
  };
  await create('alpha', {});
  await create('beta', { apply_mode: 'approve' });
  await create('gamma', { status: 'paused' }, 'research');
  await create('delta', { name: MARKUP_NAME, apply_mode: 'advisory' }, 'research');
  const alphaBefore = weightsOf(await api.app.store.require('alpha'));

  const runId = await nightly(api.app);
  const alpha = await api.app.store.require('alpha');
  expect(weightsOf(alpha)).not.toEqual(alphaBefore);
  expect(await api.app.proposals.get('beta')).not.toBeNull();
  return { runId, alphaBefore };
}

/** A nightly run queued as an operator's, followed until every portfolio has done it. */
async function nightly(app: App): Promise<string> {
  const events = await app.queue.events(app.redis);
  try {
    const { runId } = await enqueueNightly(app, { trigger: 'manual', actor: 'api:bob' });
    const done = await followRun(app, events, runId, () => {});
    expect(done.failed).toBe(0);
    return runId;
  } finally {
    await events.close();
  }
}
