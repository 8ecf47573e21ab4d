import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio, StaleVersionError, setAllocation } from '../../src/domain/index.js';
import { testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('store');
let app: App | undefined;
function getApp(): App {
  app ??= testApp(fixture.prefix);
  return app;
}
afterAll(async () => app?.close());

const T = '2026-11-25T00:00:00.000Z';

describe('redis portfolio store', () => {
  it('creates, reads and indexes portfolios by id and owner', async () => {
    const { store } = getApp();
    await store.create(createPortfolio({ id: 'alpha', name: 'Alpha', ownerId: 'o1' }, T));
    await store.create(createPortfolio({ id: 'beta', name: 'Beta', ownerId: 'o2' }, T));
    expect((await store.require('alpha')).name).toBe('Alpha');
    expect(await store.get('nope')).toBeNull();
    expect(await store.ownerIds('o1')).toEqual(['alpha']);
    const chunks: string[][] = [];
    for await (const ids of store.idChunks(1)) chunks.push(ids);
    expect(chunks).toEqual([['alpha'], ['beta']]);
    await expect(
      store.create(createPortfolio({ id: 'alpha', name: 'Again', ownerId: 'o1' }, T)),
    ).rejects.toThrow(/already exists/);
  });

  it('refuses a write against a stale version', async () => {
    const { store } = getApp();
    const p = await store.create(createPortfolio({ id: 'stale', name: 'S', ownerId: 'o1' }, T));
    const v2 = addBusiness(p, 'b1', {}, T);
    await store.compareAndSet(v2, p.version);
    const other = addBusiness(p, 'b2', {}, T);
    await expect(store.compareAndSet(other, p.version)).rejects.toBeInstanceOf(StaleVersionError);
    const stored = await store.require('stale');
    expect(stored.allocations.map((a) => a.businessId)).toEqual(['b1']);
    expect(stored.version).toBe(p.version + 1);
  });

  it('loses no update with 20 concurrent writers on one portfolio', async () => {
    const { store } = getApp();
    await store.create(createPortfolio({ id: 'crowd', name: 'C', ownerId: 'o1', strategy: 'revenue' }, T));
    const before = await store.require('crowd');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.update('crowd', (p) => addBusiness(p, `b${i}`, {}, T))),
    );
    const after = await store.require('crowd');
    expect(after.allocations.map((a) => a.businessId).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `b${i}`).sort(),
    );
    expect(after.version).toBe(before.version + 20);
    const sum = after.allocations.reduce((s, a) => s + a.weight, 0);
    expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-9);

    // And concurrent edits of different fields of the same allocation all land.
    await Promise.all([
      store.update('crowd', (p) => setAllocation(p, 'b3', { priority: 9 }, T)),
      store.update('crowd', (p) => setAllocation(p, 'b3', { locked: true }, T)),
      store.update('crowd', (p) => setAllocation(p, 'b3', { targetWeight: 0.5 }, T)),
    ]);
    const b3 = (await store.require('crowd')).allocations.find((a) => a.businessId === 'b3');
    expect(b3).toMatchObject({ priority: 9, locked: true, targetWeight: 0.5 });
  });
});
