import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/adapters/redis-launcher.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio } from '../../src/domain/index.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { type BallastProcess, spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';
import { readReportsUntil } from '../helpers/streams.js';

const fixture = useRedisPrefix('e2e-start');
let app: App;
let started: BallastProcess | undefined;

beforeAll(async () => {
  app = testApp(fixture.prefix);
  let p = createPortfolio({ id: 'st', name: 'st', ownerId: 'o', strategy: 'equal' }, '2026-11-25T00:00:00Z');
  p = addBusiness(addBusiness(p, 'x1', {}, p.createdAt), 'x2', {}, p.createdAt);
  await app.store.create(p, TEST_EDIT);
});
afterAll(async () => {
  if (started?.child.exitCode === null) started.child.kill('SIGKILL');
  await app?.close();
});

describe('ballast start', () => {
  it('runs worker, scheduler and API in one process, and stops all three on SIGTERM with exit 0', async () => {
    started = spawnBallast(['start', '--insecure-no-auth'], {
      REDIS_URL: redisUrl(),
      BALLAST_PREFIX: fixture.prefix,
      BALLAST_QUEUE: 'q',
      BALLAST_API_PORT: '0',
      BALLAST_CATCH_UP: 'false',
      BALLAST_LOG_LEVEL: 'info',
    });
    const line = await started.waitFor(/ballast started/);
    const url = (JSON.parse(line) as { api: string }).api;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const queued = await fetch(`${url}/runs/nightly`, { method: 'POST' });
    expect(queued.status).toBe(202);
    const { run_id: runId } = (await queued.json()) as { run_id: string };
    const reports = await readReportsUntil(fixture.client, app.keys.reports, (r) =>
      r.some((x) => x.run_id === runId),
    );
    expect(reports.find((x) => x.run_id === runId)).toMatchObject({ portfolio_id: 'st', applied: true });

    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(started.stderr()).toMatch(/ballast stopped/);
  });

  it('refuses to start the API without a token unless told to', async () => {
    const refused = spawnBallast(['start'], { REDIS_URL: redisUrl(), BALLAST_PREFIX: fixture.prefix });
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/BALLAST_API_TOKEN is not set/);
  });

  it('stops on SIGTERM with exit 0 while its start still waits for an unreachable Redis', async () => {
    const waiting = spawnBallast(['start', '--no-api'], {
      REDIS_URL: `redis://127.0.0.1:${await findFreePort()}`,
      BALLAST_PREFIX: fixture.prefix,
      BALLAST_LOG_LEVEL: 'info',
    });
    await waiting.waitFor(/redis connection error/);
    waiting.child.kill('SIGTERM');
    expect(await waiting.exited).toBe(0);
    expect(waiting.stderr()).toMatch(/stopping before the start finished/);
  });
});
