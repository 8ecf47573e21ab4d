/**
 * recommend() on large random portfolios (SPEC section 5: 100,000 businesses in under 50 ms).
 * Only recommend is timed: portfolios and metrics maps are built beforehand from a seeded PRNG,
 * so every run measures the same inputs. Run with `npm run bench:recommend`.
 *
 * Main rows: performance strategy, ~5% locked, ~2% without metrics, ~5% with min/max bounds,
 * max_turnover 0.1 and a drift threshold of a quarter of the average weight, so that some
 * allocations are maintained and the re-split rounds run (with the default threshold of 0.05,
 * every target in a 100k portfolio is within the band and recommend stops after one round).
 *
 * For a profile of one size: `node --cpu-prof dist/bench/recommend.js --sizes 100000 --only-main`.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Allocation,
  type BusinessMetrics,
  type Portfolio,
  recommend,
  STAGES,
  type Strategy,
  SUM_TOLERANCE,
} from '../src/domain/index.js';

const TARGET_N = 100_000;
const TARGET_MS = 50;
export const SIZES = [1_000, 10_000, 100_000, 1_000_000];
export const SEED = 20_250_601;

/** mulberry32: small, fast and good enough to build test data reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Case {
  readonly portfolio: Portfolio;
  readonly metrics: ReadonlyMap<string, BusinessMetrics>;
}

export function buildCase(n: number, strategy: Strategy, seed: number): Case {
  const random = prng(seed);
  const raw = Array.from({ length: n }, () => 0.5 + random());
  const total = raw.reduce((sum, w) => sum + w, 0);
  const allocations: Allocation[] = [];
  const metrics = new Map<string, BusinessMetrics>();
  for (let i = 0; i < n; i++) {
    const businessId = `b${i.toString(36).padStart(5, '0')}`;
    const weight = raw[i]! / total;
    const kind = random();
    const locked = kind < 0.05;
    const bounded = kind >= 0.05 && kind < 0.1;
    allocations.push({
      businessId,
      weight,
      priority: 1 + Math.floor(random() * 10),
      locked,
      minWeight: bounded ? weight * 0.5 : undefined,
      maxWeight: bounded ? weight * 1.5 : undefined,
      targetWeight: strategy === 'custom' ? weight * (0.5 + random()) : undefined,
    });
    if (random() < 0.02) continue; // no metrics this run
    const revenue = Math.round(random() * 1_000_000);
    const expenses = Math.round(revenue * (0.5 + random() * 0.7));
    metrics.set(businessId, {
      businessId,
      revenue,
      expenses,
      profit: revenue - expenses,
      margin: revenue > 0 ? ((revenue - expenses) / revenue) * 100 : 0,
      customers: Math.floor(random() * 10_000),
      growthRate: -20 + random() * 80,
      healthScore: random() * 100,
      stage: STAGES[Math.floor(random() * STAGES.length)]!,
    });
  }
  const portfolio: Portfolio = {
    id: `bench-${n}`,
    name: `bench ${n}`,
    ownerId: 'bench',
    status: 'active',
    strategy,
    totalBudget: 1_000_000,
    targetRoi: 20,
    driftThreshold: 0.25 / n,
    attentionHoursPerWeek: 40,
    maxTurnover: 0.1,
    allocations,
    version: 1,
    createdAt: '2025-06-01T00:00:00.000Z',
    updatedAt: '2025-06-01T00:00:00.000Z',
  };
  return { portfolio, metrics };
}

export interface Row {
  readonly label: string;
  readonly n: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly nsPerBusiness: number;
  readonly actions: Readonly<Record<string, number>>;
}

/** Warm-up: at least `warmups` calls and, for small sizes, at least this long, so the JIT has settled. */
const WARMUP_MS = 200;

export function measure(label: string, c: Case, warmups: number, runs: number): Row {
  const n = c.portfolio.allocations.length;
  const warmupStart = performance.now();
  let last = recommend(c.portfolio, c.metrics);
  for (let i = 1; i < warmups || performance.now() - warmupStart < WARMUP_MS; i++) {
    last = recommend(c.portfolio, c.metrics);
  }
  check(c, last);
  const times: number[] = [];
  let touched = 0;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    last = recommend(c.portfolio, c.metrics);
    // Timed with what a caller of recommend uses: every action's kind and new weight. Reasons
    // are strings written when read (a report's serialisation), so they are not in this figure.
    for (const a of last.actions) if (a.action !== 'maintain') touched += a.recommendedWeight;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  if (Number.isNaN(touched)) throw new Error('unreachable');
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)]!;
  const actions: Record<string, number> = {};
  for (const a of last.actions) actions[a.action] = (actions[a.action] ?? 0) + 1;
  return { label, n, runs, medianMs, minMs: times[0]!, nsPerBusiness: (medianMs * 1e6) / n, actions };
}

/** A fast wrong answer is no result: weights sum to 1 and locked allocations do not move. */
function check(c: Case, rec: ReturnType<typeof recommend>): void {
  let sum = 0;
  rec.actions.forEach((a, i) => {
    sum += a.recommendedWeight;
    const before = c.portfolio.allocations[i]!;
    if (before.locked && a.recommendedWeight !== before.weight)
      throw new Error(`${a.businessId}: locked but moved`);
  });
  if (Math.abs(sum - 1) > SUM_TOLERANCE) throw new Error(`weights sum to ${sum}`);
}

function table(rows: readonly Row[]): string {
  const header = ['case', 'n', 'runs', 'median ms', 'min ms', 'ns/business', 'actions'];
  const lines = rows.map((r) => [
    r.label,
    r.n.toLocaleString('en-US'),
    String(r.runs),
    r.medianMs.toFixed(2),
    r.minMs.toFixed(2),
    r.nsPerBusiness.toFixed(0),
    Object.entries(r.actions)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const render = (cells: string[]) =>
    cells.map((cell, c) =>
      c === 0 || c === cells.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!),
    );
  return [header, ...lines].map((cells) => render(cells).join('  ').trimEnd()).join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      'only-main': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node dist/bench/recommend.js [--sizes 1000,10000,100000,1000000] [--only-main] [--out file.json]\n' +
        '--only-main: the performance strategy only (no equal/growth/revenue/custom rows at 100,000).',
    );
    return;
  }
  const sizes = values.sizes ? values.sizes.split(',').map(Number) : SIZES;
  console.log(`recommend() benchmark, node ${process.version}, seed ${SEED}`);
  const rows: Row[] = [];
  for (const n of sizes) {
    const big = n >= 1_000_000;
    rows.push(measure('performance', buildCase(n, 'performance', SEED + n), big ? 1 : 3, big ? 3 : 7));
  }
  if (!values['only-main']) {
    for (const strategy of ['equal', 'growth', 'revenue', 'custom'] as const) {
      rows.push(measure(strategy, buildCase(TARGET_N, strategy, SEED + 1), 3, 7));
    }
  }
  console.log(table(rows));
  const target = rows.find((r) => r.label === 'performance' && r.n === TARGET_N);
  if (!target) return;
  const pass = target.medianMs < TARGET_MS;
  console.log(
    `${pass ? 'PASS' : 'FAIL'}: performance at ${TARGET_N.toLocaleString('en-US')} businesses, median ${target.medianMs.toFixed(2)} ms (target < ${TARGET_MS} ms)`,
  );
  writeFileSync(
    values.out ?? new URL('../../bench/results.json', import.meta.url),
    `${JSON.stringify({ node: process.version, seed: SEED, targetMs: TARGET_MS, pass, rows }, null, 2)}\n`,
  );
  if (!pass) process.exitCode = 1;
}

// Also a module: bench/recommend-vs-sketch.ts measures the same cases.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
