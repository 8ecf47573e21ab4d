import { EventEmitter } from 'node:events';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId, recalculateJobId } from '../../jobs/payloads.js';
import {
  JobFailedError,
  NIGHTLY_PRIORITY,
  OPERATOR_PRIORITY,
  type RunProgress,
  type RunTally,
} from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import { followRun, tallyRun } from '../../src/runtime/follow-run.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { seedPortfolios } from '../faults/support.js';
import { testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

/**
 * Following a nightly run when QueueEvents lose events. BullMQ trims its event stream, so a
 * reader behind a busy queue misses some; `ballast enqueue nightly --wait` must still end, with
 * the right counts, from what is stored.
 */
const fixture = useRedisPrefix('follow-run');
const source = new MemoryMetricsSource();
const COUNT = 12;
let app: App;
let worker: RunningWorker;

beforeAll(async () => {
  // One attempt: the broken portfolio's job fails for good on its first try.
  app = testApp(fixture.prefix, {
    metricsSource: source,
    env: { BALLAST_JOB_ATTEMPTS: '1', BALLAST_CONCURRENCY: '4' },
  });
  source.set(wire('fa', 100_000, 20_000), wire('fb', 300_000, 30_000), wire('fc', 50_000, 5_000));
  // The source as a whole fails whenever it is asked for 'broken' (a job failure, not no-metrics).
  source.beforeAnswer = async (ids) => {
    if (ids.includes('broken')) throw new Error('metrics source down');
  };
  await seedPortfolios(app, 'fr-', COUNT - 1, (i) => (i % 2 === 0 ? ['fa', 'fb'] : ['fb', 'fc']));
  await seedPortfolios(app, 'fr-broken-', 1, () => ['fa', 'broken']);
  worker = await startWorker(app);
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

async function enqueueNightly(runId: string): Promise<void> {
  await app.queue.add({
    name: 'nightly',
    data: { runId, trigger: 'cron' },
    jobId: nightlyJobId(runId),
    priority: NIGHTLY_PRIORITY,
  });
}

const expected = (runId: string) => ({
  total: COUNT,
  completed: COUNT - 1,
  failed: 1,
  failures: [{ jobId: recalculateJobId(runId, 'fr-broken-000'), reason: 'metrics source down' }],
});

describe('following a nightly run', () => {
  it('ends with the right counts when no event of the run ever arrives', async () => {
    const runId = 'cron-20261125T010000Z';
    // A reader whose events were all trimmed away before it read them.
    const silent = new EventEmitter() as unknown as QueueEvents;
    const seen: RunProgress[] = [];
    const watching = followRun(app, silent, runId, (p) => seen.push(p), { quietMs: 100 });
    await enqueueNightly(runId);
    const progress = await watching;
    expect(progress).toEqual(expected(runId));
    // Every recalculation had finished: the tally agrees with itself when asked again.
    expect(await tallyRun(app, runId)).toEqual({
      total: COUNT,
      completed: COUNT - 1,
      failed: 1,
      failures: expected(runId).failures,
    });
    expect(seen.at(-1)).toEqual(progress);
  });

  it('ends by events alone when they arrive, without reading the stored state', async () => {
    const runId = 'cron-20261125T020000Z';
    const events = await app.queue.events(app.redis);
    let reconciles = 0;
    const reconcile = async (): Promise<RunTally> => {
      reconciles++;
      return tallyRun(app, runId);
    };
    try {
      const watching = app.queue.watchRun(events, runId, nightlyJobId(runId), () => {}, {
        reconcile,
        quietMs: 60_000,
      });
      await enqueueNightly(runId);
      expect(await watching).toEqual(expected(runId));
      expect(reconciles).toBe(0);
    } finally {
      await events.close();
    }
  });

  it('takes the total from the run record once BullMQ has trimmed the fan-out job', async () => {
    const runId = 'cron-20261125T040000Z';
    const events = await app.queue.events(app.redis);
    try {
      const watching = app.queue.watchRun(events, runId, nightlyJobId(runId), () => {});
      await enqueueNightly(runId);
      await watching;
    } finally {
      await events.close();
    }
    expect(await app.reports.fanOutTotal(runId)).toBe(COUNT);
    // As BALLAST_KEEP_COMPLETED does to a fan-out job that finished thousands of jobs ago.
    await app.queue.queue.remove(nightlyJobId(runId));
    expect(await app.queue.getJob(nightlyJobId(runId))).toBeNull();
    const silent = new EventEmitter() as unknown as QueueEvents;
    expect(await followRun(app, silent, runId, () => {}, { quietMs: 100 })).toEqual(expected(runId));
  });

  it('does not end early when a late event repeats a child the stored state already counted', async () => {
    const runId = 'cron-20261125T030000Z';
    const late = new EventEmitter();
    // The run is over before the watch starts; the tally counts it from the stored state.
    const events = await app.queue.events(app.redis);
    try {
      const before = app.queue.watchRun(events, runId, nightlyJobId(runId), () => {});
      await enqueueNightly(runId);
      await before;
    } finally {
      await events.close();
    }
    // A watcher that has lost every event so far, and whose stored tally lags one child behind
    // (as if that child were still running): events arriving now must not finish the run.
    let lagging = true;
    const reconcile = async (): Promise<RunTally> => {
      const tally = await tallyRun(app, runId);
      return lagging ? { ...tally, completed: tally.completed - 1 } : tally;
    };
    const seen = progressLog();
    const watching = app.queue.watchRun(
      late as unknown as QueueEvents,
      runId,
      nightlyJobId(runId),
      seen.push,
      {
        reconcile,
        quietMs: 100,
      },
    );
    // Wait for the first reconcile to have adopted the lagging tally.
    await seen.reached((p) => p.total === COUNT && p.completed === COUNT - 2);
    // A late completion event for a child the tally had already counted: by events, the run
    // looks complete; the watch must check the stored state (still lagging) instead of ending.
    const mark = seen.count();
    late.emit('completed', { jobId: recalculateJobId(runId, 'fr-000'), returnvalue: '{}' });
    const first = await Promise.race([
      seen.reached((p) => p.completed === COUNT - 2, mark).then(() => 'recounted'),
      watching.then(() => 'ended'),
    ]);
    expect(first).toBe('recounted');
    // Once the stored state has the last child, the next reconcile ends the watch.
    lagging = false;
    expect(await watching).toEqual(expected(runId));
  });
});

describe('following a run by its events', () => {
  /** A stand-in for the events reader: the test plays the events; the queue and Redis are real. */
  const played = () => new EventEmitter();
  const fanOut = (runId: string, total: number) => ({
    jobId: nightlyJobId(runId),
    returnvalue: { runId, total },
  });

  it('counts a child once, by its last outcome, when a failed job is retried and completes', async () => {
    const runId = 'cron-20261125T060000Z';
    const events = played();
    const seen = progressLog();
    const watching = app.queue.watchRun(
      events as unknown as QueueEvents,
      runId,
      nightlyJobId(runId),
      seen.push,
    );
    events.emit('completed', fanOut(runId, 3));
    events.emit('failed', { jobId: `${runId}.a`, failedReason: 'metrics source down' });
    // An operator retries it from the dashboard, and it completes.
    events.emit('completed', { jobId: `${runId}.a`, returnvalue: {} });
    events.emit('completed', { jobId: `${runId}.b`, returnvalue: {} });
    // Counted by events alone, a, a and b would make 3 of 3: the run is not over, c still runs.
    await seen.reached((p) => p.completed === 2);
    const mark = seen.count();
    events.emit('completed', { jobId: `${runId}.c`, returnvalue: {} });
    expect(await watching).toEqual({ total: 3, completed: 3, failed: 0, failures: [] });
    expect(seen.count()).toBe(mark + 1);
  });

  it('does not count a child twice when it runs again after a retried fan-out (it finds its run committed)', async () => {
    const runId = 'cron-20261125T090000Z';
    const events = played();
    const seen = progressLog();
    const watching = followRun(app, events as unknown as QueueEvents, runId, seen.push, { quietMs: 60_000 });
    events.emit('completed', fanOut(runId, 2));
    events.emit('completed', { jobId: `${runId}.a`, returnvalue: { duplicate: false } });
    // The fan-out failed midway and was retried: a's job, trimmed already, was added and ran again.
    events.emit('completed', { jobId: `${runId}.a`, returnvalue: { duplicate: true } });
    const mark = seen.count();
    // Counted twice, a would make 2 of 2 and end the watch while b still runs.
    const first = await Promise.race([
      watching.then(() => 'ended'),
      new Promise((resolve) => setImmediate(resolve)).then(() => 'waiting'),
    ]);
    expect(first).toBe('waiting');
    events.emit('completed', { jobId: `${runId}.b`, returnvalue: { duplicate: false } });
    expect(await watching).toEqual({ total: 2, completed: 2, failed: 0, failures: [] });
    expect(seen.count()).toBe(mark + 1);
  });

  it('settles with the progress so far when stopped, as when the nightly job could not be added', async () => {
    const runId = 'cron-20261125T070000Z';
    const events = played();
    const stop = new AbortController();
    let reconciles = 0;
    const watching = app.queue.watchRun(
      events as unknown as QueueEvents,
      runId,
      nightlyJobId(runId),
      () => {},
      {
        reconcile: async () => {
          reconciles++;
          return { total: null, completed: 0, failed: 0, failures: [] };
        },
        quietMs: 20,
        signal: stop.signal,
      },
    );
    stop.abort();
    expect(await watching).toEqual({ total: null, completed: 0, failed: 0, failures: [] });
    // Stopped: its quiet timer no longer reconciles (a later event changes nothing either).
    const after = reconciles;
    events.emit('completed', fanOut(runId, 1));
    expect(reconciles).toBe(after);
    expect(events.listenerCount('completed')).toBe(0);
  });
});

describe('waiting for one job', () => {
  /** A real events reader that never reads: every event of the job is lost to it. */
  function deafEvents(of: App): QueueEvents {
    return new QueueEvents(of.config.queueName, {
      connection: (of.redis as Redis).duplicate(),
      prefix: of.keys.bullPrefix,
      autorun: false,
    });
  }

  async function addRecalculate(portfolioId: string, runId: string): Promise<string> {
    const jobId = recalculateJobId(runId, portfolioId);
    await app.queue.add({
      name: 'recalculate',
      data: { portfolioId, runId, trigger: 'manual', dryRun: false },
      jobId,
      priority: OPERATOR_PRIORITY,
    });
    return jobId;
  }

  it('finds a completion whose event never arrives by reading the job', async () => {
    const deaf = deafEvents(app);
    try {
      const jobId = await addRecalculate('fr-001', 'manual-20261125T050000Z-aaaa');
      const result = await app.queue.waitFor(jobId, deaf, 20_000, { pollMs: 50 });
      expect(result).toMatchObject({ portfolioId: 'fr-001', applied: true, duplicate: false });
    } finally {
      await deaf.close();
    }
  });

  it('finds a failure whose event never arrives, with its reason', async () => {
    const deaf = deafEvents(app);
    try {
      const jobId = await addRecalculate('fr-broken-000', 'manual-20261125T050000Z-bbbb');
      const failed = app.queue.waitFor(jobId, deaf, 20_000, { pollMs: 50 });
      await expect(failed).rejects.toThrow('metrics source down');
      await expect(failed).rejects.toBeInstanceOf(JobFailedError);
    } finally {
      await deaf.close();
    }
  });

  it('answers for a job already gone when the wait starts from ifGone, or refuses it', async () => {
    const deaf = deafEvents(app);
    try {
      const gone = 'manual-20261125T080000Z-cccc.fr-002';
      expect(await app.queue.waitFor(gone, deaf, 20_000, { ifGone: async () => 'stored' })).toBe('stored');
      await expect(app.queue.waitFor(gone, deaf, 20_000, { ifGone: async () => undefined })).rejects.toThrow(
        `job ${gone} not found`,
      );
      const failed = new JobFailedError(gone, 'left no report');
      await expect(
        app.queue.waitFor(gone, deaf, 20_000, {
          ifGone: async () => {
            throw failed;
          },
        }),
      ).rejects.toBe(failed);
    } finally {
      await deaf.close();
    }
  });

  it('asks ifGone once the job is no longer kept, and keeps waiting while it has no answer', async () => {
    // A queue without a worker: the job waits until the test removes it, as BullMQ's trimming
    // of completed jobs would.
    const idle = testApp(fixture.prefix, { env: { BALLAST_QUEUE: 'idle' } });
    const deaf = deafEvents(idle);
    try {
      const jobId = 'idle-job';
      await idle.queue.add({ name: 'recalculate', data: {}, jobId, priority: OPERATOR_PRIORITY });
      let asked = 0;
      let stored: string | undefined;
      let askedTwice: () => void = () => {};
      const twice = new Promise<void>((resolve) => {
        askedTwice = resolve;
      });
      const waiting = idle.queue.waitFor(jobId, deaf, 20_000, {
        pollMs: 50,
        ifGone: async () => {
          if (++asked === 2) askedTwice();
          return stored;
        },
      });
      await idle.queue.queue.remove(jobId);
      // Gone, and nothing stored yet: it keeps asking.
      await twice;
      stored = 'the stored result';
      expect(await waiting).toBe('the stored result');
    } finally {
      await deaf.close();
      await idle.close();
    }
  });
});

/** The progress a watcher reported, and a promise for the first report that matches. */
function progressLog(): {
  push: (p: RunProgress) => void;
  count: () => number;
  /** The first report from index `from` on that matches. */
  reached: (match: (p: RunProgress) => boolean, from?: number) => Promise<void>;
} {
  const seen: RunProgress[] = [];
  const waiters: { match: (p: RunProgress) => boolean; resolve: () => void }[] = [];
  return {
    push: (p) => {
      seen.push(p);
      for (const w of [...waiters]) {
        if (w.match(p)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    count: () => seen.length,
    reached: (match, from = 0) =>
      seen.slice(from).some(match)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ match, resolve })),
  };
}
