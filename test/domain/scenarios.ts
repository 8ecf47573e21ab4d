/** Random portfolios for the property tests: see properties.test.ts. */
import fc from 'fast-check';
import {
  type Allocation,
  type BusinessMetrics,
  MONEY_LIMIT,
  metricsFromWire,
  PERCENT_LIMIT,
  type Portfolio,
  STAGES,
  STRATEGIES,
} from '../../src/domain/index.js';

const T0 = '2026-01-01T00:00:00.000Z';

/**
 * How a business's bounds are drawn. 'around' brackets the current weight (always holdable);
 * 'wild' is any [min, max] and may exclude the current weight, which is what makes recommend
 * infeasible; a portfolio's bounds mode sets how often each kind appears.
 */
export interface BusinessSeed {
  readonly tag: number;
  readonly raw: number;
  readonly lockDraw: number;
  readonly boundsDraw: number;
  readonly below: number;
  readonly above: number;
  readonly wildA: number;
  readonly wildB: number;
  readonly minOnly: boolean;
  /** A fraction. */
  readonly target: number | null;
  readonly priority: number;
  readonly metrics: {
    readonly revenue: number;
    readonly profit: number;
    readonly growth: number;
    readonly health: number;
    readonly stage: (typeof STAGES)[number];
  } | null;
}

export const metricsSeedArb = fc.oneof(
  // Wide ranges: negative revenue and profit included.
  fc.record({
    revenue: fc.integer({ min: -5000, max: 200_000 }),
    profit: fc.integer({ min: -80_000, max: 80_000 }),
    growth: fc.integer({ min: -60, max: 300 }),
    health: fc.integer({ min: 0, max: 100 }),
    stage: fc.constantFrom(...STAGES),
  }),
  // Tiny ranges: many ties, all-zero scores.
  fc.record({
    revenue: fc.integer({ min: -1, max: 2 }),
    profit: fc.integer({ min: -1, max: 1 }),
    growth: fc.integer({ min: -1, max: 1 }),
    health: fc.constantFrom(0, 50, 100),
    stage: fc.constantFrom('growth', 'mature'),
  }),
  // Extreme magnitudes the wire schema accepts: its limits, subnormal numbers, any double in
  // between. Before the limits and the score scaling, such metrics gave NaN weights.
  fc.record({
    revenue: extreme(MONEY_LIMIT),
    profit: extreme(MONEY_LIMIT),
    growth: extreme(PERCENT_LIMIT),
    health: fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom(5e-324, 100)),
    stage: fc.constantFrom(...STAGES),
  }),
);

/** Doubles within +-limit, weighted towards the limits themselves and towards subnormals. */
function extreme(limit: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(limit, -limit, 5e-324, 1e-310, 2e-310, -1e-310, 0),
    fc.double({ min: -limit, max: limit, noNaN: true }),
    fc.double({ min: 0, max: 1e-300, noNaN: true }),
  );
}

export const businessSeedArb: fc.Arbitrary<BusinessSeed> = fc.record({
  tag: fc.integer({ min: 0, max: 999 }),
  // Sometimes next to nothing: tiny weights are tiny scores in proportional spreads.
  raw: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(1), fc.constantFrom(1e-300, 5e-324)),
  lockDraw: fc.integer({ min: 0, max: 99 }),
  boundsDraw: fc.integer({ min: 0, max: 99 }),
  below: fc.integer({ min: 0, max: 300 }),
  above: fc.integer({ min: 0, max: 300 }),
  wildA: fc.integer({ min: 0, max: 100 }),
  wildB: fc.integer({ min: 0, max: 100 }),
  minOnly: fc.boolean(),
  target: fc.option(
    fc.oneof(
      fc.integer({ min: 0, max: 100 }).map((t) => t / 100),
      fc.constantFrom(1e-310, 5e-324, 1),
    ),
    { freq: 3 },
  ),
  priority: fc.integer({ min: 1, max: 10 }),
  metrics: fc.option(metricsSeedArb, { freq: 6 }),
});

export type BoundsMode = 'none' | 'around' | 'mixed' | 'wild';

export interface Scenario {
  readonly portfolio: Portfolio;
  readonly metrics: ReadonlyMap<string, BusinessMetrics>;
  /** A permutation of 0..n-1 for reordering maps and allocations. */
  readonly order: readonly number[];
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    businesses: fc.array(businessSeedArb, { minLength: 1, maxLength: 200, size: 'max' }),
    strategy: fc.constantFrom(...STRATEGIES),
    lockRate: fc.constantFrom(0, 10, 30, 90),
    boundsMode: fc.oneof(
      { arbitrary: fc.constant<BoundsMode>('none'), weight: 3 },
      { arbitrary: fc.constant<BoundsMode>('around'), weight: 4 },
      { arbitrary: fc.constant<BoundsMode>('mixed'), weight: 2 },
      { arbitrary: fc.constant<BoundsMode>('wild'), weight: 1 },
    ),
    drift: fc.oneof(fc.constant(0), fc.constant(200), fc.integer({ min: 0, max: 200 })),
    maxTurnover: fc.option(fc.oneof(fc.constant(0), fc.constant(1000), fc.integer({ min: 0, max: 1000 })), {
      freq: 2,
    }),
    version: fc.integer({ min: 1, max: 50 }),
    sortKeys: fc.array(fc.integer(), { minLength: 200, maxLength: 200 }),
  })
  .map((g) => buildScenario(g));

export function buildScenario(g: {
  businesses: BusinessSeed[];
  strategy: Portfolio['strategy'];
  lockRate: number;
  boundsMode: BoundsMode;
  drift: number;
  maxTurnover: number | null;
  version: number;
  sortKeys: number[];
}): Scenario {
  const seeds = g.businesses;
  let total = seeds.reduce((sum, b) => sum + b.raw, 0);
  const raws = seeds.map((b) => b.raw);
  if (total === 0) {
    raws[0] = 1;
    total = 1;
  }
  const metrics = new Map<string, BusinessMetrics>();
  const allocations: Allocation[] = seeds.map((b, i) => {
    // Unique ids whose sort order has nothing to do with the portfolio order.
    const businessId = `b${String(b.tag).padStart(3, '0')}-${i}`;
    const weight = raws[i]! / total;
    let minWeight: number | undefined;
    let maxWeight: number | undefined;
    const kind = boundsKind(g.boundsMode, b.boundsDraw);
    if (kind === 'around') {
      minWeight = Math.max(0, weight - b.below / 1000);
      maxWeight = b.minOnly ? undefined : Math.min(1, weight + b.above / 1000);
    } else if (kind === 'wild') {
      // Mixed: scaled to the business's fair share, so that some portfolios can hold them and
      // some not. Wild: anywhere in [0,1], which few portfolios can hold.
      const scale = (g.boundsMode === 'wild' ? 1 : Math.min(1, 2 / seeds.length)) / 100;
      minWeight = Math.min(b.wildA, b.wildB) * scale;
      maxWeight = b.minOnly ? undefined : Math.max(b.wildA, b.wildB) * scale;
    }
    if (b.metrics) metrics.set(businessId, seedMetrics(businessId, b.metrics));
    return {
      businessId,
      weight,
      priority: b.priority,
      locked: b.lockDraw < g.lockRate,
      minWeight,
      maxWeight,
      targetWeight: b.target === null ? undefined : b.target,
    };
  });
  const order = allocations.map((_, i) => i).sort((x, y) => g.sortKeys[x]! - g.sortKeys[y]! || x - y);
  const portfolio: Portfolio = {
    id: 'prop-portfolio',
    name: 'Property portfolio',
    ownerId: 'owner-1',
    status: 'active',
    strategy: g.strategy,
    totalBudget: 100_000,
    targetRoi: 20,
    driftThreshold: g.drift / 1000,
    attentionHoursPerWeek: 40,
    maxTurnover: g.maxTurnover === null ? undefined : g.maxTurnover / 1000,
    allocations,
    version: g.version,
    createdAt: T0,
    updatedAt: T0,
  };
  return { portfolio, metrics, order };
}

/** Through the wire schema, so that every scenario holds metrics a source could deliver. */
function seedMetrics(businessId: string, m: NonNullable<BusinessSeed['metrics']>): BusinessMetrics {
  const clamp = (x: number, limit: number) => Math.min(limit, Math.max(-limit, x));
  const margin = m.revenue > 0 ? (m.profit / m.revenue) * 100 : 0;
  return metricsFromWire({
    business_id: businessId,
    revenue: m.revenue,
    expenses: clamp(m.revenue - m.profit, MONEY_LIMIT),
    profit: m.profit,
    margin: Number.isFinite(margin) ? clamp(margin, PERCENT_LIMIT) : PERCENT_LIMIT * Math.sign(m.profit),
    customers: Math.floor(Math.max(0, m.revenue) % 97),
    growth_rate: m.growth,
    health_score: m.health,
    stage: m.stage,
  });
}

export function boundsKind(mode: BoundsMode, draw: number): 'none' | 'around' | 'wild' {
  switch (mode) {
    case 'none':
      return 'none';
    case 'around':
      return draw < 50 ? 'around' : 'none';
    case 'mixed':
      return draw < 40 ? 'around' : draw < 45 ? 'wild' : 'none';
    case 'wild':
      return draw < 60 ? 'wild' : 'none';
  }
}

/**
 * The chain of the drift-band rounds written out (revenue strategy): businesses c_0..c_R of one
 * dominant revenue, each just inside the band of its own round's target on alternate sides, so
 * that round r keeps c_r alone; y (the largest revenue, capped) and m tiny ones move. With the
 * chain kept, y stays at its cap and the tiny ones split the rest by their tiny scores.
 */
export const bandChainArb: fc.Arbitrary<Scenario> = fc
  .record({
    chain: fc.integer({ min: 1, max: 10 }),
    tinyCount: fc.integer({ min: 2, max: 24 }),
    drift: fc.constantFrom(0.002, 0.01, 0.02),
    side: fc.constantFrom(-1, 1),
    cap: fc.double({ min: 0.2, max: 0.6, noNaN: true }),
    base: fc.integer({ min: 30, max: 46 }),
    /** Tiny revenues are 2^-(38 + shift) of the chain's: their sum near its last bits. */
    shift: fc.integer({ min: 10, max: 20 }),
    tinyWeight: fc.double({ min: 1.05, max: 1.6, noNaN: true }),
  })
  .map(({ chain, tinyCount, drift, side, cap, base, shift, tinyWeight }) => {
    const inside = drift * (1 - 1e-6);
    const signs = Array.from({ length: chain + 1 }, (_, r) => ((chain - r) % 2 === 0 ? side : -side));
    // The chain's targets relative to the last one's: keeping c_r moves the rest's by its offset.
    const relative = new Array<number>(chain + 1).fill(0);
    for (let r = chain - 1; r >= 0; r--) relative[r] = relative[r + 1]! + (signs[r]! * inside) / (chain - r);
    const last = (1 - cap) / (chain + 1) - relative[0]!;
    const chainWeights = relative.map((t, r) => Math.max(0, t + last + signs[r]! * inside));
    const tiny = drift + (tinyWeight * inside) / tinyCount;
    const entries: [string, number, number, number | undefined][] = [
      ...Array.from({ length: tinyCount }, (_, i): [string, number, number, undefined] => [
        `t${i}`,
        tiny,
        2 ** (base - 38 - shift) * (1 + i / tinyCount),
        undefined,
      ]),
      ...chainWeights.map((w, r): [string, number, number, undefined] => [`c${r}`, w, 2 ** base, undefined]),
    ];
    const used = entries.reduce((sum, [, w]) => sum + w, 0);
    entries.push(['y', Math.max(0, 1 - used), 2 ** (base + 2), cap]);
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    const allocations: Allocation[] = entries.map(([businessId, weight, , maxWeight]) => ({
      businessId,
      weight: weight / total,
      priority: 5,
      locked: false,
      maxWeight,
    }));
    const metrics = new Map(
      entries.map(([id, , revenue]) => [
        id,
        metricsFromWire({ business_id: id, revenue, expenses: 0, growth_rate: 0, health_score: 50 }),
      ]),
    );
    const portfolio: Portfolio = {
      id: 'prop-portfolio',
      name: 'Property portfolio',
      ownerId: 'owner-1',
      status: 'active',
      strategy: 'revenue',
      totalBudget: 100_000,
      targetRoi: 20,
      driftThreshold: drift,
      attentionHoursPerWeek: 40,
      allocations,
      version: 1,
      createdAt: T0,
      updatedAt: T0,
    };
    return { portfolio, metrics, order: entries.map((_, i) => i) };
  });
