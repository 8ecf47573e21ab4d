import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId, recalculateJobId } from '../../jobs/payloads.js';
import { findFreePort } from '../../src/adapters/redis-launcher.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { type BallastProcess, spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';
import { readReportsUntil } from '../helpers/streams.js';
import { type MetricsServer, startMetricsServer } from '../metrics/metrics-server.js';

const fixture = useRedisPrefix('e2e-worker');
const T = '2026-11-25T00:00:00.000Z';
let server: MetricsServer;
/** Metrics answers are held back this long: jobs stay in flight long enough to be interrupted. */
let delayMs = 150;
/** Called as each metrics request arrives. */
let onRequest: (() => void) | undefined;
const started: BallastProcess[] = [];
let app: App;

function metricsFor(id: string) {
  const n = Number(id.replace(/\D/g, '')) || 1;
  return {
    business_id: id,
    revenue: 1000 * n,
    expenses: 500 * n,
    growth_rate: n,
    health_score: 50 + (n % 50),
  };
}

beforeAll(async () => {
  server = await startMetricsServer(async (req, res) => {
    onRequest?.();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(metricsFor(req.id ?? 'x')));
  });
  app = testApp(fixture.prefix);
});
afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await app?.close();
  await server?.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl(),
    BALLAST_PREFIX: fixture.prefix,
    BALLAST_QUEUE: 'q',
    BALLAST_METRICS_SOURCE: 'http',
    BALLAST_METRICS_URL: server.url,
    BALLAST_METRICS_TIMEOUT_MS: '5000',
    BALLAST_LOG_LEVEL: 'info',
    BALLAST_LOCK_DURATION_MS: '1500',
    BALLAST_STALLED_INTERVAL_MS: '1000',
    BALLAST_JOB_BACKOFF_MS: '100',
    ...extra,
  };
}

function worker(extra: Record<string, string> = {}): BallastProcess {
  const p = spawnBallast(['worker'], env(extra));
  started.push(p);
  return p;
}

async function seedPortfolios(prefix: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}${String(i).padStart(3, '0')}`;
    // From equal weights the first run moves a third or more: not held (the guards are not the subject).
    let p = createPortfolio(
      { id, name: id, ownerId: 'ops', strategy: 'performance', driftThreshold: 0, maxAutoTurnover: 1 },
      T,
    );
    for (let b = 1; b <= 3; b++) p = addBusiness(p, `biz${(i * 3 + b) % 17}`, {}, T);
    await app.store.create(p, TEST_EDIT);
    ids.push(id);
  }
  return ids;
}

describe('ballast worker process', () => {
  it('loses no portfolio and applies none twice when a worker is SIGKILLed mid-run', async () => {
    const ids = await seedPortfolios('k', 24);
    const first = worker({ BALLAST_CONCURRENCY: '4' });
    await first.waitFor(/worker started/);
    const runId = 'cron-20261125T020000Z';
    await app.queue.add({
      name: 'nightly',
      data: { runId, trigger: 'cron' },
      jobId: nightlyJobId(runId),
      priority: 0,
    });

    // Kill it once some portfolios are done and others are in flight.
    await readReportsUntil(
      fixture.client,
      app.keys.reports,
      (r) => r.filter((x) => x.run_id === runId).length >= 4,
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = worker({ BALLAST_CONCURRENCY: '8' });
    await second.waitFor(/worker started/);
    await readReportsUntil(
      fixture.client,
      app.keys.reports,
      (r) => new Set(r.filter((x) => x.run_id === runId).map((x) => x.portfolio_id)).size === ids.length,
    );
    for (const id of ids) {
      const reports = await fixture.client.xrange(app.keys.portfolioReports(id), '-', '+');
      const ofRun = reports.map(([, f]) => JSON.parse(f[1]!)).filter((r) => r.run_id === runId);
      expect(ofRun, `portfolio ${id}`).toHaveLength(1);
      const p = await app.store.require(id);
      // Created at version 4 (create + 3 adds); applied exactly once.
      expect(p.version, `portfolio ${id}`).toBe(5);
      expect(p.lastRun?.runId).toBe(runId);
      expect(Math.abs(p.allocations.reduce((s, a) => s + a.weight, 0) - 1)).toBeLessThanOrEqual(1e-9);
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('finishes the active job on SIGTERM and exits 0', async () => {
    delayMs = 1500;
    try {
      const [id] = await seedPortfolios('t', 1);
      const w = worker();
      await w.waitFor(/worker started/);
      const runId = 'manual-sigterm-1';
      const requested = new Promise<void>((resolve) => {
        onRequest = resolve;
      });
      await app.queue.add({
        name: 'recalculate',
        data: { portfolioId: id, runId, trigger: 'manual' },
        jobId: recalculateJobId(runId, id!),
        priority: 0,
      });
      // The job is active: it is waiting for its metrics.
      await requested;
      w.child.kill('SIGTERM');
      await w.waitFor(/shutting down/);
      expect(await w.exited).toBe(0);
      const report = JSON.parse((await app.reports.runReport(id!, runId))!);
      expect(report).toMatchObject({ run_id: runId, applied: true });
      expect(w.stderr()).toMatch(/worker stopped/);
    } finally {
      onRequest = undefined;
      delayMs = 150;
    }
  });

  it('keeps logging connection errors as JSON lines while Redis cannot be reached (a role, not an operator command)', async () => {
    const p = worker({ REDIS_URL: 'redis://127.0.0.1:1' });
    const line = await p.waitFor(/"msg":"redis connection error"/);
    expect(JSON.parse(line)).toMatchObject({
      level: 40,
      role: 'worker',
      err: expect.stringMatching(/ECONNREFUSED/),
    });
    p.child.kill('SIGKILL');
    await p.exited;
  });

  it('stops on SIGTERM with exit 0 while its start still waits for an unreachable Redis', async () => {
    const p = worker({ REDIS_URL: `redis://127.0.0.1:${await findFreePort()}` });
    await p.waitFor(/redis connection error/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/worker stopping before it started/);
  });
});
