import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { wireMetrics } from '../metrics/metrics-server.js';

/**
 * The `file` metrics source when its file cannot be used: metrics that do not arrive are
 * no-metrics for the run, and the published report says why. The job does not fail.
 */
const fixture = useRedisPrefix('file-metrics-run');
const T = '2026-11-25T00:00:00.000Z';
let dir: string;
let file: string;
let app: App;
let worker: RunningWorker;
let events: QueueEvents;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ballast-file-run-'));
  file = join(dir, 'metrics.json');
  app = testApp(fixture.prefix, { env: { BALLAST_METRICS_SOURCE: 'file', BALLAST_METRICS_FILE: file } });
  let p = createPortfolio({ id: 'fm', name: 'fm', ownerId: 'o', strategy: 'revenue' }, T);
  for (const b of ['fa', 'fb']) p = addBusiness(p, b, {}, T);
  await app.store.create(p, TEST_EDIT);
  worker = await startWorker(app);
  events = await app.queue.events(app.redis);
});
afterAll(async () => {
  await events?.close();
  await worker?.close();
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(runId: string): Promise<{ result: unknown; report: Record<string, unknown> }> {
  const jobId = recalculateJobId(runId, 'fm');
  await app.queue.add({
    name: 'recalculate',
    data: { portfolioId: 'fm', runId, trigger: 'manual', dryRun: false },
    jobId,
    priority: OPERATOR_PRIORITY,
  });
  const result = await app.queue.waitFor(jobId, events, 20_000);
  return { result, report: JSON.parse((await app.reports.runReport('fm', runId))!) };
}

type Action = { business_id: string; action: string; reason: string };

describe('a run on an unreadable metrics file', () => {
  it('publishes a report with every business no-metrics and the reason, and recovers with the file', async () => {
    const missing = await run('manual-file-1');
    expect(missing.result).toMatchObject({ applied: true, changes: 0 });
    const actions = missing.report.actions as Action[];
    expect(actions.map((a) => a.action)).toEqual(['no-metrics', 'no-metrics']);
    expect(actions[0]!.reason).toContain(`metrics file unreadable: ${file}: cannot read: no such file`);
    expect(missing.report.metrics).toMatchObject({ businesses_without_metrics: 2 });
    expect(await app.reports.latest('fm')).toBe(JSON.stringify(missing.report));

    // Truncated, as when caught mid-rewrite.
    await writeFile(file, '[{"business_id": "fa", "revenue": 10');
    const truncated = await run('manual-file-2');
    expect((truncated.report.actions as Action[])[1]!.reason).toMatch(
      /metrics file unreadable: .*not valid JSON/,
    );

    await writeFile(
      file,
      JSON.stringify([wireMetrics('fa', { revenue: 300 }), wireMetrics('fb', { revenue: 100 })]),
    );
    const later = new Date(Date.now() + 60_000);
    await utimes(file, later, later);
    const fine = await run('manual-file-3');
    expect((fine.report.actions as Action[]).map((a) => a.action)).toEqual(['increase', 'decrease']);
  });
});
