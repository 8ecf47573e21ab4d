import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId, recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { followRun } from '../../src/runtime/follow-run.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import {
  deferred,
  type MetricsServer,
  sendJson,
  startMetricsServer,
  wireMetrics,
} from '../metrics/metrics-server.js';

/**
 * The spec's "a business shared by many portfolios is fetched at most once per run", end to end:
 * a real worker (one job at a time), the HTTP metrics source against a server of the test's own,
 * and operator runs jumping ahead of the nightly run's queued children.
 */
const fixture = useRedisPrefix('shared-metrics');
const T = '2026-11-25T00:00:00.000Z';
const SHARED = '/businesses/shared/metrics';

let server: MetricsServer;
let app: App;
let worker: RunningWorker;
let events: QueueEvents;
/** The first request for the shared business arrives, and waits for `release`. */
const sharedAsked = deferred();
const release = deferred();

beforeAll(async () => {
  server = await startMetricsServer(async (req, res) => {
    if (req.url === SHARED && req.hit === 1) {
      sharedAsked.resolve();
      await release.promise;
    }
    sendJson(res, wireMetrics(req.id ?? 'x'));
  });
  app = testApp(fixture.prefix, {
    env: {
      BALLAST_METRICS_SOURCE: 'http',
      BALLAST_METRICS_URL: server.url,
      BALLAST_METRICS_TIMEOUT_MS: '20000',
      BALLAST_CONCURRENCY: '1',
    },
  });
  // Nightly portfolios first in id order; the operator's two portfolios share nothing with them.
  const portfolios: [string, string[]][] = [
    ['n1', ['shared', 'own-1']],
    ['n2', ['shared', 'own-2']],
    ['n3', ['shared', 'own-3']],
    ['n4', ['shared', 'own-4']],
    ['x-op1', ['op-1']],
    ['x-op2', ['op-2']],
  ];
  for (const [id, businesses] of portfolios) {
    let p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue' }, T);
    for (const b of businesses) p = addBusiness(p, b, {}, T);
    await app.store.create(p, TEST_EDIT);
  }
  worker = await startWorker(app);
  events = await app.queue.events(app.redis);
});
afterAll(async () => {
  release.resolve();
  await events?.close();
  await worker?.close();
  await app?.close();
  await server?.close();
});

describe('metrics of a shared business during a nightly run', () => {
  it('are fetched once for the run, even when two operator runs go in the middle', async () => {
    const runId = 'nightly-shared-1';
    const watching = followRun(app, events, runId, () => {});
    await app.queue.add({
      name: 'nightly',
      data: { runId, trigger: 'cron' },
      jobId: nightlyJobId(runId),
      priority: OPERATOR_PRIORITY,
    });
    // n1's fetch of the shared business is in flight: the worker is busy with the nightly run.
    await sharedAsked.promise;
    const manual = ['x-op1', 'x-op2'].map((portfolioId, i) => ({
      portfolioId,
      runId: `manual-shared-${i + 1}`,
    }));
    for (const m of manual) {
      await app.queue.add({
        name: 'recalculate',
        data: { ...m, trigger: 'manual', dryRun: false },
        jobId: recalculateJobId(m.runId, m.portfolioId),
        priority: OPERATOR_PRIORITY,
      });
    }
    release.resolve();
    const progress = await watching;
    for (const m of manual) {
      await app.queue.waitFor(recalculateJobId(m.runId, m.portfolioId), events, 20_000);
    }

    expect(progress).toMatchObject({ total: 6, completed: 6, failed: 0 });
    // The operator runs ran before the nightly run's remaining children (they jump the queue)...
    const order = server.requests.filter((url) => /own-|op-/.test(url));
    expect(order.indexOf('/businesses/op-1/metrics')).toBeLessThan(
      order.indexOf('/businesses/own-2/metrics'),
    );
    expect(order.indexOf('/businesses/op-2/metrics')).toBeLessThan(
      order.indexOf('/businesses/own-2/metrics'),
    );
    // ...and yet the nightly run asked for the shared business once.
    expect(server.hits.get(SHARED)).toBe(1);
    for (const id of ['n1', 'n2', 'n3', 'n4']) {
      const report = JSON.parse((await app.reports.runReport(id, runId))!);
      expect(report.actions.find((a: { business_id: string }) => a.business_id === 'shared').action).not.toBe(
        'no-metrics',
      );
    }
  });
});
