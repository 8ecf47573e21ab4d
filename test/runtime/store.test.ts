import { afterAll, describe, expect, it } from 'vitest';
import { RedisPortfolioStore } from '../../src/adapters/redis-portfolio-store.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio, StaleVersionError, setAllocation } from '../../src/domain/index.js';
import { clusterApp, TEST_EDIT, testApp } from '../helpers/app.js';
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
    await store.create(createPortfolio({ id: 'alpha', name: 'Alpha', ownerId: 'o1' }, T), TEST_EDIT);
    await store.create(createPortfolio({ id: 'beta', name: 'Beta', ownerId: 'o2' }, T), TEST_EDIT);
    expect((await store.require('alpha')).name).toBe('Alpha');
    expect(await store.get('nope')).toBeNull();
    expect(await store.ownerIds('o1')).toEqual(['alpha']);
    const chunks: string[][] = [];
    for await (const ids of store.idChunks(1)) chunks.push(ids);
    expect(chunks).toEqual([['alpha'], ['beta']]);
    await expect(
      store.create(createPortfolio({ id: 'alpha', name: 'Again', ownerId: 'o1' }, T), TEST_EDIT),
    ).rejects.toThrow(/already exists/);
  });

  it('refuses a write against a stale version', async () => {
    const { store } = getApp();
    const p = await store.create(createPortfolio({ id: 'stale', name: 'S', ownerId: 'o1' }, T), TEST_EDIT);
    const v2 = addBusiness(p, 'b1', {}, T);
    await store.compareAndSet(p, v2, TEST_EDIT);
    const other = addBusiness(p, 'b2', {}, T);
    await expect(store.compareAndSet(p, other, TEST_EDIT)).rejects.toBeInstanceOf(StaleVersionError);
    const stored = await store.require('stale');
    expect(stored.allocations.map((a) => a.businessId)).toEqual(['b1']);
    expect(stored.version).toBe(p.version + 1);
  });

  it('loses no update with 20 concurrent writers on one portfolio', async () => {
    const { store } = getApp();
    await store.create(
      createPortfolio({ id: 'crowd', name: 'C', ownerId: 'o1', strategy: 'revenue' }, T),
      TEST_EDIT,
    );
    const before = await store.require('crowd');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.update('crowd', (p) => addBusiness(p, `b${i}`, {}, T), TEST_EDIT),
      ),
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
      store.update('crowd', (p) => setAllocation(p, 'b3', { priority: 9 }, T), TEST_EDIT),
      store.update('crowd', (p) => setAllocation(p, 'b3', { locked: true }, T), TEST_EDIT),
      store.update('crowd', (p) => setAllocation(p, 'b3', { targetWeight: 0.5 }, T), TEST_EDIT),
    ]);
    const b3 = (await store.require('crowd')).allocations.find((a) => a.businessId === 'b3');
    expect(b3).toMatchObject({ priority: 9, locked: true, targetWeight: 0.5 });
  });

  it('creates the document and both indexes together, and a refused create writes nothing', async () => {
    const { store, keys } = getApp();
    const redis = fixture.client;
    await store.create(createPortfolio({ id: 'taken', name: 'First', ownerId: 'first-owner' }, T), TEST_EDIT);
    expect(await redis.zscore(keys.portfolioIndex, 'taken')).toBe('0');
    expect(await store.ownerIds('first-owner')).toEqual(['taken']);

    // `portfolio create --id taken --owner other`: refused, and no trace in the other owner's index.
    await expect(
      store.create(createPortfolio({ id: 'taken', name: 'Second', ownerId: 'other-owner' }, T), TEST_EDIT),
    ).rejects.toThrow(/portfolio taken already exists/);
    expect(await redis.exists(keys.ownerIndex('other-owner'))).toBe(0);
    expect(await store.ownerIds('first-owner')).toEqual(['taken']);
    expect((await store.require('taken')).name).toBe('First');
  });

  it('prunes an index entry only when its document is gone', async () => {
    const { store, keys } = getApp();
    const redis = fixture.client;
    await store.create(createPortfolio({ id: 'kept', name: 'K', ownerId: 'o3' }, T), TEST_EDIT);
    await redis.zadd(keys.portfolioIndex, 0, 'dangling');
    expect(await store.pruneIndexEntry('kept')).toBe(false);
    expect(await store.pruneIndexEntry('dangling')).toBe(true);
    expect(await store.pruneIndexEntry('dangling')).toBe(false);
    expect(await redis.zscore(keys.portfolioIndex, 'kept')).toBe('0');
    expect(await redis.zscore(keys.portfolioIndex, 'dangling')).toBeNull();
  });

  it('with BALLAST_REDIS_CLUSTER, refuses an existing id without touching the indexes, and prunes safely', async () => {
    const cluster = clusterApp(fixture.prefix);
    try {
      const redis = cluster.redis;
      await cluster.store.create(createPortfolio({ id: 'slot', name: 'S', ownerId: 'c1' }, T), TEST_EDIT);
      expect(await cluster.store.ownerIds('c1')).toEqual(['slot']);
      expect(await redis.zscore(cluster.keys.portfolioIndex, 'slot')).toBe('0');
      await expect(
        cluster.store.create(createPortfolio({ id: 'slot', name: 'S2', ownerId: 'c2' }, T), TEST_EDIT),
      ).rejects.toThrow(/already exists/);
      expect(await redis.exists(cluster.keys.ownerIndex('c2'))).toBe(0);
      await redis.zadd(cluster.keys.portfolioIndex, 0, 'dangling-c');
      expect(await cluster.store.pruneIndexEntry('slot')).toBe(false);
      expect(await cluster.store.pruneIndexEntry('dangling-c')).toBe(true);
      expect(await redis.zscore(cluster.keys.portfolioIndex, 'slot')).toBe('0');

      // A create cut off between its document and its indexes: the retry is refused, and
      // indexes the stored document under its own owner.
      const cut = createPortfolio({ id: 'cut', name: 'C', ownerId: 'c3' }, T);
      await redis.hset(
        cluster.keys.portfolio('cut'),
        'doc',
        RedisPortfolioStore.encode(cut),
        'version',
        String(cut.version),
      );
      expect(await redis.zscore(cluster.keys.portfolioIndex, 'cut')).toBeNull();
      await expect(
        cluster.store.create(createPortfolio({ id: 'cut', name: 'C', ownerId: 'c4' }, T), TEST_EDIT),
      ).rejects.toThrow(/already exists/);
      expect(await redis.zscore(cluster.keys.portfolioIndex, 'cut')).toBe('0');
      expect(await cluster.store.ownerIds('c3')).toEqual(['cut']);
      expect(await redis.exists(cluster.keys.ownerIndex('c4'))).toBe(0);
    } finally {
      await cluster.close();
    }
  });
});
