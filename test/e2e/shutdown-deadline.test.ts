/**
 * BALLAST_SHUTDOWN_TIMEOUT: every role exits within it of SIGTERM whatever Redis does (down,
 * coming back); active jobs get the time to finish, and a role that has to give up says what was
 * still open and exits 1. Real processes, each Redis that goes away a private redis-server of
 * the test's own; the exit is measured from the signal, never slept.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recalculateJobId } from '../../jobs/payloads.js';
import { type PrivateRedis, startPrivateRedis } from '../../src/adapters/redis-launcher.js';
import type { App } from '../../src/app.js';
import { figures, killAll, nextEvent, seedPortfolios, workerEnv } from '../faults/support.js';
import { testApp } from '../helpers/app.js';
import { type BallastProcess, spawnBallast } from '../helpers/process.js';
import { redisUrl, testPrefix, useRedisPrefix } from '../helpers/redis.js';
import { readReportsUntil } from '../helpers/streams.js';
import { type MetricsServer, sendJson, startMetricsServer, wireMetrics } from '../metrics/metrics-server.js';

/** The deadline most cases run with, and what the assertion allows on top (process exit, a busy CI). */
const DEADLINE = '3s';
const DEADLINE_MS = 3000;
const SLACK_MS = 4000;
const STILL_OPEN = /shutdown deadline passed .*still open/;

const fixture = useRedisPrefix('e2e-shutdown');
const started: BallastProcess[] = [];
const redises: PrivateRedis[] = [];
/** Metrics answers wait here while `holding`: the jobs asking stay active. */
const held: { id: string; res: ServerResponse }[] = [];
const requestArrived = nextEvent();
let holding = true;
let server: MetricsServer;
let app: App;

function answer(id: string, res: ServerResponse): void {
  sendJson(res, wireMetrics(id, figures(id)));
}

function release(): void {
  holding = false;
  for (const { id, res } of held.splice(0)) answer(id, res);
}

/** Resolves once a metrics request is waiting for its answer. */
async function untilHeld(): Promise<void> {
  while (held.length === 0) await requestArrived.wait();
}

beforeAll(async () => {
  server = await startMetricsServer((req, res) => {
    const id = req.id ?? 'x';
    if (holding) held.push({ id, res });
    else answer(id, res);
    requestArrived.signal();
  });
  app = testApp(fixture.prefix);
});
afterEach(async () => {
  release();
  killAll(started);
  // Each private redis-server is stopped by its own process handle (SIGTERM, then SIGKILL).
  for (const r of redises.splice(0)) await r.stop();
});
afterAll(async () => {
  await app?.close();
  await server?.close();
});

async function privateRedis(options: { appendonly?: boolean } = {}): Promise<PrivateRedis> {
  const r = await startPrivateRedis(options);
  redises.push(r);
  return r;
}

function role(args: string[], redis: string, prefix: string, extra: Record<string, string> = {}) {
  const p = spawnBallast(
    args,
    workerEnv(redis, prefix, {
      BALLAST_SHUTDOWN_TIMEOUT: DEADLINE,
      BALLAST_API_PORT: '0',
      BALLAST_CATCH_UP: 'false',
      BALLAST_METRICS_SOURCE: 'http',
      BALLAST_METRICS_URL: server.url,
      BALLAST_METRICS_TIMEOUT_MS: '20000',
      // Short locks: a job left behind is taken over within seconds. Every worker on the queue gets
      // them: a worker's stalled check holds off the others' for its own interval.
      BALLAST_LOCK_DURATION_MS: '1500',
      BALLAST_STALLED_INTERVAL_MS: '1000',
      ...extra,
    }),
  );
  started.push(p);
  return p;
}

/** Stops the redis-server by its pid; resolves once `seenBy` has met the refused reconnects. */
async function killRedis(redis: PrivateRedis, seenBy: BallastProcess, signal: NodeJS.Signals = 'SIGKILL') {
  const pid = redis.pid();
  if (pid === undefined) throw new Error('the private redis-server is not running');
  process.kill(pid, signal);
  await seenBy.waitFor(/ECONNREFUSED/);
}

/** SIGTERM, then the exit code and how long after the signal it came. */
async function terminate(p: BallastProcess): Promise<{ code: number | string; ms: number }> {
  const signalledAt = performance.now();
  p.child.kill('SIGTERM');
  const code = await p.exited;
  return { code, ms: performance.now() - signalledAt };
}

/** The error line a role writes when it gives up, parsed. */
function stillOpenLine(p: BallastProcess): Record<string, unknown> {
  const line = p
    .stderr()
    .split('\n')
    .find((l) => STILL_OPEN.test(l));
  if (line === undefined) throw new Error(`no "still open" line; stderr:\n${p.stderr().slice(-2000)}`);
  return JSON.parse(line) as Record<string, unknown>;
}

/** In time, and either a clean stop (0) or a give-up that says what was open (1). */
function expectStoppedInTime(
  p: BallastProcess,
  result: { code: number | string; ms: number },
  deadlineMs: number,
) {
  expect(result.ms).toBeLessThan(deadlineMs + SLACK_MS);
  expect([0, 1]).toContain(result.code);
  if (result.code === 1) expect(stillOpenLine(p)).toMatchObject({ level: 50, timeoutMs: deadlineMs });
  else expect(p.stderr()).not.toMatch(STILL_OPEN);
}

describe('shutdown deadline (BALLAST_SHUTDOWN_TIMEOUT)', () => {
  describe('Redis down, then SIGTERM', () => {
    it('an idle worker exits 0 within the deadline', { timeout: 60_000 }, async () => {
      const redis = await privateRedis();
      const p = role(['worker'], redis.url, testPrefix('sd-worker'));
      await p.waitFor(/worker started/);
      await killRedis(redis, p);
      const result = await terminate(p);
      expect(result.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      // No job was running: nothing to wait for, nothing left open.
      expect(result.code).toBe(0);
      expect(p.stderr()).toMatch(/worker stopped/);
      expect(p.stderr()).not.toMatch(STILL_OPEN);
    });

    it('ballast start --no-api exits within the deadline', { timeout: 60_000 }, async () => {
      const redis = await privateRedis();
      const p = role(['start', '--no-api'], redis.url, testPrefix('sd-start'));
      await p.waitFor(/ballast started/);
      await killRedis(redis, p);
      expectStoppedInTime(p, await terminate(p), DEADLINE_MS);
    });

    it('ballast scheduler exits within the deadline', { timeout: 60_000 }, async () => {
      const redis = await privateRedis();
      const p = role(['scheduler'], redis.url, testPrefix('sd-scheduler'));
      await p.waitFor(/heartbeat started/);
      await killRedis(redis, p);
      expectStoppedInTime(p, await terminate(p), DEADLINE_MS);
    });

    it('ballast api exits within the deadline', { timeout: 60_000 }, async () => {
      const redis = await privateRedis();
      const p = role(['api', '--insecure-no-auth'], redis.url, testPrefix('sd-api'));
      await p.waitFor(/api listening/);
      await killRedis(redis, p);
      expectStoppedInTime(p, await terminate(p), DEADLINE_MS);
    });

    it('a worker whose job cannot commit exits 1 at the deadline naming the job; another worker completes it once Redis is back', {
      timeout: 90_000,
    }, async () => {
      // appendonly: the job and the portfolio survive the restart.
      const redis = await privateRedis({ appendonly: true });
      const prefix = testPrefix('sd-down-job');
      const own = testApp(prefix, { env: { REDIS_URL: redis.url } });
      // Refused reconnects while its Redis is down are expected.
      own.redis.on('error', () => {});
      try {
        holding = true;
        const [portfolio] = await seedPortfolios(own, 'd', 1, () => ['d-a', 'd-b']);
        const first = role(['worker'], redis.url, prefix);
        await first.waitFor(/worker started/);
        const runId = 'manual-redis-down';
        const jobId = recalculateJobId(runId, portfolio!.id);
        await own.queue.add({
          name: 'recalculate',
          data: { portfolioId: portfolio!.id, runId, trigger: 'manual' },
          jobId,
          priority: 0,
        });
        await untilHeld();
        // A clean stop (SIGTERM): the append-only file has every write.
        await killRedis(redis, first, 'SIGTERM');
        // Its metrics arrive while Redis is down: the job waits to commit.
        release();
        const result = await terminate(first);
        expect(result.code).toBe(1);
        expect(result.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
        expect(stillOpenLine(first)).toMatchObject({
          stillOpen: expect.arrayContaining(['worker']),
          activeJobs: [expect.objectContaining({ jobId, runId, portfolioId: portfolio!.id })],
        });

        await redis.restart();
        const second = role(['worker'], redis.url, prefix);
        await second.waitFor(/worker started/);
        await readReportsUntil(own.redis, own.keys.reports, (r) => r.some((x) => x.run_id === runId));
        expect(JSON.parse((await own.reports.runReport(portfolio!.id, runId))!)).toMatchObject({
          applied: true,
        });
        expect(await terminate(second)).toMatchObject({ code: 0 });
      } finally {
        await own.close();
      }
    });
  });

  describe('Redis coming back during the shutdown', () => {
    for (const args of [['worker'], ['start', '--no-api']]) {
      it(`ballast ${args.join(' ')} still exits within the deadline`, { timeout: 60_000 }, async () => {
        const redis = await privateRedis();
        const p = role(args, redis.url, testPrefix('sd-back'));
        await p.waitFor(/(worker|ballast) started/);
        await killRedis(redis, p);
        const signalledAt = performance.now();
        p.child.kill('SIGTERM');
        await p.waitFor(/shutting down/);
        // Same port (and dir): the role's connections find it again.
        await redis.restart();
        const code = await p.exited;
        expectStoppedInTime(p, { code, ms: performance.now() - signalledAt }, DEADLINE_MS);
      });
    }

    it('an active job finishes once Redis is back, and the worker exits 0', { timeout: 90_000 }, async () => {
      // appendonly: the job, its lock and the portfolio survive the restart.
      const redis = await privateRedis({ appendonly: true });
      const prefix = testPrefix('sd-restart');
      const own = testApp(prefix, { env: { REDIS_URL: redis.url } });
      // Refused reconnects while its Redis is down are expected.
      own.redis.on('error', () => {});
      try {
        holding = true;
        const [portfolio] = await seedPortfolios(own, 'r', 1, () => ['r-a', 'r-b']);
        const deadlineMs = 15_000;
        const p = role(['worker'], redis.url, prefix, { BALLAST_SHUTDOWN_TIMEOUT: '15s' });
        await p.waitFor(/worker started/);
        const runId = 'manual-redis-back';
        await own.queue.add({
          name: 'recalculate',
          data: { portfolioId: portfolio!.id, runId, trigger: 'manual' },
          jobId: recalculateJobId(runId, portfolio!.id),
          priority: 0,
        });
        await untilHeld();
        // A clean stop (SIGTERM): the append-only file has every write.
        await killRedis(redis, p, 'SIGTERM');
        const signalledAt = performance.now();
        p.child.kill('SIGTERM');
        await p.waitFor(/shutting down/);
        await redis.restart();
        release();
        const code = await p.exited;
        expect(performance.now() - signalledAt).toBeLessThan(deadlineMs + SLACK_MS);
        expect(code).toBe(0);
        expect(p.stderr()).not.toMatch(STILL_OPEN);
        expect(JSON.parse((await own.reports.runReport(portfolio!.id, runId))!)).toMatchObject({
          run_id: runId,
          applied: true,
        });
      } finally {
        await own.close();
      }
    });
  });

  describe('active jobs', () => {
    it('a job shorter than the deadline completes and the worker exits 0', { timeout: 60_000 }, async () => {
      holding = true;
      const [portfolio] = await seedPortfolios(app, 'in', 1, () => ['in-a', 'in-b']);
      const p = role(['worker'], redisUrl(), fixture.prefix, { BALLAST_SHUTDOWN_TIMEOUT: '8s' });
      await p.waitFor(/worker started/);
      const runId = 'manual-within-deadline';
      await app.queue.add({
        name: 'recalculate',
        data: { portfolioId: portfolio!.id, runId, trigger: 'manual' },
        jobId: recalculateJobId(runId, portfolio!.id),
        priority: 0,
      });
      await untilHeld();
      const signalledAt = performance.now();
      p.child.kill('SIGTERM');
      await p.waitFor(/shutting down/);
      // Its metrics arrive after the signal: the job finishes during the shutdown.
      release();
      expect(await p.exited).toBe(0);
      expect(performance.now() - signalledAt).toBeLessThan(8000 + SLACK_MS);
      const job = await app.queue.getJob(recalculateJobId(runId, portfolio!.id));
      expect(job).toMatchObject({ state: 'completed', result: { applied: true } });
    });

    it('a job longer than the deadline: exit 1 naming it, and another worker takes it over', {
      timeout: 90_000,
    }, async () => {
      holding = true;
      const [portfolio] = await seedPortfolios(app, 'past', 1, () => ['past-a', 'past-b']);
      const first = role(['worker'], redisUrl(), fixture.prefix);
      await first.waitFor(/worker started/);
      const runId = 'manual-past-deadline';
      const jobId = recalculateJobId(runId, portfolio!.id);
      await app.queue.add({
        name: 'recalculate',
        data: { portfolioId: portfolio!.id, runId, trigger: 'manual' },
        jobId,
        priority: 0,
      });
      await untilHeld();
      const result = await terminate(first);
      expect(result.code).toBe(1);
      expect(result.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
      expect(result.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      expect(stillOpenLine(first)).toMatchObject({
        level: 50,
        timeoutMs: DEADLINE_MS,
        stillOpen: expect.arrayContaining(['worker']),
        activeJobs: [
          expect.objectContaining({ jobId, job: 'recalculate', runId, portfolioId: portfolio!.id }),
        ],
      });

      release();
      const second = role(['worker'], redisUrl(), fixture.prefix);
      await second.waitFor(/worker started/);
      await readReportsUntil(fixture.client, app.keys.reports, (r) => r.some((x) => x.run_id === runId));
      expect(JSON.parse((await app.reports.runReport(portfolio!.id, runId))!)).toMatchObject({
        applied: true,
      });
      expect(await terminate(second)).toMatchObject({ code: 0 });
    });
  });
});
