import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId, recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import {
  addBusiness,
  createPortfolio,
  type Portfolio,
  setAllocation,
  updatePortfolio,
} from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { connect, useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('recalc');
const source = new MemoryMetricsSource();
let app: App;
let worker: RunningWorker;
let events: QueueEvents;
const T = '2026-11-25T00:00:00.000Z';

beforeAll(async () => {
  app = testApp(fixture.prefix, { metricsSource: source });
  worker = await startWorker(app);
  events = await app.queue.events(app.redis);
});
afterAll(async () => {
  await events?.close();
  await worker?.close();
  await app?.close();
});

async function seed(
  id: string,
  businesses: string[],
  change?: (p: Portfolio) => Portfolio,
): Promise<Portfolio> {
  let p = createPortfolio({ id, name: id, ownerId: 'owner', strategy: 'revenue', driftThreshold: 0 }, T);
  for (const b of businesses) p = addBusiness(p, b, {}, T);
  if (change) p = change(p);
  return app.store.create(p, TEST_EDIT);
}

async function run(portfolioId: string, runId: string, jobId = recalculateJobId(runId, portfolioId)) {
  await app.queue.add({
    name: 'recalculate',
    data: { portfolioId, runId, trigger: 'manual', dryRun: false },
    jobId,
    priority: OPERATOR_PRIORITY,
  });
  return app.queue.waitFor(jobId, events, 20_000);
}

function weights(p: Portfolio): Record<string, number> {
  return Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));
}

describe('recalculate job', () => {
  it('applies by revenue and publishes to both streams, the latest key and pub/sub', async () => {
    source.set(wire('r1', 300, 10), wire('r2', 100, 10));
    await seed('pub', ['r1', 'r2']);
    const subscriber = await connect();
    const message = new Promise<string>((resolve) => subscriber.on('message', (_channel, m) => resolve(m)));
    await subscriber.subscribe(app.keys.reportsChannel);

    const result = (await run('pub', 'manual-pub-1')) as { applied: boolean; changes: number };
    expect(result).toMatchObject({ applied: true, changes: 2 });
    const after = await app.store.require('pub');
    expect(weights(after).r1).toBeCloseTo(0.75, 12);
    expect(weights(after).r2).toBeCloseTo(0.25, 12);
    expect(after.lastRun?.runId).toBe('manual-pub-1');

    const plain = fixture.client;
    const latest = JSON.parse((await plain.get(`${fixture.prefix}:{pub}:report:latest`))!);
    expect(latest).toMatchObject({
      portfolio_id: 'pub',
      run_id: 'manual-pub-1',
      applied: true,
      trigger: 'manual',
    });
    const perPortfolio = await plain.xrange(`${fixture.prefix}:{pub}:reports`, '-', '+');
    expect(perPortfolio).toHaveLength(1);
    const global = await plain.xrange(`${fixture.prefix}:reports`, '-', '+');
    expect(global.map(([, f]) => JSON.parse(f[1]!).portfolio_id)).toContain('pub');
    expect(JSON.parse(await message).report_id).toBe(latest.report_id);
    await subscriber.quit();
  });

  it('recomputes when an operator locks an allocation between recommend and apply, and the lock holds', async () => {
    source.set(wire('l1', 900, 10), wire('l2', 50, 10), wire('l3', 50, 10));
    const seeded = await seed('locking', ['l1', 'l2', 'l3']);
    let edits = 0;
    source.beforeAnswer = async (ids) => {
      if (!ids.includes('l1') || edits > 0) return;
      edits++;
      // The operator moves l1 to 10% and locks it while the run is in flight.
      await app.store.update(
        'locking',
        (p) => setAllocation(p, 'l1', { weight: 0.1, locked: true }, T),
        TEST_EDIT,
      );
    };
    try {
      await run('locking', 'manual-lock-1');
    } finally {
      source.beforeAnswer = undefined;
    }
    const after = await app.store.require('locking');
    const l1 = after.allocations.find((a) => a.businessId === 'l1')!;
    expect(l1.locked).toBe(true);
    expect(l1.weight).toBeCloseTo(0.1, 12);
    expect(weights(after).l2).toBeCloseTo(0.45, 12);
    expect(weights(after).l3).toBeCloseTo(0.45, 12);
    const report = JSON.parse((await app.reports.latest('locking'))!);
    expect(report.actions[0]).toMatchObject({ business_id: 'l1', action: 'locked' });
    // Read at the seeded version, then edited: the stale plan was never written; recomputed on the
    // edited version, where l2 and l3 already share what the lock leaves, so it moves nothing and
    // writes nothing.
    expect(report.version_before).toBe(seeded.version + 1);
    expect(report.changes).toBe(0);
    expect(after.version).toBe(seeded.version + 1);
  });

  it('applies a run once however often it runs', async () => {
    source.set(wire('i1', 100, 10), wire('i2', 300, 10));
    const created = await seed('idem', ['i1', 'i2']);
    const first = (await run('idem', 'manual-idem-1')) as { duplicate: boolean; reportId: string };
    const afterFirst = await app.store.require('idem');
    const second = (await run('idem', 'manual-idem-1', 'manual-idem-1.idem.again')) as {
      duplicate: boolean;
      reportId: string;
    };
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ duplicate: true, reportId: first.reportId });
    const afterSecond = await app.store.require('idem');
    expect(afterSecond.version).toBe(afterFirst.version);
    expect(afterFirst.version).toBe(created.version + 1);
    expect(await fixture.client.xlen(`${fixture.prefix}:{idem}:reports`)).toBe(1);
  });

  it('refuses a manual run of an archived portfolio without retrying', async () => {
    await seed('gone', ['g1'], (p) => updatePortfolio(p, { status: 'archived' }, T));
    await expect(run('gone', 'manual-gone-1')).rejects.toThrow(/archived/);
    const job = await app.queue.getJob(recalculateJobId('manual-gone-1', 'gone'));
    expect(job).toMatchObject({ state: 'failed', attemptsMade: 1 });
  });

  it('fails an invalid payload at once with a clear reason', async () => {
    await app.queue.add({
      name: 'recalculate',
      data: { portfolioId: 'a b' },
      jobId: 'bad-payload',
      priority: 0,
    });
    await expect(app.queue.waitFor('bad-payload', events, 20_000)).rejects.toThrow(
      /invalid recalculate payload/,
    );
  });
});

describe('nightly job', () => {
  it('fans out in chunks, skips paused and archived portfolios, and adds nothing twice', async () => {
    const local = testApp(`${fixture.prefix}-n`, {
      metricsSource: source,
      env: { BALLAST_FANOUT_CHUNK: '2' },
    });
    const localWorker = await startWorker(local);
    const localEvents = await local.queue.events(local.redis);
    try {
      source.set(wire('n1', 100, 10), wire('n2', 100, 10));
      const mk = (id: string, status: 'active' | 'paused' | 'archived') => {
        let p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue' }, T);
        p = addBusiness(p, 'n1', {}, T);
        p = addBusiness(p, 'n2', {}, T);
        return local.store.create(updatePortfolio(p, { status }, T), TEST_EDIT);
      };
      await mk('na', 'active');
      await mk('nb', 'active');
      await mk('nc', 'paused');
      await mk('nd', 'archived');
      await mk('ne', 'active');
      const runId = 'cron-20261125T020000Z';
      const children = ['na', 'nb', 'nc', 'nd', 'ne'].map((id) => recalculateJobId(runId, id));
      const done = Promise.all(
        children.map(
          (id) =>
            new Promise<void>((resolve) => {
              const onDone = ({ jobId }: { jobId: string }) => {
                if (jobId === id) resolve();
              };
              localEvents.on('completed', onDone);
            }),
        ),
      );
      await local.queue.add({
        name: 'nightly',
        data: { runId, trigger: 'cron' },
        jobId: nightlyJobId(runId),
        priority: 0,
      });
      const fanned = (await local.queue.waitFor(nightlyJobId(runId), localEvents, 20_000)) as {
        total: number;
      };
      expect(fanned.total).toBe(5);
      await done;
      const latest = async (id: string) => JSON.parse((await local.reports.latest(id))!);
      expect((await latest('na')).applied).toBe(true);
      expect((await latest('nc')).skipped).toEqual({ reason: 'portfolio is paused' });
      expect((await latest('nd')).skipped).toEqual({ reason: 'portfolio is archived' });
      expect((await local.store.require('nc')).lastRun).toBeUndefined();

      // The same slot again (a second scheduler, a retried fan-out): nothing is added twice.
      await local.queue.add({
        name: 'nightly',
        data: { runId, trigger: 'cron' },
        jobId: `${nightlyJobId(runId)}.again`,
        priority: 0,
      });
      await local.queue.waitFor(`${nightlyJobId(runId)}.again`, localEvents, 20_000);
      expect(await local.queue.counts()).toMatchObject({
        completed: 7,
        waiting: 0,
        prioritized: 0,
        active: 0,
        delayed: 0,
      });
      for (const id of ['na', 'nb', 'nc', 'nd', 'ne']) {
        expect(await fixture.client.xlen(`${fixture.prefix}-n:{${id}}:reports`)).toBe(1);
      }
      const globalRuns = await fixture.client.xrange(`${fixture.prefix}-n:reports`, '-', '+');
      expect(globalRuns).toHaveLength(5);
    } finally {
      await localEvents.close();
      await localWorker.close();
      await local.close();
    }
  });
});
