import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/adapters/redis-launcher.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { type BallastProcess, runBallast, spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';
import { readReportsUntil } from '../helpers/streams.js';

const fixture = useRedisPrefix('e2e-sched');
const source = new MemoryMetricsSource().set(wire('s1', 100, 10), wire('s2', 300, 20));
let app: App;
let worker: RunningWorker;
const schedulers: BallastProcess[] = [];

beforeAll(async () => {
  app = testApp(fixture.prefix, { metricsSource: source });
  for (const id of ['sa', 'sb']) {
    let p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue' }, '2026-11-25T00:00:00Z');
    p = addBusiness(addBusiness(p, 's1', {}, p.createdAt), 's2', {}, p.createdAt);
    await app.store.create(p, TEST_EDIT);
  }
  worker = await startWorker(app);
});
afterAll(async () => {
  for (const s of schedulers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await worker?.close();
  await app?.close();
});

describe('three scheduler replicas', () => {
  it('enqueue every two-second slot exactly once, and no portfolio gets two reports for one run', async () => {
    const env = {
      REDIS_URL: redisUrl(),
      BALLAST_PREFIX: fixture.prefix,
      BALLAST_QUEUE: 'q',
      BALLAST_CRON: '*/2 * * * * *',
      BALLAST_CATCH_UP: 'false',
      BALLAST_LOG_LEVEL: 'info',
    };
    for (let i = 0; i < 3; i++) schedulers.push(spawnBallast(['scheduler'], env));
    await Promise.all(schedulers.map((s) => s.waitFor(/scheduler started/)));

    // About eight seconds: four slots whose runs have reached both portfolios.
    const reports = await readReportsUntil(
      fixture.client,
      app.keys.reports,
      (r) => {
        const perRun = new Map<string, number>();
        for (const x of r) perRun.set(String(x.run_id), (perRun.get(String(x.run_id)) ?? 0) + 1);
        return [...perRun.values()].filter((n) => n >= 2).length >= 4;
      },
      30_000,
    );
    for (const s of schedulers) s.child.kill('SIGTERM');
    expect(await Promise.all(schedulers.map((s) => s.exited))).toEqual([0, 0, 0]);

    const enqueued = schedulers.flatMap((s) =>
      s
        .stderr()
        .split('\n')
        .filter((l) => l.includes('nightly run enqueued'))
        .map((l) => JSON.parse(l).runId as string),
    );
    // Each slot was enqueued by exactly one replica.
    expect(new Set(enqueued).size).toBe(enqueued.length);
    expect(enqueued.length).toBeGreaterThanOrEqual(4);
    // Slots are two seconds apart: no slot was skipped between the first and the last.
    const times = [...enqueued]
      .sort()
      .map((id) =>
        Date.parse(id.replace(/^cron-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')),
      );
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(2000);

    const seen = new Set<string>();
    for (const r of reports) {
      const key = `${r.run_id}/${r.portfolio_id}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
    for (const id of ['sa', 'sb']) {
      const entries = await fixture.client.xrange(app.keys.portfolioReports(id), '-', '+');
      const runs = entries.map(([, f]) => JSON.parse(f[1]!).run_id as string);
      expect(new Set(runs).size).toBe(runs.length);
    }
  });
});

describe('ballast scheduler', () => {
  it('stops on SIGTERM with exit 0 while its start still waits for an unreachable Redis', async () => {
    const port = await findFreePort();
    const s = spawnBallast(['scheduler'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      BALLAST_PREFIX: fixture.prefix,
      // A slot is due (catch-up): the start needs Redis to decide it.
      BALLAST_CRON: '* * * * *',
      BALLAST_LOG_LEVEL: 'info',
    });
    schedulers.push(s);
    await s.waitFor(/redis connection error/);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toMatch(/scheduler stopping before it started/);
  });

  it('is healthy for `ballast health --role scheduler` while it runs, and not once it stopped', async () => {
    const env = {
      REDIS_URL: redisUrl(),
      BALLAST_PREFIX: `${fixture.prefix}-health`,
      BALLAST_QUEUE: 'q',
      BALLAST_CATCH_UP: 'false',
      BALLAST_LOG_LEVEL: 'info',
    };
    const s = spawnBallast(['scheduler'], env);
    schedulers.push(s);
    await s.waitFor(/heartbeat started/);
    const healthy = await runBallast(['health', '--role', 'scheduler'], env);
    expect(healthy.stdout).toMatch(/^healthy: Redis answers; scheduler on /);
    expect(healthy.code).toBe(0);
    expect((await runBallast(['health', '--role', 'worker'], env)).code).toBe(1);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const after = await runBallast(['health', '--role', 'scheduler'], env);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/unhealthy: no scheduler runs on/);
  });
});
