/**
 * Nightly runs with BALLAST_FANOUT_BLOCK > 1: a job per block of portfolios, each portfolio still
 * committed and reported on its own, a failing one retried alone, a block run again applying
 * nothing twice, blocks cancelled with their run.
 */
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId, recalculateBlockJobId, recalculateJobId } from '../../jobs/payloads.js';
import type { RecalculateBlockResult } from '../../jobs/recalculate-block.js';
import { NIGHTLY_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio, updatePortfolio } from '../../src/domain/index.js';
import { followRun } from '../../src/runtime/follow-run.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { cancelJob } from '../../src/services/jobs.js';
import { cancelPendingPortfolios, showRun } from '../../src/services/runs.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('fanout-block');
const T = '2026-11-25T00:00:00.000Z';
const source = new MemoryMetricsSource().set(wire('b1', 100, 10), wire('b2', 300, 40));
let app: App;
let worker: RunningWorker;
let events: QueueEvents;

beforeAll(async () => {
  app = testApp(fixture.prefix, {
    metricsSource: source,
    // Blocks of 3 from chunks of 4: a chunk's last block is short.
    env: { BALLAST_FANOUT_BLOCK: '3', BALLAST_FANOUT_CHUNK: '4', BALLAST_JOB_ATTEMPTS: '1' },
  });
  worker = await startWorker(app);
  events = await app.queue.events(app.redis);
});
afterAll(async () => {
  await events?.close();
  await worker?.close();
  await app?.close();
});

async function seed(id: string, status: 'active' | 'paused' = 'active', more: string[] = []) {
  let p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue', driftThreshold: 0 }, T);
  for (const b of ['b1', 'b2', ...more]) p = addBusiness(p, b, {}, T);
  return app.store.create(updatePortfolio(p, { status }, T), TEST_EDIT);
}

async function nightly(runId: string) {
  const done = followRun(app, events, runId, () => {});
  await app.queue.add({
    name: 'nightly',
    data: { runId, trigger: 'cron' },
    jobId: nightlyJobId(runId),
    priority: 0,
  });
  return done;
}

async function jobIdsOfRun(runId: string): Promise<string[]> {
  const jobs = await app.queue.queue.getJobs(['completed', 'failed'], 0, -1);
  return jobs.map((j) => j.id!).filter((id) => id.includes(runId));
}

describe('a nightly run in blocks', () => {
  it('runs every portfolio once, a job per block, and applies nothing twice when a block runs again', async () => {
    const ids = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];
    for (const id of ids) await seed(id, id === 'a5' ? 'paused' : 'active');
    const runId = 'cron-20261125T020000Z';
    const progress = await nightly(runId);
    expect(progress).toMatchObject({ total: 7, completed: 7, failed: 0 });

    // Chunks [a1..a4] [a5..a7]: blocks a1-a3, a4, a5-a7; no job per portfolio.
    const jobIds = (await jobIdsOfRun(runId)).sort();
    expect(jobIds).toEqual(
      [nightlyJobId(runId), ...['a1', 'a4', 'a5'].map((first) => recalculateBlockJobId(runId, first))].sort(),
    );
    const run = await showRun(app, runId);
    expect(run).toMatchObject({ state: 'finished', total: 7, done: 7 });
    expect(run.counts).toMatchObject({ changed: 6, skipped: 1 });
    for (const id of ids) {
      const latest = JSON.parse((await app.reports.latest(id))!);
      expect(latest.run_id).toBe(runId);
      if (id === 'a5') expect(latest.skipped).toEqual({ reason: 'portfolio is paused' });
      else expect(latest.applied).toBe(true);
    }
    const versions = await Promise.all(ids.map(async (id) => (await app.store.require(id)).version));
    const history = await app.redis.xlen(app.keys.history('a1'));

    // The first block again (a worker killed after its commits, a retry): every portfolio found committed.
    const againId = `${recalculateBlockJobId(runId, 'a1')}.again`;
    await app.queue.add({
      name: 'recalculate-block',
      data: { runId, trigger: 'cron', portfolioIds: ['a1', 'a2', 'a3'] },
      jobId: againId,
      priority: NIGHTLY_PRIORITY,
    });
    const again = (await app.queue.waitFor(againId, events, 20_000)) as RecalculateBlockResult;
    expect(again).toMatchObject({ portfolios: 3, committed: 0, duplicates: 3, retriedAlone: [] });
    expect(await Promise.all(ids.map(async (id) => (await app.store.require(id)).version))).toEqual(versions);
    expect(await app.redis.xlen(app.keys.history('a1'))).toBe(history);
  }, 30_000);

  it('retries a portfolio that fails alone, as its own job, and records it when it fails for good', async () => {
    await seed('f1');
    // f2 alone asks for business x2, whose fetch fails every time (BALLAST_JOB_ATTEMPTS=1).
    await seed('f2', 'active', ['x2']);
    await seed('f3');
    let refusals = 0;
    source.beforeAnswer = async (ids) => {
      if (ids.includes('x2')) {
        refusals++;
        throw new Error('metrics source down for x2');
      }
    };
    const runId = 'cron-20261126T020000Z';
    try {
      const progress = await nightly(runId);
      // The first test's seven portfolios run again too.
      expect(progress).toMatchObject({ total: 10, completed: 9, failed: 1 });
      expect(progress.failures[0]?.jobId).toBe(recalculateJobId(runId, 'f2'));
    } finally {
      source.beforeAnswer = undefined;
    }
    expect(refusals).toBeGreaterThanOrEqual(1);
    // Chunks [a1..a4] [a5 a6 a7 f1] [f2 f3]: f2 is the first of the last block.
    const block = await app.queue.getJob(recalculateBlockJobId(runId, 'f2'));
    expect(block?.result).toMatchObject({ portfolios: 2, committed: 1, retriedAlone: ['f2'] });
    const run = await showRun(app, runId);
    expect(run).toMatchObject({ state: 'finished', total: 10, done: 10 });
    expect(run.counts).toMatchObject({ failed: 1 });
    const failed = run.portfolios.find((p) => p.portfolio_id === 'f2');
    expect(failed).toMatchObject({ outcome: 'failed' });
    expect(JSON.stringify(failed)).toContain('metrics source down for x2');
  }, 30_000);
});

describe('cancelling a run in blocks', () => {
  it('removes the blocks not started and records each of their portfolios cancelled', async () => {
    // No worker on this queue: the blocks wait.
    const idle = testApp(`${fixture.prefix}-idle`, { env: { BALLAST_FANOUT_BLOCK: '2' } });
    try {
      const runId = 'cron-20261127T020000Z';
      const blocks = [['c1', 'c2'], ['c3', 'c4'], ['c5']];
      await idle.queue.addBulk(
        blocks.map((portfolioIds) => ({
          name: 'recalculate-block',
          data: { runId, trigger: 'cron', portfolioIds },
          jobId: recalculateBlockJobId(runId, portfolioIds[0]!),
          priority: NIGHTLY_PRIORITY,
        })),
      );
      await idle.reports.recordFanOut(runId, 5, T);
      // One block cancelled on its own (jobs cancel), the rest with the run.
      const one = await cancelJob(idle, recalculateBlockJobId(runId, 'c5'), 'op');
      expect(one).toMatchObject({ name: 'recalculate-block', run_id: runId, cancelled: true });
      expect((await idle.reports.runProgress(runId)).done).toBe(1);
      expect(await cancelPendingPortfolios(idle, runId)).toBe(4);
      expect(await idle.reports.runProgress(runId)).toMatchObject({ total: 5, done: 5 });
      expect(await idle.queue.counts()).toMatchObject({ waiting: 0, prioritized: 0 });
    } finally {
      await idle.close();
    }
  });
});
