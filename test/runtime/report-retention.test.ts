/**
 * Reports for years: each portfolio's report stream and the global one are trimmed by count and by
 * age (on the app's clock, injected here) by the script that appends; the latest report survives
 * whatever the window; run markers hold a summary, not a copy.
 */
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('report-retention');
const DAY = 86_400_000;
let now = new Date('2026-01-01T02:00:00Z');
let app: App;
let worker: RunningWorker;
let events: QueueEvents;
const source = new MemoryMetricsSource().set(wire('a', 1000, 100), wire('b', 1500, 100));

beforeAll(async () => {
  app = testApp(fixture.prefix, {
    metricsSource: source,
    clock: () => now,
    env: {
      BALLAST_RETENTION_PER_PORTFOLIO: '3',
      BALLAST_RETENTION_GLOBAL: '4',
      BALLAST_RETENTION_DAYS: '10',
    },
  });
  for (const id of ['r1', 'r2']) {
    const p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue' }, now.toISOString());
    await app.store.create(
      addBusiness(addBusiness(p, 'a', {}, now.toISOString()), 'b', {}, now.toISOString()),
      TEST_EDIT,
    );
  }
  worker = await startWorker(app);
  events = await app.queue.events(app.redis);
});

afterAll(async () => {
  await events?.close();
  await worker?.close();
  await app?.close();
});

let runs = 0;
async function night(portfolioId: string): Promise<string> {
  const runId = `manual-ret-${++runs}`;
  const jobId = recalculateJobId(runId, portfolioId);
  await app.queue.add({
    name: 'recalculate',
    data: { portfolioId, runId, trigger: 'manual', dryRun: true },
    jobId,
    priority: OPERATOR_PRIORITY,
  });
  await app.queue.waitFor(jobId, events, 20_000);
  return runId;
}

const ids = async (key: string) => (await fixture.client.xrange(key, '-', '+')).map(([id]) => id);

describe('report retention', () => {
  it('keeps the newest BALLAST_RETENTION_PER_PORTFOLIO / _GLOBAL reports, trims by age, and never the latest', async () => {
    let last = '';
    for (let n = 0; n < 5; n++) {
      now = new Date(now.getTime() + DAY);
      for (const id of ['r1', 'r2']) last = await night(id);
    }
    const own = await ids(app.keys.portfolioReports('r2'));
    expect(own).toHaveLength(3);
    // Ids follow the app's clock, so age trimming follows it too.
    expect(Number(own.at(-1)!.split('-')[0])).toBe(now.getTime());
    expect(await ids(app.keys.reports)).toHaveLength(4);
    const latest = JSON.parse((await app.reports.latest('r2'))!);
    expect(latest.run_id).toBe(last);
    // The run marker keeps a summary and the stream id, and the full report is read through it.
    const marker = await fixture.client.hgetall(app.keys.runMarker('r2', last));
    expect(Object.keys(marker).sort()).toEqual(['id', 'published', 'summary']);
    expect(JSON.parse((await app.reports.runReport('r2', last))!)).toEqual(latest);

    // 30 days later, one more night: everything older than 10 days goes, the new report stays.
    now = new Date(now.getTime() + 30 * DAY);
    const fresh = await night('r1');
    expect(await ids(app.keys.portfolioReports('r1'))).toHaveLength(1);
    const global = await fixture.client.xrange(app.keys.reports, '-', '+');
    expect(global.map(([, f]) => JSON.parse(f[1]!).run_id)).toEqual([fresh]);
    // r2 ran no night since: its stream is trimmed when it next appends, its latest report stays.
    expect(JSON.parse((await app.reports.latest('r2'))!).run_id).toBe(last);
    // A report trimmed away is no longer readable through its (still living) marker: null, not an error.
    const first = 'manual-ret-2';
    expect(await app.reports.runSummary('r2', first)).not.toBeNull();
    expect(await app.reports.runReport('r2', first)).toBeNull();
  });
});
