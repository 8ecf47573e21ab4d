import type { ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateRedis, startPrivateRedis } from '../../src/adapters/redis-launcher.js';
import type { App } from '../../src/app.js';
import { testApp } from '../helpers/app.js';
import { type BallastProcess, spawnBallast } from '../helpers/process.js';
import { testPrefix } from '../helpers/redis.js';
import { readReportsUntil } from '../helpers/streams.js';
import { type MetricsServer, sendJson, startMetricsServer, wireMetrics } from '../metrics/metrics-server.js';
import {
  expectAppliedOnce,
  figures,
  globalRunReports,
  killAll,
  nextEvent,
  seedPortfolios,
  startNightly,
  workerEnv,
} from './support.js';

// A Redis of its own (appendonly yes): this file stops and starts it, so nothing else may use it.
const prefix = testPrefix('faults-restart');
const COUNT = 60;
/** Requests answered before the restart: 10 portfolios' worth (two businesses each). */
const ANSWERED_BEFORE = 20;
const ANSWER_DELAY_MS = 20;
const started: BallastProcess[] = [];
const requestHeld = nextEvent();
/**
 * 'before': the first ANSWERED_BEFORE requests are answered after a short delay, the rest are
 * held, so the run cannot finish before Redis goes down; 'after' (Redis is back): held until
 * both workers have asked.
 */
let phase: 'before' | 'after' = 'before';
let answeredBefore = 0;
const heldBefore: { id: string; res: ServerResponse }[] = [];
const askedAfterRestart = new Set<string>();
const held: { id: string; res: ServerResponse }[] = [];
let redis: PrivateRedis;
let client: Redis;
let server: MetricsServer;
let app: App;

function answer(id: string, res: ServerResponse): void {
  sendJson(res, wireMetrics(id, figures(id)));
}

beforeAll(async () => {
  redis = await startPrivateRedis({ appendonly: true });
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  // It reconnects by itself after the restart; the refused connections meanwhile are expected.
  client.on('error', () => {});
  // Each worker gets its own base URL (/a or /b), so that the server knows who asks.
  server = await startMetricsServer(async (req, res) => {
    const [, worker, id] = /^\/(a|b)\/businesses\/([^/]+)\/metrics$/.exec(req.url) ?? [];
    if (!worker || !id) return sendJson(res, { error: 'not found' }, 404);
    if (phase === 'before') {
      if (answeredBefore < ANSWERED_BEFORE) {
        answeredBefore += 1;
        await new Promise((resolve) => setTimeout(resolve, ANSWER_DELAY_MS));
        return answer(id, res);
      }
      heldBefore.push({ id, res });
      return requestHeld.signal();
    }
    askedAfterRestart.add(worker);
    held.push({ id, res });
    if (askedAfterRestart.size === 2) for (const h of held.splice(0)) answer(h.id, h.res);
  });
  app = testApp(prefix, { env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  for (const h of [...heldBefore.splice(0), ...held.splice(0)]) answer(h.id, h.res);
  killAll(started);
  await app?.close();
  client?.disconnect();
  await server?.close();
  await redis?.stop();
});

function worker(name: 'a' | 'b'): BallastProcess {
  const p = spawnBallast(
    ['worker'],
    workerEnv(redis.url, prefix, {
      BALLAST_CONCURRENCY: '3',
      BALLAST_METRICS_SOURCE: 'http',
      BALLAST_METRICS_URL: `${server.url}/${name}`,
      // A job whose lock lapsed while Redis was down is taken over quickly.
      BALLAST_LOCK_DURATION_MS: '2000',
      BALLAST_STALLED_INTERVAL_MS: '1000',
    }),
  );
  started.push(p);
  return p;
}

describe('Redis restarted in the middle of a nightly run (appendonly yes)', () => {
  it('the workers reconnect and finish the run: nothing lost, nothing applied twice', async () => {
    const seeded = await seedPortfolios(app, 'r', COUNT, (i) => [`r${i}a`, `r${i}b`]);
    const workers = [worker('a'), worker('b')];
    await Promise.all(workers.map((w) => w.waitFor(/worker started/)));
    const heldOne = requestHeld.wait();
    const run = await startNightly(app, 'cron-20261127T020000Z');
    try {
      await readReportsUntil(
        client,
        app.keys.reports,
        (r) => r.filter((x) => x.run_id === run.runId).length >= 5,
      );
      // Restart while jobs are waiting for their metrics: the server holds every request past
      // the first ANSWERED_BEFORE, so the run is still going.
      await heldOne;
      const before = new Set((await globalRunReports(client, app, run.runId)).map((r) => r.portfolio_id));
      expect(before.size).toBeLessThan(COUNT);
      await redis.restart();
      phase = 'after';
      // The jobs that were waiting when Redis went down get their answers now, and must commit
      // through the reconnected client (or be taken over if their lock lapsed).
      for (const h of heldBefore.splice(0)) answer(h.id, h.res);

      const progress = await run.done;
      expect(progress).toMatchObject({ total: COUNT, completed: COUNT, failed: 0 });
      // Both workers took jobs after the restart (the server held answers until each had asked).
      expect([...askedAfterRestart].sort()).toEqual(['a', 'b']);
      await expectAppliedOnce(client, app, seeded, run.runId);
      expect(await app.queue.counts()).toMatchObject({ active: 0, waiting: 0, prioritized: 0, failed: 0 });

      for (const w of workers) {
        w.child.kill('SIGTERM');
        expect(await w.exited).toBe(0);
      }
    } finally {
      await run.close();
    }
  }, 45_000);
});
