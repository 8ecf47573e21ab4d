/**
 * The typed check of a wire portfolio (src/domain/portfolio-check.ts) against zod's schema: what
 * it accepts, zod accepts and reads to the same settings and allocations; the rest is zod's to
 * refuse, with zod's messages. Random portfolios through JSON, as files are: valid ones and ones
 * with a fault each (bounds, sums, lists, ids, types, unknown fields). FC_SEED=<n> replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Allocation,
  portfolioFromWire,
  wirePortfolioSchema,
  zodAllocations,
} from '../../src/domain/index.js';
import { checkWirePortfolio } from '../../src/domain/portfolio-check.js';
import { check, RUNS } from './property-checks.js';

type Json = Record<string, unknown>;

const idArb = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('12', '0', '7', 'constructor', 'toString', 'a b', '', 'x'.repeat(65)),
  },
);

const seedArb = fc.record({
  raw: fc.double({ min: 0.01, max: 1, noNaN: true }),
  priority: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
  locked: fc.option(fc.boolean(), { nil: undefined }),
  bounds: fc.constantFrom('none', 'around', 'min', 'max', 'nulls'),
  target: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  derived: fc.boolean(),
});

type Seed = typeof seedArb extends fc.Arbitrary<infer T> ? T : never;

/** One thing wrong (or odd but valid), or nothing. */
const faultArb = fc.constantFrom(
  'none',
  'none',
  'none',
  'none',
  'weight-high',
  'weight-string',
  'priority-float',
  'priority-zero',
  'locked-string',
  'min-above-max',
  'weight-outside',
  'sum-off',
  'sum-within-tolerance',
  'sum-near-edge',
  'unknown-allocation-field',
  'unknown-field',
  'list-shuffled',
  'list-duplicate',
  'list-missing',
  'list-extra',
  'no-list',
  'count-right',
  'count-wrong',
  'name-nfd',
  'name-blank',
  'name-control',
  'settings',
  'bad-status',
  'bad-timestamp',
  'allocations-null',
  'derived-infinite',
);

const portfolioArb = fc
  .record({
    ids: fc.uniqueArray(idArb, { minLength: 0, maxLength: 8 }),
    seeds: fc.array(seedArb, { minLength: 8, maxLength: 8 }),
    fault: faultArb,
    pick: fc.nat(),
  })
  .map(({ ids, seeds, fault, pick }) => build(ids, seeds, fault, pick));

function build(ids: string[], seeds: Seed[], fault: string, pick: number): unknown {
  const total = ids.reduce((sum, _, i) => sum + seeds[i]!.raw, 0);
  const allocations: Record<string, Json> = {};
  for (const [i, id] of ids.entries()) {
    const s = seeds[i]!;
    const weight = s.raw / total;
    const a: Json = { weight };
    if (s.priority !== undefined) a['priority'] = s.priority;
    if (s.locked !== undefined) a['locked'] = s.locked;
    if (s.bounds === 'around')
      Object.assign(a, { min_weight: weight / 2, max_weight: Math.min(1, weight * 2) });
    if (s.bounds === 'min') a['min_weight'] = weight;
    if (s.bounds === 'max') a['max_weight'] = weight;
    if (s.bounds === 'nulls') Object.assign(a, { min_weight: null, max_weight: null, target_weight: null });
    if (s.target !== undefined) a['target_weight'] = s.target;
    if (s.derived)
      Object.assign(a, { budget_percent: weight * 100, budget_amount: weight * 5000, attention_hours: 3 });
    allocations[id] = a;
  }
  const p: Json = {
    id: 'pf-1',
    name: 'Growth book',
    owner_id: 'owner-1',
    strategy: 'performance',
    businesses: [...ids],
    allocations,
  };
  const some = ids[pick % Math.max(1, ids.length)];
  const a = some === undefined ? undefined : allocations[some];
  const list = p['businesses'] as string[];
  switch (fault) {
    case 'weight-high':
      if (a) a['weight'] = 1.5;
      break;
    case 'weight-string':
      if (a) a['weight'] = String(a['weight']);
      break;
    case 'priority-float':
      if (a) a['priority'] = 2.5;
      break;
    case 'priority-zero':
      if (a) a['priority'] = 0;
      break;
    case 'locked-string':
      if (a) a['locked'] = 'yes';
      break;
    case 'min-above-max':
      if (a) Object.assign(a, { min_weight: 0.9, max_weight: 0.1 });
      break;
    case 'weight-outside':
      if (a) Object.assign(a, { min_weight: Math.min(1, (a['weight'] as number) + 0.01) });
      break;
    case 'sum-off':
      if (a) a['weight'] = (a['weight'] as number) * 0.9;
      break;
    case 'sum-within-tolerance':
      if (a) a['weight'] = Math.max(0, (a['weight'] as number) - 4e-7);
      break;
    case 'sum-near-edge':
      if (a) a['weight'] = Math.max(0, (a['weight'] as number) - 1e-6);
      break;
    case 'unknown-allocation-field':
      if (a) a['wieght'] = 0.1;
      break;
    case 'unknown-field':
      p['colour'] = 'blue';
      break;
    case 'list-shuffled':
      list.reverse();
      break;
    case 'list-duplicate':
      if (list.length > 1) list[0] = list[1]!;
      break;
    case 'list-missing':
      list.pop();
      break;
    case 'list-extra':
      list.push('zz-extra');
      break;
    case 'no-list':
      delete p['businesses'];
      break;
    case 'count-right':
      p['business_count'] = list.length;
      break;
    case 'count-wrong':
      p['business_count'] = list.length + 1;
      break;
    case 'name-nfd':
      p['name'] = 'Cafe\u0301 Cre\u0300me';
      break;
    case 'name-blank':
      p['name'] = '   ';
      break;
    case 'name-control':
      p['name'] = 'a\u001bb';
      break;
    case 'settings':
      Object.assign(p, {
        status: 'paused',
        total_budget: 1000,
        target_roi: 12,
        drift_threshold: 0.02,
        attention_hours_per_week: 20,
        max_turnover: null,
        apply_mode: 'approve',
        max_auto_turnover: 0.3,
        rebalance_trigger: 'portfolio',
        drift_type: 'relative',
        min_trade: 0.001,
        version: 7,
        created_at: '2026-01-01T00:00:00Z',
        updated_at: '2026-02-01T00:00:00.000+01:00',
        last_run: { run_id: 'r', report_id: 'q', at: '2026-02-01T00:00:00Z' },
      });
      break;
    case 'bad-status':
      p['status'] = 'sleeping';
      break;
    case 'bad-timestamp':
      p['created_at'] = '2026-02-30T00:00:00Z';
      break;
    case 'allocations-null':
      p['allocations'] = null;
      break;
    case 'derived-infinite':
      if (a) a['budget_amount'] = Number.POSITIVE_INFINITY;
      break;
  }
  // Through JSON, as a file comes: keys such as "12" move first, Infinity becomes null.
  return JSON.parse(JSON.stringify(p));
}

/** What portfolioFromWire builds from zod's reading (before re-normalising the weights). */
function zodReading(input: unknown) {
  const parsed = wirePortfolioSchema.safeParse(input);
  if (!parsed.success) return undefined;
  const { businesses, allocations, ...head } = parsed.data;
  return { head, allocations: zodAllocations(parsed.data) };
}

describe('checkWirePortfolio', () => {
  it('accepts only what zod accepts, read the same', () => {
    let fast = 0;
    let valid = 0;
    fc.assert(
      fc.property(portfolioArb, (input) => {
        const checked = checkWirePortfolio(input);
        const zod = zodReading(input);
        if (zod) valid++;
        if (checked === undefined) return;
        fast++;
        check(zod !== undefined, () => `the check took what zod refuses: ${JSON.stringify(input)}`);
        expect(checked).toStrictEqual(zod);
      }),
      RUNS,
    );
    // The check takes most valid portfolios itself (all but sums near the tolerance's edge).
    expect(fast).toBeGreaterThan(valid / 2);
  });

  it('gives portfolioFromWire the same portfolio or the same refusal as zod alone', () => {
    fc.assert(
      fc.property(portfolioArb, (input) => {
        const zod = zodReading(input);
        let read: unknown;
        try {
          read = portfolioFromWire(input, '2026-01-01T00:00:00.000Z');
        } catch (err) {
          check(zod === undefined, () => `refused what zod reads: ${(err as Error).message}`);
          return;
        }
        check(zod !== undefined, () => `read what zod refuses: ${JSON.stringify(input)}`);
        expect((read as { allocations: Allocation[] }).allocations.map((a) => a.businessId)).toEqual(
          zod.allocations.map((a) => a.businessId),
        );
      }),
      RUNS,
    );
  });

  it('leaves a duplicate, missing or extra business in the list to zod', () => {
    const allocations = { a: { weight: 0.5 }, b: { weight: 0.5 } };
    for (const businesses of [['a', 'a'], ['a'], ['a', 'b', 'c'], ['b', 'c']]) {
      expect(
        checkWirePortfolio({ id: 'p', name: 'n', owner_id: 'o', businesses, allocations }),
      ).toBeUndefined();
      expect(() => portfolioFromWire({ id: 'p', name: 'n', owner_id: 'o', businesses, allocations })).toThrow(
        /invalid portfolio: /,
      );
    }
    // The same ids in another order than the keys': read in the list's order.
    const swapped = checkWirePortfolio({
      id: 'p',
      name: 'n',
      owner_id: 'o',
      businesses: ['b', 'a'],
      allocations,
    });
    expect(swapped?.allocations.map((a) => a.businessId)).toEqual(['b', 'a']);
  });
});
