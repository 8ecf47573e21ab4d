import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { waterFill } from '../../src/domain/water-fill.js';

/**
 * A slow reference: bisection on lambda for sum(clamp(lambda * s_i, lo_i, hi_i)) = mass. When
 * the items with a positive score are all at their maximum and mass is still left, the rest is
 * split equally (as if every remaining score were 1), which is what waterFill documents.
 */
function reference(scores: number[], lo: number[], hi: number[], mass: number): number[] {
  const solve = (s: number[], l: number[], h: number[], m: number): number[] => {
    const at = (lambda: number) => s.map((si, i) => Math.min(Math.max(lambda * si, l[i]!), h[i]!));
    const total = (lambda: number) => at(lambda).reduce((a, b) => a + b, 0);
    let top = 1;
    while (total(top) < m && top < 1e300) top *= 2;
    let bottom = 0;
    for (let k = 0; k < 2000 && top - bottom > 1e-15 * top; k++) {
      const mid = (bottom + top) / 2;
      if (total(mid) < m) bottom = mid;
      else top = mid;
    }
    return at(top);
  };
  const positive = scores.map((s) => s > 0);
  if (!positive.some(Boolean))
    return solve(
      scores.map(() => 1),
      lo,
      hi,
      mass,
    );
  const allHigh = scores.map((s, i) => (s > 0 ? hi[i]! : lo[i]!)).reduce((a, b) => a + b, 0);
  if (allHigh >= mass) return solve(scores, lo, hi, mass);
  // Every positive-score item at its maximum; the zero-score ones share the rest equally.
  const rest = mass - scores.reduce((a, s, i) => a + (s > 0 ? hi[i]! : 0), 0);
  const idx = scores.flatMap((s, i) => (s > 0 ? [] : [i]));
  const split = solve(
    idx.map(() => 1),
    idx.map((i) => lo[i]!),
    idx.map((i) => hi[i]!),
    rest,
  );
  const out = scores.map((_, i) => hi[i]!);
  idx.forEach((i, j) => {
    out[i] = split[j]!;
  });
  return out;
}

function fill(scores: number[], lo: number[], hi: number[], mass: number): number[] {
  const result = waterFill(scores, lo, hi, mass);
  if (!result.ok) throw new Error(`unexpected refusal: ${result.problem}`);
  return [...result.weights];
}

describe('waterFill', () => {
  it('splits in proportion to the scores when no bound binds', () => {
    expect(fill([1, 3], [0, 0], [1, 1], 1)).toEqual([0.25, 0.75]);
  });

  it('caps an item at its maximum and gives the rest to the others', () => {
    const w = fill([1, 1, 8], [0, 0, 0], [1, 1, 0.5], 1);
    expect(w[2]).toBe(0.5);
    expect(w[0]).toBeCloseTo(0.25, 12);
    expect(w[1]).toBeCloseTo(0.25, 12);
  });

  it('holds an item at its minimum', () => {
    const w = fill([0, 1], [0.3, 0], [1, 1], 1);
    expect(w).toEqual([0.3, 0.7]);
  });

  it('caps an item with the default bounds [0, 1] when the mass is larger than 1', () => {
    // Only items bounded by [0, 1]: lambda * 10 passes 1, so that item must be pinned at 1.
    const w = fill([1, 1, 10], [0, 0, 0], [1, 1, 1], 2.5);
    expect(w[2]).toBe(1);
    expect(w[0]).toBeCloseTo(0.75, 12);
    expect(w[1]).toBeCloseTo(0.75, 12);
  });

  it('refuses masses the bounds cannot hold', () => {
    expect(waterFill([1, 1], [0.6, 0.6], [1, 1], 1)).toMatchObject({ ok: false, problem: 'min-too-high' });
    expect(waterFill([1, 1], [0, 0], [0.4, 0.4], 1)).toMatchObject({ ok: false, problem: 'max-too-low' });
  });

  describe('scores of any magnitude (before the scaling: NaN weights)', () => {
    it('splits subnormal scores in proportion: 1e-310, 1e-310, 2e-310', () => {
      const w = fill([1e-310, 1e-310, 2e-310], [0, 0, 0], [1, 1, 1], 1);
      expect(w[0]).toBeCloseTo(0.25, 12);
      expect(w[1]).toBeCloseTo(0.25, 12);
      expect(w[2]).toBeCloseTo(0.5, 12);
    });

    it('splits scores whose sum overflows: three times 1.7e308', () => {
      const w = fill([1.7e308, 1.7e308, 1.7e308], [0, 0, 0], [1, 1, 1], 1);
      for (const x of w) expect(x).toBeCloseTo(1 / 3, 12);
    });

    it('keeps lambda finite when pinning leaves only a tiny score free', () => {
      // a and b end at their maximums; c (score 1e-310) is then the only free item and takes
      // the rest. Before, lambda = 0.64 / 1e-310 was Infinity and b got 0.3% instead of its max.
      const w = fill(
        [0.000999000999000999, 0.025974025974025976, 1e-310],
        [0.002, 0.0009740259740259744, 0.6403356643356644],
        [0.024, 0.025974025974025976, 0.6643356643356644],
        0.6913086913086912,
      );
      expect(w[0]).toBe(0.024);
      expect(w[1]).toBe(0.025974025974025976);
      expect(w[2]).toBeCloseTo(0.6913086913086912 - 0.024 - 0.025974025974025976, 15);
    });

    it('gives the same weights for scores scaled by any power of two', () => {
      const item = fc.record({
        score: fc.oneof(fc.constant(0), fc.double({ min: 1, max: 2, noNaN: true })),
        bounded: fc.boolean(),
        a: fc.double({ min: 0, max: 1, noNaN: true }),
        b: fc.double({ min: 0, max: 1, noNaN: true }),
      });
      fc.assert(
        fc.property(
          fc.array(item, { minLength: 1, maxLength: 30 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.integer({ min: -1020, max: 1020 }),
          (items, t, exponent) => {
            const scores = items.map((x) => x.score);
            const lo = items.map((x) => (x.bounded ? Math.min(x.a, x.b) / items.length : 0));
            const hi = items.map((x) => (x.bounded ? Math.max(x.a, x.b) : 1));
            const sumLo = lo.reduce((a, b) => a + b, 0);
            const mass = Math.min(1, sumLo + t * (hi.reduce((a, b) => a + b, 0) - sumLo));
            // Weights near 5e-324 have no bits left for the residue to land the same way.
            fc.pre(mass > 1e-9);
            const scaled = scores.map((s) => s * 2 ** exponent);
            // + 0 turns -0 into 0, which toEqual tells apart.
            const weights = (x: number[]) => fill(x, lo, hi, mass).map((w) => w + 0);
            expect(weights(scaled)).toEqual(weights(scores));
          },
        ),
        { numRuns: 1000 },
      );
    });
  });

  it('agrees with a bisection reference on random inputs, bounded or not', () => {
    const item = fc.record({
      score: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 100, noNaN: true })),
      bounded: fc.boolean(),
      a: fc.double({ min: 0, max: 1, noNaN: true }),
      b: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (items, t) => {
          const scores = items.map((x) => x.score);
          const lo = items.map((x) => (x.bounded ? Math.min(x.a, x.b) / items.length : 0));
          const hi = items.map((x) => (x.bounded ? Math.max(x.a, x.b) : 1));
          const sumLo = lo.reduce((a, b) => a + b, 0);
          const sumHi = hi.reduce((a, b) => a + b, 0);
          // Any feasible mass, including masses above 1 (where [0, 1] items can bind).
          const mass = sumLo + t * (sumHi - sumLo);
          const got = fill(scores, lo, hi, mass);
          const want = reference(scores, lo, hi, mass);
          const total = got.reduce((a, b) => a + b, 0);
          expect(Math.abs(total - mass)).toBeLessThanOrEqual(1e-9);
          got.forEach((w, i) => {
            expect(w).toBeGreaterThanOrEqual(lo[i]! - 1e-12);
            expect(w).toBeLessThanOrEqual(hi[i]! + 1e-12);
            expect(Math.abs(w - want[i]!), `item ${i}: ${w} vs ${want[i]}`).toBeLessThanOrEqual(1e-7);
          });
        },
      ),
      { numRuns: 1000 },
    );
  });
});
