import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { nightlyJobId, recalculateJobId } from '../../jobs/payloads.js';
import { ScheduleStore } from '../../src/adapters/schedule-store.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { type FireEvent, type FireOutcome, startScheduler } from '../../src/runtime/scheduler.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
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

/** A clock the test moves by hand. */
function manualClock(start: string) {
  let now = Date.parse(start);
  return {
    clock: () => new Date(now),
    set: (to: string) => {
      now = Date.parse(to);
    },
  };
}

/** Makes the app's queue refuse `times` adds, as a dropped connection would. */
function failAdds(a: App, times: number): { readonly attempts: () => number } {
  const realAdd = a.queue.add.bind(a.queue);
  let attempts = 0;
  a.queue.add = async (job) => {
    attempts++;
    if (attempts <= times) throw new Error('Connection is closed.');
    return realAdd(job);
  };
  return { attempts: () => attempts };
}

const slotKey = (a: App, runId: string) => `${a.keys.schedule('nightly')}:slot:${runId}`;

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
    await a.store.create(p, TEST_EDIT);
    // Pinned clock: 04:00 UTC, two hours after a 02:00 slot that no scheduler ran.
    const clock = () => new Date('2026-11-25T04:00:00Z');
    const first = await startScheduler(a, { clock, sweepMs: 0 });
    await first.close();
    expect(first.caughtUp).toBe('cron-20261125T020000Z');
    const job = await a.queue.getJob(nightlyJobId('cron-20261125T020000Z'));
    expect(job?.data).toMatchObject({ runId: 'cron-20261125T020000Z', trigger: 'cron', catchUp: true });

    const second = await startScheduler(a, { clock, sweepMs: 0 });
    await second.close();
    expect(second.caughtUp).toBeNull();
    expect((await a.queue.counts()).prioritized).toBe(1);

    // Outside the window there is nothing to catch up.
    const late = app('outside-window', { BALLAST_CRON: '0 2 * * *', BALLAST_CATCH_UP_WINDOW_HOURS: '6' });
    const third = await startScheduler(late, { clock: () => new Date('2026-11-25T09:00:00Z'), sweepMs: 0 });
    await third.close();
    expect(third.caughtUp).toBeNull();

    // The worker runs it, and the report says it was a catch-up. The events reader is ready
    // before the worker starts (a job done before it listens would never be heard of), and
    // waitFor also reads the job's stored state.
    const events = await a.queue.events(a.redis);
    let worker: RunningWorker | undefined;
    try {
      worker = await startWorker(a);
      // The fan-out adds the portfolio's job before it completes: then that job can be waited on.
      await a.queue.waitFor(nightlyJobId('cron-20261125T020000Z'), events, 25_000, { pollMs: 500 });
      await a.queue.waitFor(recalculateJobId('cron-20261125T020000Z', 'cu'), events, 25_000, {
        pollMs: 500,
      });
      const report = JSON.parse((await a.reports.latest('cu'))!);
      expect(report).toMatchObject({
        run_id: 'cron-20261125T020000Z',
        trigger: 'cron',
        catch_up: true,
        applied: true,
      });
    } finally {
      await events.close();
      await worker?.close();
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

describe('a slot whose enqueue fails', () => {
  const env = { BALLAST_CRON: '0 2 * * *', BALLAST_CATCH_UP_WINDOW_HOURS: '6' };
  const runId = 'cron-20261130T020000Z';

  it('gives its claim back, so that a restarted scheduler catches it up', async () => {
    const a = app('release', env);
    const failing = failAdds(a, Number.POSITIVE_INFINITY);
    const events: FireEvent[] = [];
    const s1 = await startScheduler(a, {
      clock: () => new Date('2026-11-30T02:00:01Z'),
      catchUp: true,
      sweepMs: 0,
      retryDelaysMs: [0, 0],
      onFire: (e) => events.push(e),
    });
    await s1.close();
    // Three attempts (two retries), then the claim is released: nothing claims a slot not run.
    expect(failing.attempts()).toBe(3);
    expect(events.map((e) => e.outcome)).toEqual(['failed']);
    expect(await fixture.client.exists(slotKey(a, runId))).toBe(0);
    expect(await a.queue.getJob(nightlyJobId(runId))).toBeNull();

    // Another replica, or this one restarted, an hour later within the window.
    const b = app('release', env);
    const s2 = await startScheduler(b, { clock: () => new Date('2026-11-30T03:00:00Z'), sweepMs: 0 });
    await s2.close();
    expect(s2.caughtUp).toBe(runId);
    expect(await b.queue.getJob(nightlyJobId(runId))).not.toBeNull();
  });

  it('is retried by later sweeps, with backoff, while the slot is recent', async () => {
    const a = app('retry', env);
    const failing = failAdds(a, 4);
    const time = manualClock('2026-11-30T01:59:00Z');
    const outcomes: FireOutcome[] = [];
    const s = await startScheduler(a, {
      clock: time.clock,
      sweepMs: 0,
      retryDelaysMs: [0],
      onFire: (e) => outcomes.push(e.outcome),
    });
    try {
      expect(await s.sweep()).toBeNull(); // not due yet
      time.set('2026-11-30T02:00:00.200Z');
      expect(await s.sweep()).toBe('failed'); // attempts 1 and 2
      expect(await s.sweep()).toBeNull(); // backing off (30 s)
      time.set('2026-11-30T02:00:31Z');
      expect(await s.sweep()).toBe('failed'); // attempts 3 and 4
      time.set('2026-11-30T02:01:00Z');
      expect(await s.sweep()).toBeNull(); // backing off (60 s now)
      time.set('2026-11-30T02:01:32Z');
      expect(await s.sweep()).toBe('enqueued'); // attempt 5
      expect(failing.attempts()).toBe(5);
      expect(await s.sweep()).toBeNull(); // settled
    } finally {
      await s.close();
    }
    const job = await a.queue.getJob(nightlyJobId(runId));
    // A live slot run late is not a catch-up.
    expect(job?.data).toMatchObject({ runId, trigger: 'cron', catchUp: false });
    expect(outcomes).toEqual(['failed', 'failed', 'enqueued']);
  });

  it('is not retried once it is no longer recent', async () => {
    const a = app('stale-slot', { ...env, BALLAST_CATCH_UP_WINDOW_HOURS: '0' });
    failAdds(a, Number.POSITIVE_INFINITY);
    const time = manualClock('2026-11-30T01:59:00Z');
    const s = await startScheduler(a, { clock: time.clock, sweepMs: 0, retryDelaysMs: [] });
    try {
      time.set('2026-11-30T02:00:00Z');
      expect(await s.sweep()).toBe('failed');
      // At least an hour, even with a catch-up window of 0: then the slot is left alone.
      time.set('2026-11-30T03:00:00Z');
      expect(await s.sweep()).toBe('failed');
      time.set('2026-11-30T03:30:00Z');
      expect(await s.sweep()).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('left claimed by a replica that died before enqueueing is taken over; a fresh claim is not', async () => {
    const a = app('stale-claim', env);
    const at = Date.parse('2026-11-30T02:00:00Z');
    // A replica claimed the slot and was killed before its add: no job, no record.
    await fixture.client.set(slotKey(a, runId), `dead-host:1234|${at}`, 'PX', 3_600_000);
    const early = await startScheduler(a, { clock: () => new Date(at + 30_000), sweepMs: 0 });
    await early.close();
    // Thirty seconds after its claim it may still be at work.
    expect(early.caughtUp).toBeNull();
    expect(await a.queue.getJob(nightlyJobId(runId))).toBeNull();

    const later = await startScheduler(a, { clock: () => new Date(at + 5 * 60_000), sweepMs: 0 });
    await later.close();
    expect(later.caughtUp).toBe(runId);
    expect(await a.queue.getJob(nightlyJobId(runId))).not.toBeNull();
    expect(await fixture.client.get(slotKey(a, runId))).toMatch(/^enqueued\|[^|]+:\d+\|\d+$/);
  });

  it('once enqueued, is never run again, even when its job is trimmed and its run record expired', async () => {
    const a = app('enqueued', env);
    const at = Date.parse('2026-11-30T02:00:00Z');
    const first = await startScheduler(a, { clock: () => new Date(at + 1000), sweepMs: 0 });
    await first.close();
    expect(first.caughtUp).toBe(runId);
    // BALLAST_KEEP_COMPLETED trims the nightly job, a short BALLAST_RUN_MARKER_TTL_S expires
    // the run record: only the claim is left, and it must not look like a dead replica's.
    const queue = new Queue(a.config.queueName, { connection: fixture.client, prefix: a.keys.bullPrefix });
    await queue.remove(nightlyJobId(runId));
    await queue.close();
    await fixture.client.del(a.keys.run(runId));
    expect(await a.queue.getJob(nightlyJobId(runId))).toBeNull();

    const later = await startScheduler(a, { clock: () => new Date(at + 2 * 3_600_000), sweepMs: 0 });
    await later.close();
    expect(later.caughtUp).toBeNull();
    expect(await a.queue.getJob(nightlyJobId(runId))).toBeNull();
  });

  it('is decided by whether its run exists, not by the claim alone', async () => {
    const a = app('exists', env);
    // The run exists (its fan-out record; the job was trimmed) but its claim has expired.
    await a.reports.recordFanOut(runId, 3, '2026-11-30T02:00:05Z');
    const s = await startScheduler(a, { clock: () => new Date('2026-11-30T03:00:00Z'), sweepMs: 0 });
    await s.close();
    expect(s.caughtUp).toBeNull();
    expect(await a.queue.getJob(nightlyJobId(runId))).toBeNull();
    expect(await fixture.client.exists(slotKey(a, runId))).toBe(0);
  });
});

describe('a slot node-cron lets pass', () => {
  it('still runs when the event loop is blocked at slot time (node-cron`s 1 s tolerance)', async () => {
    const a = app('late', { BALLAST_CRON: '*/5 * * * * *', BALLAST_CATCH_UP: 'false' });
    const enqueued: string[] = [];
    let waiter: ((runId: string) => void) | undefined;
    const s = await startScheduler(a, {
      // No sweeps of its own: only node-cron (and its missed-execution event) can run the slot.
      sweepMs: 0,
      onFire: ({ runId, outcome }) => {
        if (outcome !== 'enqueued') return;
        enqueued.push(runId);
        waiter?.(runId);
      },
    });
    try {
      // The next slot at least a second away: block the event loop from 200 ms before it to 2.5 s
      // after (node-cron reads its clock in whole seconds: 2 s late, beyond its default 1 s).
      const slot = Math.ceil((Date.now() + 1000) / 5000) * 5000;
      const blocked = new Promise<void>((resolve) =>
        setTimeout(
          () => {
            while (Date.now() < slot + 2500) {
              // busy: a long synchronous job of the worker in `ballast start`
            }
            resolve();
          },
          slot - 200 - Date.now(),
        ),
      );
      const runId = `cron-${new Date(slot)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
        .replace(/[-:]/g, '')}`;
      const ran = new Promise<string>((resolve) => {
        waiter = (id) => {
          if (id === runId) resolve(id);
        };
      });
      await blocked;
      expect(await ran).toBe(runId);
    } finally {
      await s.close();
    }
  });
});

describe('slots across DST changes (Europe/Paris)', () => {
  const paris = { BALLAST_CRON: '30 2 * * *', BALLAST_TZ: 'Europe/Paris', BALLAST_CATCH_UP: 'false' };

  it('runs the 02:30 slot that spring-forward skips, at 03:00 CEST, once', async () => {
    const a = app('dst-spring', paris);
    const time = manualClock('2026-03-29T00:50:00Z');
    const s = await startScheduler(a, { clock: time.clock, sweepMs: 0 });
    try {
      expect(await s.sweep()).toBeNull();
      time.set('2026-03-29T01:00:00.100Z'); // 03:00:00 CEST: the first instant after the gap
      expect(await s.sweep()).toBe('enqueued');
      time.set('2026-03-29T01:30:00Z');
      expect(await s.sweep()).toBeNull();
    } finally {
      await s.close();
    }
    expect(await a.queue.getJob(nightlyJobId('cron-20260329T010000Z'))).not.toBeNull();
  });

  it('runs the ambiguous 02:30 of fall-back once: its first occurrence, on every replica', async () => {
    const a = app('dst-fall', paris);
    const time = manualClock('2026-10-25T00:20:00Z');
    const s = await startScheduler(a, { clock: time.clock, sweepMs: 0 });
    try {
      time.set('2026-10-25T00:30:00.100Z'); // 02:30 CEST
      expect(await s.sweep()).toBe('enqueued');
      time.set('2026-10-25T01:30:00.100Z'); // 02:30 CET, the second occurrence (node-cron fires this one)
      expect(await s.sweep()).toBeNull();
    } finally {
      await s.close();
    }
    // A replica started during the second 02:30, catch-up on: the slot is the same run.
    const b = app('dst-fall', { ...paris, BALLAST_CATCH_UP: 'true' });
    const other = await startScheduler(b, { clock: () => new Date('2026-10-25T01:30:30Z'), sweepMs: 0 });
    await other.close();
    expect(other.caughtUp).toBeNull();
    expect(await a.queue.getJob(nightlyJobId('cron-20261025T003000Z'))).not.toBeNull();
    expect(await a.queue.getJob(nightlyJobId('cron-20261025T013000Z'))).toBeNull();
    expect((await a.queue.counts()).prioritized).toBe(1);
  });
});

describe('a slot that passes while the schedule is paused', () => {
  const env = { BALLAST_CRON: '0 2 * * *', BALLAST_CATCH_UP_WINDOW_HOURS: '6' };
  const runId = 'cron-20261130T020000Z';

  it('is marked by a running scheduler and never run after the resume', async () => {
    const a = app('paused-live', env);
    const time = manualClock('2026-11-30T01:00:00Z');
    const s = await startScheduler(a, { clock: time.clock, sweepMs: 0 });
    try {
      await s.store.setPaused(true, '2026-11-30T01:30:00Z');
      time.set('2026-11-30T02:00:00.100Z');
      expect(await s.sweep()).toBe('paused');
      await s.store.setPaused(false, '2026-11-30T02:30:00Z');
      time.set('2026-11-30T02:31:00Z');
      expect(await s.sweep()).toBeNull();
    } finally {
      await s.close();
    }
    expect(await fixture.client.get(slotKey(a, runId))).toMatch(/^paused\|/);
    expect(await s.store.state()).toMatchObject({ lastRunId: runId, lastSkipped: 'schedule paused' });
    // A scheduler started after the resume, catch-up on, within the window: still not run.
    const restarted = await startScheduler(a, { clock: () => new Date('2026-11-30T03:00:00Z'), sweepMs: 0 });
    await restarted.close();
    expect(restarted.caughtUp).toBeNull();
    expect(await a.queue.getJob(nightlyJobId(runId))).toBeNull();
  });

  it('is not caught up when no scheduler was up during the pause either', async () => {
    const a = app('paused-down', env);
    const store = new ScheduleStore(a.redis, a.keys);
    await store.setPaused(true, '2026-11-30T01:30:00Z');
    await store.setPaused(false, '2026-11-30T02:30:00Z');
    const outcomes: FireOutcome[] = [];
    const s = await startScheduler(a, {
      clock: () => new Date('2026-11-30T03:00:00Z'),
      sweepMs: 0,
      onFire: (e) => outcomes.push(e.outcome),
    });
    await s.close();
    expect(s.caughtUp).toBeNull();
    expect(outcomes).toEqual(['paused']);
    expect(await a.queue.getJob(nightlyJobId(runId))).toBeNull();
    expect(await s.store.state()).toMatchObject({ lastRunId: runId, lastSkipped: 'schedule paused' });
    // A slot after the pause is run as usual.
    const next = await startScheduler(a, { clock: () => new Date('2026-12-01T02:00:00Z'), sweepMs: 0 });
    await next.close();
    expect(next.caughtUp).toBeNull(); // due at the start: a live slot, not a catch-up
    expect(await a.queue.getJob(nightlyJobId('cron-20261201T020000Z'))).not.toBeNull();
  });
});

describe('closing the scheduler while a slot is being enqueued', () => {
  it('lets the enqueue end, or gives the claim back, before the connections close', async () => {
    const a = app('close', { BALLAST_CRON: '0 2 * * *' });
    const realAdd = a.queue.add.bind(a.queue);
    let release: (() => void) | undefined;
    let entered: (() => void) | undefined;
    const inAdd = new Promise<void>((resolve) => (entered = resolve));
    a.queue.add = async () => {
      entered?.();
      await new Promise<void>((resolve) => (release = resolve));
      throw new Error('Connection is closed.');
    };
    const time = manualClock('2026-11-30T01:59:59Z');
    const s = await startScheduler(a, { clock: time.clock, sweepMs: 0, retryDelaysMs: [60_000] });
    time.set('2026-11-30T02:00:00.100Z');
    const sweeping = s.sweep();
    await inAdd;
    const closing = s.close();
    release?.();
    await closing;
    expect(await sweeping).toBe('failed');
    // The retry's 60 s wait was cut short by close(), and the claim given back.
    expect(await fixture.client.exists(slotKey(a, 'cron-20261130T020000Z'))).toBe(0);
    a.queue.add = realAdd;
  });
});
