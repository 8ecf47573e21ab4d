/**
 * Bench data from a seeded PRNG: businesses with metrics, and portfolios of businesses drawn
 * from them (so that businesses are shared), as Ballast's domain objects.
 */
import type { RedisPortfolioStore } from '../../src/adapters/redis-portfolio-store.js';
import {
  type Allocation,
  type BusinessMetrics,
  type Portfolio,
  STAGES,
  type Strategy,
} from '../../src/domain/index.js';
import { prng } from './prng.js';

export const businessId = (i: number): string => `biz-${String(i).padStart(5, '0')}`;
export const portfolioId = (i: number): string => `pf-${String(i).padStart(6, '0')}`;

export function makeMetrics(count: number, seed: number): BusinessMetrics[] {
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const revenue = Math.round(random() * 1_000_000);
    const expenses = Math.round(revenue * (0.5 + random() * 0.7));
    return {
      businessId: businessId(i),
      name: `Business ${i}`,
      revenue,
      expenses,
      profit: revenue - expenses,
      margin: revenue > 0 ? ((revenue - expenses) / revenue) * 100 : 0,
      customers: Math.floor(random() * 10_000),
      growthRate: -20 + random() * 80,
      healthScore: random() * 100,
      stage: STAGES[Math.floor(random() * (STAGES.length - 1))]!,
      // Fresh for the stale-metrics guard (48 h by default): the bench runs real nights.
      asOf: FRESH,
    };
  });
}

/** When the bench process started: every metric is as of then. */
const FRESH = new Date().toISOString();

/** A realistic mix: mostly performance, every strategy present, some locks, bounds and turnover caps. */
const STRATEGY_MIX: readonly [Strategy, number][] = [
  ['performance', 0.4],
  ['growth', 0.2],
  ['revenue', 0.2],
  ['equal', 0.1],
  ['custom', 0.1],
];

function pickStrategy(r: number): Strategy {
  let acc = 0;
  for (const [strategy, share] of STRATEGY_MIX) {
    acc += share;
    if (r < acc) return strategy;
  }
  return 'performance';
}

/** Portfolio `index` of a seeded series: the same index always gives the same portfolio. */
export function makePortfolio(index: number, size: number, businesses: number, seed: number): Portfolio {
  const random = prng(seed * 7919 + index);
  const strategy = pickStrategy(random());
  const ids = new Set<string>();
  while (ids.size < size) ids.add(businessId(Math.floor(random() * businesses)));
  const raw = [...ids].map(() => 0.5 + random());
  const total = raw.reduce((a, b) => a + b, 0);
  const allocations: Allocation[] = [...ids].map((id, i) => {
    const weight = raw[i]! / total;
    const kind = random();
    const bounded = kind >= 0.05 && kind < 0.15;
    return {
      businessId: id,
      weight,
      priority: 1 + Math.floor(random() * 10),
      locked: kind < 0.05,
      minWeight: bounded ? weight * 0.5 : undefined,
      maxWeight: bounded ? Math.min(1, weight * 1.5) : undefined,
      targetWeight: strategy === 'custom' ? weight * (0.5 + random()) : undefined,
    };
  });
  return {
    id: portfolioId(index),
    name: `Bench portfolio ${index}`,
    ownerId: `owner-${index % 500}`,
    status: 'active',
    strategy,
    totalBudget: 100_000 + Math.round(random() * 900_000),
    targetRoi: 20,
    driftThreshold: 0.01,
    attentionHoursPerWeek: 40,
    maxTurnover: random() < 0.5 ? 0.2 : undefined,
    // The first night from random weights moves a lot: the bench measures the apply path (the
    // guards still run), not a night held for approval.
    maxAutoTurnover: 1,
    allocations,
    version: 1,
    createdAt: '2025-06-01T00:00:00.000Z',
    updatedAt: '2025-06-01T00:00:00.000Z',
  };
}

/** Creates `count` portfolios through the store (its Lua create), `inFlight` at a time. */
export async function seedPortfolios(
  store: RedisPortfolioStore,
  count: number,
  make: (index: number) => Portfolio,
  inFlight = 256,
): Promise<Set<string>> {
  const used = new Set<string>();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const p = make(next++);
      for (const a of p.allocations) used.add(a.businessId);
      await store.create(p, { actor: 'bench', cause: { type: 'edit', command: 'bench seed' } });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return used;
}
