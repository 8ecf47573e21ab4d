import { afterAll, describe, expect, it } from 'vitest';
import { nightlyJobId } from '../../jobs/payloads.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { previousSlot } from '../../src/runtime/cron-slots.js';
import { type FireOutcome, startScheduler } from '../../src/runtime/scheduler.js';
import { startWorker } from '../../src/runtime/worker.js';
import { testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('scheduler');
const apps: App[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

function app(suffix: string, env: Record<string, string> = {}, source = new MemoryMetricsSource()): App {
  const a = testApp(`${fixture.prefix}-${suffix}`, { env, metricsSource: source });
  apps.push(a);
  return a;
}

describe('cron slots', () => {
  const at2 = (d: Date) => d.getUTCHours() === 2 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  it('finds the last slot within the window, and none outside it', () => {
    const now = new Date('2026-11-25T04:30:10Z');
    expect(previousSlot(at2, now, 6 * 3600_000, false)?.toISOString()).toBe('2026-11-25T02:00:00.000Z');
    expect(previousSlot(at2, now, 2 * 3600_000, false)).toBeNull();
    expect(previousSlot(at2, new Date('2026-11-25T02:00:00Z'), 0, false)?.toISOString()).toBe(
      '2026-11-25T02:00:00.000Z',
    );
  });
});

describe('scheduler', () => {
  it('catches up a missed slot once, marked as a catch-up, and a second start does not run it again', async () => {
    const source = new MemoryMetricsSource().set(wire('c1', 100, 10), wire('c2', 300, 10));
    const a = app(
      'catchup',
      { BALLAST_CRON: '0 2 * * *', BALLAST_TZ: 'UTC', BALLAST_CATCH_UP_WINDOW_HOURS: '6' },
      source,
    );
    let p = createPortfolio(
      { id: 'cu', name: 'cu', ownerId: 'o', strategy: 'revenue' },
      '2026-11-24T00:00:00Z',
    );
    p = addBusiness(addBusiness(p, 'c1', {}, p.createdAt), 'c2', {}, p.createdAt);
    await a.store.create(p);
    // Pinned clock: 04:00 UTC, two hours after a 02:00 slot that no scheduler ran.
    const clock = () => new Date('2026-11-25T04:00:00Z');
    const first = await startScheduler(a, { clock });
    await first.close();
    expect(first.caughtUp).toBe('cron-20261125T020000Z');
    const job = await a.queue.getJob(nightlyJobId('cron-20261125T020000Z'));
    expect(job?.data).toMatchObject({ runId: 'cron-20261125T020000Z', trigger: 'cron', catchUp: true });

    const second = await startScheduler(a, { clock });
    await second.close();
    expect(second.caughtUp).toBeNull();
    expect((await a.queue.counts()).prioritized).toBe(1);

    // Outside the window there is nothing to catch up.
    const late = app('late', { BALLAST_CRON: '0 2 * * *', BALLAST_CATCH_UP_WINDOW_HOURS: '6' });
    const third = await startScheduler(late, { clock: () => new Date('2026-11-25T09:00:00Z') });
    await third.close();
    expect(third.caughtUp).toBeNull();

    // The worker runs it, and the report says it was a catch-up.
    const worker = await startWorker(a);
    const events = await a.queue.events(a.redis);
    try {
      const done = new Promise<void>((resolve) =>
        events.on('completed', ({ jobId }) => {
          if (jobId === 'cron-20261125T020000Z.cu') resolve();
        }),
      );
      await done;
      const report = JSON.parse((await a.reports.latest('cu'))!);
      expect(report).toMatchObject({
        run_id: 'cron-20261125T020000Z',
        trigger: 'cron',
        catch_up: true,
        applied: true,
      });
    } finally {
      await events.close();
      await worker.close();
    }
  });

  it('obeys pause and resume while running', async () => {
    const a = app('pause', { BALLAST_CRON: '* * * * * *', BALLAST_CATCH_UP: 'false' });
    const outcomes: FireOutcome[] = [];
    let waiter: ((o: FireOutcome) => void) | undefined;
    const next = () => new Promise<FireOutcome>((resolve) => (waiter = resolve));
    const scheduler = await startScheduler(a, {
      onFire: ({ outcome }) => {
        outcomes.push(outcome);
        waiter?.(outcome);
      },
    });
    try {
      expect(await next()).toBe('enqueued');
      await scheduler.store.setPaused(true, new Date().toISOString());
      // The tick in flight may have read the flag before the pause: the one after must obey it.
      await next();
      expect(await next()).toBe('paused');
      expect((await scheduler.store.state()).lastSkipped).toMatch(/schedule paused/);
      await scheduler.store.setPaused(false, new Date().toISOString());
      await next();
      expect(await next()).toBe('enqueued');
    } finally {
      await scheduler.close();
    }
    expect(outcomes).toContain('paused');
  });
});
