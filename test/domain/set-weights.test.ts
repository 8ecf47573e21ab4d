import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusiness,
  createPortfolio,
  type Portfolio,
  setAllocation,
  setWeights,
} from '../../src/domain/index.js';

const NOW = '2026-03-01T00:00:00Z';

function portfolio(ids: readonly string[]): Portfolio {
  let p = createPortfolio({ id: 'p', name: 'P', ownerId: 'o', strategy: 'custom' }, NOW);
  for (const id of ids) p = addBusiness(p, id, {}, NOW);
  return p;
}
const weightOf = (p: Portfolio, id: string) => p.allocations.find((a) => a.businessId === id)!.weight;

describe('setWeights', () => {
  it('sets several weights in one version; the rest absorb the difference once, in proportion', () => {
    const p = setAllocation(portfolio(['a', 'b', 'c', 'd']), 'd', { weight: 0.4 }, NOW);
    const next = setWeights(
      p,
      new Map([
        ['a', 0.3],
        ['b', 0.2],
      ]),
      NOW,
    );
    expect(next.version).toBe(p.version + 1);
    expect(weightOf(next, 'a')).toBe(0.3);
    expect(weightOf(next, 'b')).toBe(0.2);
    // c and d shared 0.6 as 0.2 : 0.4, and now share 0.5 the same way.
    expect(weightOf(next, 'c')).toBeCloseTo(0.5 / 3, 12);
    expect(weightOf(next, 'd')).toBeCloseTo(1 / 3, 12);
  });

  it('refuses an unknown business, a weight outside its bounds, or weights that cannot add up', () => {
    const p = portfolio(['a', 'b']);
    expect(() => setWeights(p, new Map([['zz', 0.5]]), NOW)).toThrow('business zz is not in portfolio p');
    expect(() => setWeights(p, new Map([['a', 1.5]]), NOW)).toThrow(
      /weight of a must be a number between 0 and 1/,
    );
    expect(() =>
      setWeights(
        p,
        new Map([
          ['a', 0.5],
          ['b', 0.4],
        ]),
        NOW,
      ),
    ).toThrow(/add up to 90(\.0)?%, not 100%/);
    const bounded = setAllocation(p, 'a', { maxWeight: 0.6 }, NOW);
    expect(() => setWeights(bounded, new Map([['a', 0.7]]), NOW)).toThrow(/outside its bounds \[0, 0.6\]/);
    expect(() => setWeights(p, new Map(), NOW)).toThrow(/no weights given/);
  });

  it('keeps the weights summing to 1 and locked allocations where they are', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (n, raw, lockLast) => {
          const ids = Array.from({ length: n }, (_, i) => `b${i}`);
          let p = portfolio(ids);
          if (lockLast) p = setAllocation(p, ids[n - 1]!, { locked: true }, NOW);
          const given = new Map(raw.slice(0, n - 1).map((w, i) => [ids[i]!, w / (raw.length + 1)]));
          let next: Portfolio;
          try {
            next = setWeights(p, given, NOW);
          } catch {
            return; // refused with a message: nothing to check
          }
          expect(next.allocations.reduce((s, a) => s + a.weight, 0)).toBeCloseTo(1, 9);
          for (const [id, w] of given) expect(weightOf(next, id)).toBe(w);
          if (lockLast) expect(weightOf(next, ids[n - 1]!)).toBe(weightOf(p, ids[n - 1]!));
        },
      ),
    );
  });
});
