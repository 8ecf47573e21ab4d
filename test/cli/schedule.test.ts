/** `ballast schedule status`: next runs in the configured zone, and the last run's counts. */
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { runCli } from '../../src/cli/run-cli.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { type RunningScheduler, startScheduler } from '../../src/runtime/scheduler.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { cliContext } from './in-process.js';

const fixture = useRedisPrefix('cli-schedule');
const env = {
  BALLAST_QUEUE: 'q',
  BALLAST_CRON: '0 2 * * *',
  BALLAST_TZ: 'Europe/Paris',
  BALLAST_JOB_ATTEMPTS: '1',
};
const source = new MemoryMetricsSource().set(wire('m1', 100_000, 20_000));
// The source fails as a whole when asked for 'broken': that portfolio's job fails.
source.beforeAnswer = async (ids) => {
  if (ids.includes('broken')) throw new Error('metrics source down');
};
let app: App;
let scheduler: RunningScheduler;
let worker: RunningWorker | undefined;
let events: QueueEvents | undefined;

beforeAll(async () => {
  app = testApp(fixture.prefix, { env, metricsSource: source });
  for (const [id, business] of [
    ['ok1', 'm1'],
    ['ok2', 'm1'],
    ['bad', 'broken'],
  ] as const) {
    const p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue' }, '2026-02-01T00:00:00Z');
    await app.store.create(addBusiness(p, business, {}, p.createdAt), TEST_EDIT);
  }
  scheduler = await startScheduler(app, { clock: () => new Date('2026-03-01T12:00:00Z'), sweepMs: 0 });
});
afterAll(async () => {
  await scheduler?.close();
  await events?.close();
  await worker?.close();
  await app?.close();
});

async function status(json: boolean) {
  const { ctx, output } = cliContext(fixture.prefix);
  const code = await runCli(['schedule', 'status', ...(json ? ['--json'] : [])], {
    ...ctx,
    env: { ...ctx.env, ...env },
  });
  const { stdout, stderr } = output();
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return json ? JSON.parse(stdout) : stdout;
}

describe('ballast schedule status', () => {
  it('lists the next runs in the configured time zone and in UTC', async () => {
    const s = await status(true);
    expect(s).toMatchObject({ cron: '0 2 * * *', timezone: 'Europe/Paris', paused: false, last_run: null });
    // The pinned "now" is 2026-03-01T12:00Z; 29 March is the spring-forward night.
    expect(s.next_runs_local[0]).toBe('2026-03-02T02:00:00+01:00');
    expect(s.next_runs[0]).toBe('2026-03-02T01:00:00.000Z');
    const text = await status(false);
    expect(text).toMatch(
      /next runs\s+2026-03-02T02:00:00\+01:00 {2}\(2026-03-02T01:00:00\.000Z\)\n\s+2026-03-03T02:00/,
    );
    expect(text).toMatch(/last run\s+none yet/);
  });

  it('shows the last run queued, then its completed, failed and total counts from the run record', async () => {
    const runId = 'cron-20260301T010000Z';
    expect(await scheduler.fire(new Date('2026-03-01T01:00:00Z'), false)).toBe('enqueued');
    expect(await status(false)).toMatch(
      /last run\s+cron-20260301T010000Z, slot 2026-03-01T02:00:00\+01:00 {2}\(2026-03-01T01:00:00\.000Z\): queued \(prioritized\), waiting for a worker/,
    );

    events = await app.queue.events(app.redis);
    const finished = new Set<string>();
    const allDone = new Promise<void>((resolve) => {
      const seen = ({ jobId }: { jobId: string }) => {
        if (jobId.startsWith(`${runId}.`)) finished.add(jobId);
        if (finished.size === 3) resolve();
      };
      events!.on('completed', seen);
      events!.on('failed', seen);
    });
    worker = await startWorker(app);
    await allDone;

    const s = await status(true);
    expect(s.last_run).toMatchObject({
      run_id: runId,
      slot: '2026-03-01T01:00:00.000Z',
      slot_local: '2026-03-01T02:00:00+01:00',
      catch_up: false,
      skipped: null,
      state: 'done',
      total: 3,
      completed: 2,
      failed: 1,
      outcome: '2 completed, 1 failed of 3 portfolios',
    });
    expect(await status(false)).toMatch(
      /last run\s+cron-20260301T010000Z, slot .*: 2 completed, 1 failed of 3 portfolios\n/,
    );
  });

  it('shows a slot skipped by the pause as the last run, not run', async () => {
    await scheduler.store.setPaused(true, '2026-03-02T00:30:00Z');
    expect(await scheduler.fire(new Date('2026-03-02T01:00:00Z'), false)).toBe('paused');
    const s = await status(true);
    expect(s).toMatchObject({ paused: true, paused_at: '2026-03-02T00:30:00Z' });
    expect(s.last_run).toMatchObject({
      run_id: 'cron-20260302T010000Z',
      skipped: 'schedule paused',
      state: 'skipped',
      outcome: 'not run: schedule paused',
    });
    expect(await status(false)).toMatch(
      /last run\s+cron-20260302T010000Z, slot .*: not run: schedule paused/,
    );
  });
});
