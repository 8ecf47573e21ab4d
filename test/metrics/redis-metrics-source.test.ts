import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeys } from '../../src/adapters/keys.js';
import {
  createRedisMetricsSource,
  importMetrics,
  metricsFromHash,
  metricsToHash,
} from '../../src/adapters/metrics/redis-metrics-source.js';
import {
  type BusinessMetrics,
  FROM_OPERATOR_FILES,
  FROM_OTHER_SYSTEMS,
  metricsFromWire,
  safeMetricsFromWire,
} from '../../src/domain/index.js';
import { check, SEED } from '../domain/property-checks.js';
import { wireMetricsArb, withoutNulls } from '../domain/wire-metrics-arb.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { wireMetrics } from './metrics-server.js';

const redis = useRedisPrefix('metrics-redis');
const keys = createKeys(redis.prefix);

const acme: BusinessMetrics = {
  businessId: 'acme',
  name: 'Acme',
  revenue: 1234.5,
  expenses: 1000.25,
  profit: 234.25,
  margin: (234.25 / 1234.5) * 100,
  customers: 7,
  growthRate: -2.5,
  healthScore: 61,
  stage: 'mature',
  asOf: '2024-05-01T00:00:00.000Z',
};

describe('redis metrics source', () => {
  it('reads back what importMetrics wrote, from domain objects and wire objects alike', async () => {
    const count = await importMetrics(redis.client, keys, [
      acme,
      wireMetrics('wired', { profit: 10, expenses: undefined, name: undefined, as_of: undefined }),
    ]);
    expect(count).toBe(2);
    const source = createRedisMetricsSource(redis.client, keys);
    const { metrics, missing } = await source.fetch(['acme', 'wired', 'acme']);
    expect(missing.size).toBe(0);
    expect(metrics.get('acme')).toEqual(acme);
    expect(metrics.get('wired')).toEqual({
      businessId: 'wired',
      name: undefined,
      revenue: 1000,
      expenses: 990,
      profit: 10,
      margin: 1,
      customers: 12,
      growthRate: 5.5,
      healthScore: 80,
      stage: 'growth',
      asOf: undefined,
    });
    expect(source.stats()).toEqual({ calls: 1, businessesRequested: 2, errors: 0 });
  });

  it('replaces every old field of a business on import', async () => {
    const key = keys.businessMetrics('replaced');
    await redis.client.hset(key, { ...metricsToHash({ ...acme, businessId: 'replaced' }), legacy: 'x' });
    await importMetrics(redis.client, keys, [{ ...acme, businessId: 'replaced', name: undefined }]);
    const hash = await redis.client.hgetall(key);
    expect(hash.legacy).toBeUndefined();
    expect(hash.name).toBeUndefined();
    expect(hash.revenue).toBe('1234.5');
  });

  it('refuses an import with an invalid entry and writes nothing', async () => {
    await expect(
      importMetrics(redis.client, keys, [
        wireMetrics('never-written'),
        wireMetrics('too-healthy', { health_score: 140 }),
        { ...acme, businessId: 'bad id!' },
      ]),
    ).rejects.toThrow(/entry 2: health_score: .*; entry 3: business_id: /);
    expect(await redis.client.exists(keys.businessMetrics('never-written'))).toBe(0);
  });

  it('flags invalid hash values with a reason instead of reading them as numbers', async () => {
    const base = metricsToHash(metricsFromWire(wireMetrics('x')));
    const cases: Record<string, Record<string, string>> = {
      'nan-revenue': { revenue: 'NaN' },
      'empty-revenue': { revenue: '' },
      'hex-revenue': { revenue: '0x10' },
      'inf-growth': { growth_rate: 'Infinity' },
      'words-health': { health_score: 'good' },
      'health-140': { health_score: '140' },
      'neg-customers': { customers: '-3' },
      'bad-stage': { stage: 'teenage' },
      'other-id': { business_id: 'someone-else' },
    };
    for (const [id, override] of Object.entries(cases)) {
      await redis.client.hset(keys.businessMetrics(id), { ...base, business_id: id, ...override });
    }
    const source = createRedisMetricsSource(redis.client, keys);
    const { metrics, missing } = await source.fetch(Object.keys(cases));
    expect(metrics.size).toBe(0);
    expect(missing.get('nan-revenue')).toMatch(/^invalid metrics: revenue: .*number.*string/);
    expect(missing.get('empty-revenue')).toMatch(/^invalid metrics: revenue: /);
    expect(missing.get('hex-revenue')).toMatch(/^invalid metrics: revenue: /);
    expect(missing.get('inf-growth')).toMatch(/^invalid metrics: growth_rate: /);
    expect(missing.get('words-health')).toMatch(/^invalid metrics: health_score: /);
    expect(missing.get('health-140')).toMatch(/^invalid metrics: health_score: .*100/);
    expect(missing.get('neg-customers')).toMatch(/^invalid metrics: customers: /);
    expect(missing.get('bad-stage')).toMatch(/^invalid metrics: stage: /);
    expect(missing.get('other-id')).toBe(
      'invalid metrics: business_id is "someone-else", expected "other-id"',
    );
    expect(source.stats().errors).toBe(Object.keys(cases).length);
  });

  it('reports an absent hash as missing and fills business_id from the key', async () => {
    const { business_id: _, ...withoutId } = metricsToHash({ ...acme, businessId: 'no-id-field' });
    await redis.client.hset(keys.businessMetrics('no-id-field'), withoutId);
    await redis.client.set(keys.businessMetrics('a-string'), 'not a hash');
    const { metrics, missing } = await createRedisMetricsSource(redis.client, keys).fetch([
      'nobody',
      'no-id-field',
      'a-string',
    ]);
    expect(missing.get('nobody')).toBe('no metrics in Redis');
    expect(metrics.get('no-id-field')).toEqual({ ...acme, businessId: 'no-id-field' });
    expect(missing.get('a-string')).toMatch(/^redis error: WRONGTYPE/);
  });

  it('reads numbers written in any decimal notation', async () => {
    await redis.client.hset(keys.businessMetrics('notation'), {
      revenue: '1.5e3',
      profit: '+500',
      growth_rate: '-.5',
      health_score: '99.',
      customers: '3',
    });
    const { metrics } = await createRedisMetricsSource(redis.client, keys).fetch(['notation']);
    expect(metrics.get('notation')).toMatchObject({
      revenue: 1500,
      profit: 500,
      expenses: 1000,
      growthRate: -0.5,
      healthScore: 99,
      customers: 3,
      stage: 'unknown',
    });
  });

  it('reads as_of in epoch milliseconds, and repairs what other systems get wrong in names and timestamps', async () => {
    // Before the fix every one of these was "invalid metrics" and the business no-metrics: a
    // hash holds only strings, and as_of "1769824800000" was not read as a number.
    const base = { revenue: '100', expenses: '50', growth_rate: '5', health_score: '50' };
    const cases: Record<string, Record<string, string>> = {
      'ms-as-of': { as_of: '1769824800000' },
      'zoneless-as-of': { as_of: '2026-01-31T02:00:00' },
      'blank-name': { name: '' },
      'tab-name': { name: 'Acme\tInc' },
    };
    for (const [id, extra] of Object.entries(cases)) {
      await redis.client.hset(keys.businessMetrics(id), { ...base, ...extra });
    }
    const source = createRedisMetricsSource(redis.client, keys);
    const { metrics, missing } = await source.fetch(Object.keys(cases));
    expect(Object.fromEntries(missing)).toEqual({});
    expect(metrics.get('ms-as-of')?.asOf).toBe('2026-01-31T02:00:00.000Z');
    expect(metrics.get('zoneless-as-of')?.asOf).toBe('2026-01-31T02:00:00Z');
    expect(metrics.get('blank-name')).toMatchObject({ name: undefined, revenue: 100 });
    expect(metrics.get('tab-name')?.name).toBe('Acme Inc');
    expect(source.stats().errors).toBe(0);
  });

  it('refuses an as_of out of range with the message plan and import give', async () => {
    await redis.client.hset(keys.businessMetrics('micro'), {
      ...metricsToHash(metricsFromWire(wireMetrics('micro'))),
      as_of: '1769824800000000',
    });
    const { missing } = await createRedisMetricsSource(redis.client, keys).fetch(['micro']);
    const planned = safeMetricsFromWire(
      wireMetrics('micro', { as_of: 1769824800000000 }),
      FROM_OPERATOR_FILES,
    );
    expect(planned.ok).toBe(false);
    expect(missing.get('micro')).toBe(`invalid metrics: ${planned.ok ? '' : planned.error}`);
    expect(missing.get('micro')).toMatch(/as_of: must be epoch milliseconds .*microseconds/);
  });

  it('reads back any hash it writes, and any hash of wire metrics in strings (property)', () => {
    fc.assert(
      fc.property(wireMetricsArb, (wire) => {
        const parsed = safeMetricsFromWire(wire, FROM_OTHER_SYSTEMS);
        if (!parsed.ok) return;
        const id = parsed.metrics.businessId;
        const back = metricsFromHash(id, metricsToHash(parsed.metrics));
        check(back.ok, () => `refused its own hash: ${back.ok ? '' : back.error}: ${JSON.stringify(wire)}`);
        expect(back.metrics).toEqual(parsed.metrics);
        // The documented format: the wire fields, each value a string (numbers in decimal).
        const asStrings = Object.fromEntries(
          Object.entries(withoutNulls(wire)).map(([k, v]) => [k, Object.is(v, -0) ? '-0' : String(v)]),
        );
        const other = metricsFromHash(id, asStrings);
        check(
          other.ok,
          () =>
            `refused a hash of valid metrics: ${other.ok ? '' : other.error}: ${JSON.stringify(asStrings)}`,
        );
        expect(other.metrics).toEqual(parsed.metrics);
      }),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('whatever plan accepts survives import and read-back unchanged; what it refuses, import refuses alike (property)', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(wireMetricsArb, async (wire) => {
        // What `plan --metrics` and `metrics import` read from a file entry, and the http source.
        const planned = safeMetricsFromWire(wire, FROM_OPERATOR_FILES);
        if (!planned.ok) {
          await expect(importMetrics(redis.client, keys, [wire])).rejects.toThrow(
            `entry 1: ${planned.error}`,
          );
          return;
        }
        accepted++;
        const id = planned.metrics.businessId;
        for (const entry of [planned.metrics, wire]) {
          await importMetrics(redis.client, keys, [entry]);
          const { metrics, missing } = await createRedisMetricsSource(redis.client, keys).fetch([id]);
          check(!missing.has(id), () => `read back as missing: ${missing.get(id)}: ${JSON.stringify(wire)}`);
          expect(metrics.get(id)).toEqual(planned.metrics);
        }
      }),
      { numRuns: 600, seed: SEED },
    );
    // Enough of the random entries are valid for the read-back half to mean something.
    expect(accepted).toBeGreaterThan(50);
  });

  it('answers an empty request without a round trip', async () => {
    const source = createRedisMetricsSource(redis.client, keys);
    const { metrics, missing } = await source.fetch([]);
    expect(metrics.size + missing.size).toBe(0);
    expect(source.stats().calls).toBe(0);
  });
});
