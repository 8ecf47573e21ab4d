/**
 * The soak bench: a year and more of nights on a private Redis, with the app's clock moving one day
 * a night, to show that Redis memory goes flat once the retention window (BALLAST_RETENTION_DAYS,
 * 90 by default) is full. Each night runs the recalculate job's own handler for every portfolio
 * (the commit script, history, audit, reports, baseline, run tally: all of what a night writes),
 * in-process, without BullMQ's queue around it (whose finished jobs are bounded by count and
 * age: BALLAST_KEEP_COMPLETED). Metrics drift a few percent a night, as real ones do.
 *
 * Prints used_memory every `--every` nights, the bytes a portfolio-night costs once the window is
 * full, and whether memory stayed flat (within 5%) from then on: the baseline is the same run's
 * own memory at the first full window. `npm run bench:soak` (400 nights x 1,000 portfolios x 20
 * businesses; `--nights 120 --portfolios 200` for a quick look).
 *
 * Run markers and run hashes expire on Redis's own clock (EXPIRE), which does not move with the
 * simulated one: the bench deletes those of the night BALLAST_RUN_MARKER_TTL_S (14 days) ago
 * itself, as Redis would in real time. Metrics come with the one or two decimals a metrics
 * system sends (the margin with two).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { pino } from 'pino';
import type { JobContext } from '../jobs/job.js';
import { recalculateJob } from '../jobs/recalculate.js';
import type { MetricsResult, MetricsSource } from '../src/adapters/metrics/metrics-source.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { BusinessMetrics } from '../src/domain/index.js';
import { makeMetrics, makePortfolio, portfolioId, seedPortfolios } from './lib/dataset.js';
import { prng } from './lib/prng.js';
import { benchPrefix, benchRedis, cleanUp, usedMemory } from './lib/redis.js';
import { formatTable } from './lib/table.js';

const SEED = 20_250_601;
const DAY = 86_400_000;
const FLAT_WITHIN = 0.05;

/** Business metrics that drift by up to +-3% a night, stamped as of the simulated now. */
class DriftingMetrics implements MetricsSource {
  readonly kind = 'redis' as const;
  readonly #metrics = new Map<string, BusinessMetrics>();
  readonly #random = prng(SEED + 1);
  #asOf = '';

  constructor(businesses: number) {
    for (const m of makeMetrics(businesses, SEED)) this.#metrics.set(m.businessId, m);
  }

  night(now: Date): void {
    this.#asOf = now.toISOString();
    const r = this.#random;
    for (const [id, m] of this.#metrics) {
      const revenue = Math.round(m.revenue * (0.97 + r() * 0.06));
      const expenses = Math.round(m.expenses * (0.97 + r() * 0.06));
      const profit = revenue - expenses;
      const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;
      this.#metrics.set(id, {
        ...m,
        revenue,
        expenses,
        profit,
        margin: revenue > 0 ? round((profit / revenue) * 100, 2) : 0,
        customers: Math.max(0, Math.round(m.customers * (0.98 + r() * 0.04))),
        growthRate: round(m.growthRate, 1),
        healthScore: round(m.healthScore, 1),
        asOf: this.#asOf,
      });
    }
  }

  async fetch(ids: readonly string[]): Promise<MetricsResult> {
    const metrics = new Map<string, BusinessMetrics>();
    for (const id of ids) {
      const m = this.#metrics.get(id);
      if (m) metrics.set(id, m);
    }
    return { metrics, missing: new Map() };
  }
}

interface Sample {
  readonly night: number;
  readonly usedMb: number;
  readonly perPortfolioNight: number | null;
  readonly vsFull: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nights: { type: 'string', default: '400' },
      portfolios: { type: 'string', default: '1000' },
      businesses: { type: 'string', default: '20' },
      every: { type: 'string', default: '25' },
      concurrency: { type: 'string', default: '32' },
      'retention-days': { type: 'string', default: '90' },
      out: { type: 'string' },
    },
  });
  const nights = Number(values.nights);
  const count = Number(values.portfolios);
  const size = Number(values.businesses);
  const every = Number(values.every);
  const windowDays = Number(values['retention-days']);
  const target = await benchRedis();
  const prefix = benchPrefix();
  const config = {
    ...loadConfig({
      REDIS_URL: target.url,
      BALLAST_PREFIX: prefix,
      BALLAST_QUEUE: `${prefix}-q`,
      BALLAST_LOG_LEVEL: 'silent',
      BALLAST_RETENTION_DAYS: String(windowDays),
    }),
    // Expired by the bench on the simulated clock (below), never by Redis during the run.
    runMarkerTtlSeconds: 7 * 86_400,
  };
  const markerNights = Math.round(loadConfig({}).runMarkerTtlSeconds / 86_400);
  let now = new Date('2026-01-01T02:00:00.000Z');
  const source = new DriftingMetrics(Math.max(size * 4, 2_000));
  const log = pino({ level: 'silent' });
  const app = createApp(config, { clock: () => now, metricsSource: source, log });
  const samples: Sample[] = [];
  try {
    await seedPortfolios(app.store, count, (i) => makePortfolio(i, size, Math.max(size * 4, 2_000), SEED));
    const baseline = await usedMemory(app.redis);
    console.log(
      `soak: ${nights} nights x ${count} portfolios x ${size} businesses, retention ${windowDays} days; ` +
        `after seeding used_memory ${(baseline / 2 ** 20).toFixed(1)} MB`,
    );
    const limit = pLimit(Number(values.concurrency));
    const ids = Array.from({ length: count }, (_, i) => portfolioId(i));
    let full: number | null = null;
    const runs: string[] = [];
    const started = performance.now();
    for (let night = 1; night <= nights; night++) {
      now = new Date(now.getTime() + DAY);
      source.night(now);
      const runId = `cron-${now
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '')}`;
      await Promise.all(
        ids.map((portfolioId) =>
          limit(() =>
            recalculateJob.handler(
              { portfolioId, runId, trigger: 'cron', dryRun: false, catchUp: false, fanOut: true },
              context(app, new AbortController().signal, `${runId}.${portfolioId}`),
            ),
          ),
        ),
      );
      runs.push(runId);
      if (runs.length > markerNights) await expireRun(app, runs.shift()!, ids);
      if (night % every !== 0 && night !== nights) continue;
      const used = await usedMemory(app.redis);
      const retained = Math.min(night, windowDays);
      const perPortfolioNight = (used - baseline) / (count * retained);
      if (night >= windowDays + every && full === null) full = used;
      samples.push({
        night,
        usedMb: used / 2 ** 20,
        perPortfolioNight: night >= windowDays ? perPortfolioNight : null,
        vsFull: full === null ? '-' : `${(((used - full) / full) * 100).toFixed(1)}%`,
      });
      console.log(
        `night ${String(night).padStart(3)}: used_memory ${(used / 2 ** 20).toFixed(1)} MB, ` +
          `${Math.round(perPortfolioNight)} bytes per retained portfolio-night ` +
          `(${((performance.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
    console.log(
      `\n${formatTable(
        [
          { header: 'night', value: (s: Sample) => String(s.night), align: 'right' },
          { header: 'used_memory MB', value: (s) => s.usedMb.toFixed(1), align: 'right' },
          {
            header: 'bytes / portfolio-night',
            value: (s) =>
              s.perPortfolioNight === null ? '(window filling)' : String(Math.round(s.perPortfolioNight)),
            align: 'right',
          },
          { header: 'vs first full window', value: (s) => s.vsFull, align: 'right' },
        ],
        samples,
      )}`,
    );
    const after = samples.filter((s) => s.night >= windowDays + every);
    const low = Math.min(...after.map((s) => s.usedMb));
    const high = Math.max(...after.map((s) => s.usedMb));
    const flat = after.length >= 2 && (high - low) / low <= FLAT_WITHIN;
    const steady = after.at(-1)?.perPortfolioNight ?? null;
    console.log(
      after.length < 2
        ? `not enough nights past the ${windowDays}-day window to judge flatness (run more --nights)`
        : `${flat ? 'FLAT' : 'NOT FLAT'}: from night ${after[0]!.night} used_memory stayed within ${low.toFixed(1)}..${high.toFixed(1)} MB (${(((high - low) / low) * 100).toFixed(1)}%, limit ${FLAT_WITHIN * 100}%); ${steady === null ? '' : `${Math.round(steady)} bytes per retained portfolio-night at ${size} businesses`}`,
    );
    const groups = await memoryByKind(app.redis, prefix);
    console.log(
      `\nwhere the memory is at the end (MEMORY USAGE by kind of key):\n${formatTable(
        [
          { header: 'key', value: (g: KeyGroup) => g.kind },
          { header: 'keys', value: (g) => String(g.keys), align: 'right' },
          { header: 'bytes', value: (g) => String(g.bytes), align: 'right' },
          { header: 'bytes / portfolio', value: (g) => String(Math.round(g.bytes / count)), align: 'right' },
        ],
        groups,
      )}`,
    );
    if (values.out) {
      writeFileSync(
        values.out,
        JSON.stringify(
          { bench: 'soak', nights, portfolios: count, businesses: size, windowDays, samples, flat },
          null,
          2,
        ),
      );
    }
    if (after.length >= 2 && !flat) process.exitCode = 1;
  } finally {
    await cleanUp(app.redis, prefix);
    await app.close();
    await target.stop();
  }
}

/** What Redis would have expired by now, were its clock the simulated one: a run's markers and hashes. */
async function expireRun(
  app: ReturnType<typeof createApp>,
  runId: string,
  ids: readonly string[],
): Promise<void> {
  const k = app.keys;
  for (let i = 0; i < ids.length; i += 500) {
    const keys = ids.slice(i, i + 500).map((id) => k.runMarker(id, runId));
    await app.redis.unlink(...keys);
  }
  await app.redis.unlink(k.run(runId), k.runPortfolios(runId), k.runGone(runId), k.runFailed(runId));
}

interface KeyGroup {
  readonly kind: string;
  readonly keys: number;
  readonly bytes: number;
}

/** Every key of the prefix, grouped by shape (ids replaced), with MEMORY USAGE summed. */
async function memoryByKind(
  redis: ReturnType<typeof createApp>['redis'],
  prefix: string,
): Promise<KeyGroup[]> {
  const groups = new Map<string, { keys: number; bytes: number }>();
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', '0');
      const sizes = (await pipeline.exec()) ?? [];
      keys.forEach((key, i) => {
        const kind = key
          .replace(prefix, '<prefix>')
          .replace(/\{pf-\d+\}/, '{<pid>}')
          .replace(/cron-[0-9TZ]+/, '<run>')
          .replace(/owner:\{[^}]+\}/, 'owner:{<owner>}')
          .replace(/:\d+$/, ':<n>');
        const g = groups.get(kind) ?? { keys: 0, bytes: 0 };
        g.keys++;
        g.bytes += Number(sizes[i]?.[1] ?? 0);
        groups.set(kind, g);
      });
    } while (cursor !== '0');
  }
  return [...groups].map(([kind, g]) => ({ kind, ...g })).sort((a, b) => b.bytes - a.bytes);
}

function context(app: ReturnType<typeof createApp>, signal: AbortSignal, jobId: string): JobContext {
  return {
    log: app.log,
    clock: app.clock,
    signal,
    config: app.config,
    store: app.store,
    reports: app.reports,
    proposals: app.proposals,
    metricsFor: app.metricsFor,
    queue: app.queue,
    jobId,
    attemptsMade: 0,
    updateProgress: async () => {},
  };
}

await main();
