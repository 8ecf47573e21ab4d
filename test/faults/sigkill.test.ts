import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';

import { type BallastProcess, spawnBallast } from '../helpers/process.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { readReportsUntil } from '../helpers/streams.js';
import { ONE_REDIS, TARGETS } from '../helpers/targets.js';
import { type MetricsServer, sendJson, startMetricsServer, wireMetrics } from '../metrics/metrics-server.js';
import {
  expectAppliedOnce,
  figures,
  globalRunReports,
  killAll,
  nextEvent,
  seedPortfolios,
  startNightly,
  workerEnv,
} from './support.js';

const fixture = useRedisPrefix('faults-sigkill');

// The same scenario on one Redis and on a Redis Cluster (test/helpers/targets.ts), a job per
// portfolio; and on one Redis with a job per block of 4 portfolios (BALLAST_FANOUT_BLOCK).
const VARIANTS = [
  ...TARGETS.map((target) => ({ ...target, block: 1 })),
  { ...ONE_REDIS, name: 'one Redis, 4 portfolios per job', block: 4 },
];
describe.each(VARIANTS)('on $name', (target) => {
  // Both variants on one Redis: a prefix each.
  const prefix = target.block === 1 ? fixture.prefix : `${fixture.prefix}-blocks`;
  const COUNT = 40;
  /** Every answer is held back this long, so that jobs are in flight when the worker dies. */
  const ANSWER_DELAY_MS = 150;
  const started: BallastProcess[] = [];
  const requestArrived = nextEvent();
  let server: MetricsServer;
  let app: App;

  beforeAll(async () => {
    server = await startMetricsServer(async (req, res) => {
      requestArrived.signal();
      await new Promise((resolve) => setTimeout(resolve, ANSWER_DELAY_MS));
      sendJson(res, wireMetrics(req.id ?? 'x', figures(req.id ?? 'x')));
    });
    app = target.app(prefix);
  });
  afterAll(async () => {
    killAll(started);
    await app?.close();
    await server?.close();
  });

  function worker(concurrency: number): BallastProcess {
    const p = spawnBallast(
      ['worker'],
      workerEnv(target, prefix, {
        BALLAST_CONCURRENCY: String(concurrency),
        BALLAST_FANOUT_BLOCK: String(target.block),
        BALLAST_METRICS_SOURCE: 'http',
        BALLAST_METRICS_URL: server.url,
        // A dead worker's jobs are taken over once their lock lapses: keep that short.
        BALLAST_LOCK_DURATION_MS: '1500',
        BALLAST_STALLED_INTERVAL_MS: '1000',
      }),
    );
    started.push(p);
    return p;
  }

  describe('a worker killed with SIGKILL in the middle of a nightly run', () => {
    it('loses no portfolio and applies none twice once another worker takes over', async () => {
      // Two businesses of its own per portfolio (every job waits on the metrics server) and one shared.
      const seeded = await seedPortfolios(app, 'k', COUNT, (i) => [`k${i}a`, `k${i}b`, `shared${i % 5}`]);
      const first = worker(4);
      await first.waitFor(/worker started/);
      const run = await startNightly(app, 'cron-20261125T020000Z');
      try {
        await readReportsUntil(
          app.redis,
          app.keys.reports,
          (r) => r.filter((x) => x.run_id === run.runId).length >= 8,
        );
        // Kill it the moment a job asks for metrics: that job is certainly in flight.
        await requestArrived.wait();
        first.child.kill('SIGKILL');
        expect(await first.exited).toBe('SIGKILL');

        // The dead worker's jobs are still active (locked) and part of the run has no report yet.
        const counts = await app.queue.counts();
        expect(counts.active).toBeGreaterThan(0);
        const before = await globalRunReports(app.redis, app, run.runId);
        expect(new Set(before.map((r) => r.portfolio_id)).size).toBeLessThan(COUNT);

        const second = worker(8);
        await second.waitFor(/worker started/);
        const progress = await run.done;
        expect(progress).toMatchObject({ total: COUNT, completed: COUNT, failed: 0 });
        await expectAppliedOnce(app.redis, app, seeded, run.runId);
        expect(await app.queue.counts()).toMatchObject({ active: 0, waiting: 0, failed: 0 });

        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
      } finally {
        await run.close();
      }
    }, 45_000);
  });
});
