import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recalculateJobId } from '../../jobs/payloads.js';
import type { App } from '../../src/app.js';
import { testApp } from '../helpers/app.js';
import { type BallastProcess, spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';
import { type MetricsServer, sendJson, startMetricsServer, wireMetrics } from '../metrics/metrics-server.js';
import {
  expectAppliedOnce,
  figures,
  killAll,
  nextEvent,
  portfolioRunReports,
  seedPortfolios,
  startNightly,
  workerEnv,
} from './support.js';

const fixture = useRedisPrefix('faults-sigterm');
const started: BallastProcess[] = [];
/** Metrics answers wait here until the test releases them: the jobs asking are "long". */
const held: { id: string; res: ServerResponse }[] = [];
const requestArrived = nextEvent();
let holding = true;
let server: MetricsServer;
let app: App;

function answer(id: string, res: ServerResponse): void {
  sendJson(res, wireMetrics(id, figures(id)));
}

function release(): void {
  holding = false;
  for (const { id, res } of held.splice(0)) answer(id, res);
}

beforeAll(async () => {
  server = await startMetricsServer((req, res) => {
    const id = req.id ?? 'x';
    if (holding) held.push({ id, res });
    else answer(id, res);
    requestArrived.signal();
  });
  app = testApp(fixture.prefix);
});
afterAll(async () => {
  release();
  killAll(started);
  await app?.close();
  await server?.close();
});

function worker(concurrency: number): BallastProcess {
  const p = spawnBallast(
    ['worker'],
    workerEnv(redisUrl(), fixture.prefix, {
      BALLAST_CONCURRENCY: String(concurrency),
      BALLAST_METRICS_SOURCE: 'http',
      BALLAST_METRICS_URL: server.url,
      BALLAST_METRICS_TIMEOUT_MS: '20000',
    }),
  );
  started.push(p);
  return p;
}

/** The id seedPortfolios gives portfolio `i` of prefix 't'; its businesses are `<id>a` and `<id>b`. */
const tid = (i: number) => `t${String(i).padStart(3, '0')}`;

/** Resolves once `n` distinct portfolios have a metrics request waiting for its answer. */
async function untilWaiting(n: number): Promise<Set<string>> {
  for (;;) {
    const portfolios = new Set(held.map((h) => h.id.replace(/[ab]$/, '')));
    if (portfolios.size >= n) return portfolios;
    await requestArrived.wait();
  }
}

describe('SIGTERM during long jobs', () => {
  it('lets the active jobs complete, takes no new job, and exits 0; the rest of the run waits for another worker', async () => {
    holding = true;
    const seeded = await seedPortfolios(app, 't', 8, (i) => [`${tid(i)}a`, `${tid(i)}b`]);
    const first = worker(3);
    await first.waitFor(/worker started/);
    const run = await startNightly(app, 'cron-20261126T020000Z');
    try {
      // Three jobs are active, each waiting for its metrics (a slow source).
      const active = await untilWaiting(3);
      first.child.kill('SIGTERM');
      await first.waitFor(/shutting down/);
      // Only now do their answers arrive: the jobs finish after the signal.
      release();
      expect(await first.exited).toBe(0);
      expect(first.stderr()).toMatch(/worker stopped/);

      for (const p of seeded) {
        const reports = await portfolioRunReports(fixture.client, app, p.id, run.runId);
        // The three active jobs completed and were applied; no job was taken after the signal.
        expect(reports, p.id).toHaveLength(active.has(p.id) ? 1 : 0);
        if (active.has(p.id)) expect(reports[0]).toMatchObject({ applied: true });
        const job = await app.queue.getJob(recalculateJobId(run.runId, p.id));
        expect(job?.state, p.id).toBe(active.has(p.id) ? 'completed' : 'prioritized');
      }

      const second = worker(4);
      await second.waitFor(/worker started/);
      expect(await run.done).toMatchObject({ total: 8, completed: 8, failed: 0 });
      await expectAppliedOnce(fixture.client, app, seeded, run.runId);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await run.close();
    }
  });

  it('finishes a single slow recalculation before exiting 0', async () => {
    holding = true;
    const [portfolio] = await seedPortfolios(app, 'slow', 1, () => ['slow-a', 'slow-b']);
    const w = worker(1);
    await w.waitFor(/worker started/);
    const runId = 'manual-sigterm-1';
    await app.queue.add({
      name: 'recalculate',
      data: { portfolioId: portfolio!.id, runId, trigger: 'manual' },
      jobId: recalculateJobId(runId, portfolio!.id),
      priority: 0,
    });
    await untilWaiting(1);
    w.child.kill('SIGTERM');
    await w.waitFor(/shutting down/);
    expect(w.child.exitCode).toBeNull();
    release();
    expect(await w.exited).toBe(0);
    const job = await app.queue.getJob(recalculateJobId(runId, portfolio!.id));
    expect(job).toMatchObject({ state: 'completed', result: { applied: true, duplicate: false } });
    expect((await app.store.require(portfolio!.id)).version).toBe(portfolio!.version + 1);
  });
});
