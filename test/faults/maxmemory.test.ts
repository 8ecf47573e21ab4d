import type { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId, recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import { type PrivateRedis, startPrivateRedis } from '../../src/adapters/redis-launcher.js';
import type { App } from '../../src/app.js';
import { enqueueNightly } from '../../src/cli/actions/enqueue.js';
import type { Portfolio } from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { cliContext } from '../cli/in-process.js';
import { testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { testPrefix } from '../helpers/redis.js';
import { deferred } from '../metrics/metrics-server.js';
import { expectAppliedOnce, figures, globalRunReports, seedPortfolios, startNightly } from './support.js';

// A Redis of its own, small and with noeviction: this file fills it up on purpose.
const prefix = testPrefix('faults-oom');
const OOM = /OOM command not allowed when used memory > 'maxmemory'/;
const source = new MemoryMetricsSource();
let redis: PrivateRedis;
let client: Redis;
let app: App;
let worker: RunningWorker;
let events: QueueEvents;
let fillers = 0;

beforeAll(async () => {
  redis = await startPrivateRedis({ extraArgs: ['--maxmemory', '24mb', '--maxmemory-policy', 'noeviction'] });
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  // One attempt per job: the failure is the job's final state, not a retry in the backoff.
  app = testApp(prefix, {
    env: { REDIS_URL: redis.url, BALLAST_JOB_ATTEMPTS: '1', BALLAST_CONCURRENCY: '2' },
    metricsSource: source,
  });
  worker = await startWorker(app);
  events = await app.queue.events(app.redis);
});
afterAll(async () => {
  await events?.close();
  await worker?.close();
  await app?.close();
  client?.disconnect();
  await redis?.stop();
});

/**
 * Writes 64 kB strings under the test's prefix until Redis refuses one, and returns the refusal.
 * Then pins maxmemory 1 MB under what is used: at the exact limit, client buffers growing and
 * shrinking by a few kB (a big write's own query buffer counts as used memory) would let some
 * writes through and refuse others, and the test would depend on that noise.
 */
async function fillMemory(): Promise<string> {
  const chunk = 'x'.repeat(64 * 1024);
  for (;;) {
    try {
      await client.set(`${prefix}:filler:${fillers}`, chunk);
      fillers++;
    } catch (err) {
      const refusal = (err as Error).message;
      if (!OOM.test(refusal)) throw err;
      const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
      await client.config('SET', 'maxmemory', String(used - 1024 * 1024));
      await expect(client.set(`${prefix}:probe`, 'x')).rejects.toThrow(OOM);
      return refusal;
    }
  }
}

async function freeMemory(): Promise<void> {
  const keys = Array.from({ length: fillers }, (_, i) => `${prefix}:filler:${i}`);
  // DEL, not UNLINK: the memory is back before the next command.
  if (keys.length > 0) await client.del(...keys);
  fillers = 0;
  await client.set(`${prefix}:probe`, 'writes work again');
}

async function seed(idPrefix: string, count: number): Promise<Portfolio[]> {
  const seeded = await seedPortfolios(app, idPrefix, count, (i) => [`${idPrefix}${i}a`, `${idPrefix}${i}b`]);
  for (const p of seeded) {
    for (const a of p.allocations) {
      const f = figures(a.businessId);
      source.set(wire(a.businessId, f.revenue, f.revenue - f.expenses, { growth_rate: f.growth_rate }));
    }
  }
  return seeded;
}

/** What a run could write for one portfolio: its version, its report stream and its latest report. */
async function footprint(id: string): Promise<unknown> {
  return {
    version: (await app.store.require(id)).version,
    reports: await client.xlen(app.keys.portfolioReports(id)),
    latest: await app.reports.latest(id),
  };
}

/** Nothing of the run reached Redis: same footprints, no run marker, nothing on the global stream. */
async function expectUntouched(before: Map<string, unknown>, runId: string): Promise<void> {
  for (const [id, footprintBefore] of before) {
    expect(await footprint(id), id).toEqual(footprintBefore);
    expect(await app.reports.runReport(id, runId), id).toBeNull();
  }
  expect(await globalRunReports(client, app, runId)).toEqual([]);
}

async function footprints(ids: readonly string[]): Promise<Map<string, unknown>> {
  return new Map(await Promise.all(ids.map(async (id) => [id, await footprint(id)] as const)));
}

describe('Redis at maxmemory with noeviction', () => {
  it('a recalculation that meets a full Redis fails with the OOM error and writes nothing; retried once memory is freed, it applies once', async () => {
    const [portfolio] = await seed('m', 1);
    const runId = 'manual-oom-1';
    const jobId = recalculateJobId(runId, portfolio!.id);
    const before = await footprints([portfolio!.id]);
    let refusal = '';
    // Redis fills up while the job waits for its metrics: its commit is the first write it tries.
    source.beforeAnswer = async () => {
      source.beforeAnswer = undefined;
      refusal = await fillMemory();
    };
    await app.queue.add({
      name: 'recalculate',
      data: { portfolioId: portfolio!.id, runId, trigger: 'manual' },
      jobId,
      priority: OPERATOR_PRIORITY,
    });
    await expect(app.queue.waitFor(jobId, events, 20_000)).rejects.toThrow(OOM);
    expect(refusal).toMatch(OOM);
    // BullMQ could still record the failure, with Redis's own message as the reason.
    const failed = await app.queue.getJob(jobId);
    expect(failed).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(failed?.failedReason).toMatch(OOM);
    await expectUntouched(before, runId);

    await freeMemory();
    await (await app.queue.queue.getJob(jobId))!.retry();
    expect(await app.queue.waitFor(jobId, events, 20_000)).toMatchObject({ applied: true, duplicate: false });
    await expectAppliedOnce(client, app, [portfolio!], runId);
  });

  it('enqueuing into a full Redis is refused with the OOM error and adds nothing; once memory is freed the same run is enqueued and applies each portfolio once', async () => {
    await seed('q', 3);
    // Every portfolio of the prefix takes part in a nightly run (the other tests' too).
    const everyone = await app.store.getMany(await app.store.listIds({ limit: 100 }));
    const runId = 'cron-20261201T020000Z';
    expect(await fillMemory()).toMatch(OOM);
    await expect(
      app.queue.add({
        name: 'nightly',
        data: { runId, trigger: 'cron' },
        jobId: nightlyJobId(runId),
        priority: 10,
      }),
    ).rejects.toThrow(OOM);
    expect(await app.queue.getJob(nightlyJobId(runId))).toBeNull();

    await freeMemory();
    const run = await startNightly(app, runId);
    try {
      expect(await run.done).toMatchObject({ total: everyone.length, completed: everyone.length, failed: 0 });
    } finally {
      await run.close();
    }
    await expectAppliedOnce(client, app, everyone, runId);
  });

  it('when Redis fills up during a nightly run, queued jobs are still taken and every recalculation fails with the OOM error, writing nothing; the next run after freeing memory applies each portfolio once', async () => {
    await seed('n', 5);
    const everyone = await app.store.getMany(await app.store.listIds({ limit: 100 }));
    const runId = 'cron-20261202T020000Z';
    const before = await footprints(everyone.map((p) => p.id));
    // Redis fills up once the fan-out is done, while the recalculations wait for their metrics.
    const fannedOut = deferred();
    events.on('completed', ({ jobId }) => {
      if (jobId === nightlyJobId(runId)) fannedOut.resolve();
    });
    let filled: Promise<string> | undefined;
    let full = false;
    /** Jobs that the worker took while Redis was already full. */
    let takenWhenFull = 0;
    source.beforeAnswer = async () => {
      if (full) takenWhenFull++;
      await fannedOut.promise;
      filled ??= fillMemory().then((refusal) => {
        full = true;
        return refusal;
      });
      await filled;
    };
    const run = await startNightly(app, runId);
    try {
      const progress = await run.done;
      expect(progress).toMatchObject({ total: everyone.length, completed: 0, failed: everyone.length });
      for (const f of progress.failures) expect(f.reason).toMatch(OOM);
    } finally {
      source.beforeAnswer = undefined;
      await run.close();
    }
    // Two jobs (the concurrency) were active when Redis filled up; the others were taken after.
    expect(takenWhenFull).toBe(everyone.length - 2);
    await expectUntouched(before, runId);

    await freeMemory();
    const next = await startNightly(app, 'cron-20261203T020000Z');
    try {
      expect(await next.done).toMatchObject({
        total: everyone.length,
        completed: everyone.length,
        failed: 0,
      });
    } finally {
      await next.close();
    }
    await expectAppliedOnce(client, app, everyone, next.runId);
  });

  it('`enqueue nightly --wait` on a night that meets a full Redis fails, and its summary names the portfolios not written', async () => {
    await seed('s', 3);
    const everyone = (await app.store.listIds({ limit: 100 })).slice().sort();
    // Redis fills up once the fan-out is done (its job id is nightly.<run id>, the run id random).
    const fannedOut = deferred();
    const onCompleted = ({ jobId }: { jobId: string }) => {
      if (jobId.startsWith('nightly.nightly-')) fannedOut.resolve();
    };
    events.on('completed', onCompleted);
    let filled: Promise<string> | undefined;
    source.beforeAnswer = async () => {
      await fannedOut.promise;
      filled ??= fillMemory();
      await filled;
    };
    const { ctx, output } = cliContext(prefix);
    try {
      await expect(enqueueNightly(app, ctx, { wait: true, pageSize: 50 })).rejects.toThrow(
        `${everyone.length} of ${everyone.length} portfolios failed in run`,
      );
    } finally {
      source.beforeAnswer = undefined;
      events.off('completed', onCompleted);
      await freeMemory();
    }
    const { stdout } = output();
    expect(stdout).toMatch(new RegExp(`failed: nightly-[^.]+\\.${everyone[0]}: .*OOM command not allowed`));
    expect(stdout).toContain(`not written (Redis out of memory): ${everyone.join(', ')}\n`);
  });
});
