/**
 * What the fault-injection tests share: seeding portfolios, the environment of a real
 * `ballast worker`, following a nightly run through QueueEvents, and reading a run's reports
 * back from Redis to check that nothing was lost or applied twice.
 */
import { createHash } from 'node:crypto';
import type { QueueEvents } from 'bullmq';
import { expect } from 'vitest';
import { nightlyJobId } from '../../jobs/payloads.js';
import { NIGHTLY_PRIORITY, type RunProgress } from '../../src/adapters/queue.js';
import type { RedisClient } from '../../src/adapters/redis.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio, type Portfolio, type Strategy } from '../../src/domain/index.js';
import { followRun } from '../../src/runtime/follow-run.js';
import { TEST_EDIT } from '../helpers/app.js';
import type { BallastProcess } from '../helpers/process.js';
import type { RedisTargetFixture } from '../helpers/targets.js';

export const T = '2026-11-25T00:00:00.000Z';

/** The fields of a report (SPEC section 6) that these tests read. */
export interface WireReport {
  report_id: string;
  portfolio_id: string;
  run_id: string;
  applied: boolean;
  version_before: number;
  version_after: number;
  /** Allocations the run moved. */
  changes: number;
  skipped: { reason: string } | null;
  actions: {
    business_id: string;
    action: 'increase' | 'decrease' | 'maintain' | 'locked' | 'no-metrics';
    current_weight: number;
    recommended_weight: number;
    reason: string;
  }[];
}

/**
 * Creates `count` portfolios `<idPrefix>000`, `<idPrefix>001`... with the businesses
 * `businesses(i)` (drift threshold 0, so that every run moves weights). Returns them as stored.
 */
export async function seedPortfolios(
  app: App,
  idPrefix: string,
  count: number,
  businesses: (i: number) => string[],
  strategy: Strategy = 'performance',
): Promise<Portfolio[]> {
  const created: Promise<Portfolio>[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${idPrefix}${String(i).padStart(3, '0')}`;
    // From equal weights a first run moves a third or more: applied, not held by the turnover
    // guard (faults are the subject here; the guards have their own tests).
    let p = createPortfolio(
      { id, name: id, ownerId: 'ops', strategy, driftThreshold: 0, maxAutoTurnover: 1 },
      T,
    );
    for (const b of businesses(i)) p = addBusiness(p, b, {}, T);
    created.push(app.store.create(p, TEST_EDIT));
  }
  return Promise.all(created);
}

/** Deterministic, varied metrics numbers for a business id (so that runs move weights). */
export function figures(id: string): { revenue: number; expenses: number; growth_rate: number } {
  const h = createHash('sha1').update(id).digest().readUInt32BE(0);
  return { revenue: 1000 + (h % 9000), expenses: 400 + (h % 500), growth_rate: (h % 40) - 10 };
}

/** The environment of a `ballast worker` on the test's own prefix and queue. */
export function workerEnv(
  redis: string | RedisTargetFixture,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...(typeof redis === 'string' ? { REDIS_URL: redis } : redis.env()),
    BALLAST_PREFIX: prefix,
    BALLAST_QUEUE: 'q',
    BALLAST_LOG_LEVEL: 'info',
    BALLAST_JOB_BACKOFF_MS: '100',
    ...extra,
  };
}

export interface NightlyRun {
  readonly runId: string;
  /** Resolves when every recalculation of the run has completed or failed (QueueEvents). */
  readonly done: Promise<RunProgress>;
  /** Closes the events reader. */
  close(): Promise<void>;
}

/** Enqueues a nightly run and follows it; the events reader is ready before the job is added. */
export async function startNightly(app: App, runId: string): Promise<NightlyRun> {
  const events: QueueEvents = await app.queue.events(app.redis);
  const fanOutJobId = nightlyJobId(runId);
  const stop = new AbortController();
  const done = followRun(app, events, runId, () => {}, { signal: stop.signal });
  // A rejected run must not be an unhandled rejection before the test awaits it.
  done.catch(() => {});
  await app.queue.add({
    name: 'nightly',
    data: { runId, trigger: 'cron' },
    jobId: fanOutJobId,
    priority: NIGHTLY_PRIORITY,
  });
  return {
    runId,
    done,
    close: async () => {
      stop.abort();
      await events.close();
    },
  };
}

/** The reports of one run in a portfolio's own stream, parsed. */
export async function portfolioRunReports(
  client: RedisClient,
  app: App,
  portfolioId: string,
  runId: string,
): Promise<WireReport[]> {
  const entries = await client.xrange(app.keys.portfolioReports(portfolioId), '-', '+');
  return entries.map(([, f]) => JSON.parse(f[1]!) as WireReport).filter((r) => r.run_id === runId);
}

/** The reports of one run in the global stream, parsed (publishing there is at-least-once). */
export async function globalRunReports(client: RedisClient, app: App, runId: string): Promise<WireReport[]> {
  const entries = await client.xrange(app.keys.reports, '-', '+');
  return entries.map(([, f]) => JSON.parse(f[1]!) as WireReport).filter((r) => r.run_id === runId);
}

export function weightSum(weights: readonly number[]): number {
  return weights.reduce((s, w) => s + w, 0);
}

/**
 * The core promise of SPEC section 5: every portfolio of the run has exactly one report in its
 * own stream, was applied exactly once (version + 1 and last run = this run when it moved a weight;
 * the same version when it moved none), still sums to 1, and
 * reached the global stream (at least once; a repeated entry is the same report).
 */
export async function expectAppliedOnce(
  client: RedisClient,
  app: App,
  seeded: readonly Portfolio[],
  runId: string,
): Promise<void> {
  for (const before of seeded) {
    const reports = await portfolioRunReports(client, app, before.id, runId);
    expect(reports, `reports of ${before.id} for ${runId}`).toHaveLength(1);
    const [report] = reports;
    expect(report).toMatchObject({ applied: true, version_before: before.version });
    const after = await app.store.require(before.id);
    // A run that moves nothing writes nothing (no new version, no history): it still reports.
    const moved = report!.changes > 0;
    expect(after.version, `version of ${before.id}`).toBe(before.version + (moved ? 1 : 0));
    if (moved) expect(after.lastRun?.runId).toBe(runId);
    expect(Math.abs(weightSum(after.allocations.map((a) => a.weight)) - 1)).toBeLessThanOrEqual(1e-9);
    expect(JSON.parse((await app.reports.runReport(before.id, runId))!).report_id).toBe(report!.report_id);
  }
  const global = await globalRunReports(client, app, runId);
  const byId = new Map<string, string>();
  for (const r of global) {
    const json = JSON.stringify(r);
    expect(byId.get(r.report_id) ?? json, `global copies of ${r.report_id}`).toBe(json);
    byId.set(r.report_id, json);
  }
  expect([...byId.keys()].sort()).toEqual(seeded.map((p) => `${runId}.${p.id}`).sort());
}

/** Kills whatever the test started and is still running (afterAll). */
export function killAll(processes: readonly BallastProcess[]): void {
  for (const p of processes)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

/** Resolves on the next call of the returned `signal()`; for handlers that tell a test something happened. */
export function nextEvent(): { wait: () => Promise<void>; signal: () => void } {
  let waiters: (() => void)[] = [];
  return {
    wait: () => new Promise<void>((resolve) => waiters.push(resolve)),
    signal: () => {
      const ready = waiters;
      waiters = [];
      for (const w of ready) w();
    },
  };
}
