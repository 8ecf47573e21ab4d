/**
 * The whole product on a Redis Cluster and on one Redis, the same way: `ballast start` (worker,
 * scheduler and HTTP API in one process), the CLI, the API's portfolios, schedule, runs and
 * revert. Both give the same weights.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BallastProcess, runBallast, spawnBallast } from '../helpers/process.js';
import { testPrefix } from '../helpers/redis.js';
import { TARGETS } from '../helpers/targets.js';

const TOKEN = 'cluster-product-token-0123456789';
const BUSINESSES = ['pa', 'pb', 'pc', 'pd'];
const PORTFOLIOS = ['cp1', 'cp2', 'cp3'];
/** What each target ended with: portfolio id -> weights, after the night and after the revert. */
const results = new Map<string, { night: unknown; reverted: unknown }>();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ballast-cluster-product-'));
  const metrics = BUSINESSES.map((id, i) => ({
    business_id: id,
    revenue: 1000 + i * 1500,
    expenses: 200 + i * 100,
    growth_rate: 5 + i,
    health_score: 70,
  }));
  await writeFile(join(dir, 'metrics.json'), JSON.stringify(metrics));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(TARGETS)('on $name', (target) => {
  const prefix = testPrefix('cluster-product');
  const env = (extra: Record<string, string> = {}) => ({
    ...target.env(),
    BALLAST_PREFIX: prefix,
    BALLAST_QUEUE: 'q',
    BALLAST_LOG_LEVEL: 'info',
    BALLAST_METRICS_SOURCE: 'redis',
    BALLAST_API_TOKEN: TOKEN,
    BALLAST_API_PORT: '0',
    ...extra,
  });
  let start: BallastProcess | undefined;
  let url = '';

  async function call(method: string, path: string, body?: unknown) {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, text, json: text ? JSON.parse(text) : null };
  }

  async function weights(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const id of PORTFOLIOS) {
      const r = await call('GET', `/portfolios/${id}`);
      expect(r.status, r.text).toBe(200);
      out[id] = r.json.allocations;
    }
    return out;
  }

  afterAll(async () => {
    if (start && start.child.exitCode === null) start.child.kill('SIGKILL');
  });

  it('serves portfolios, a triggered night, the schedule and a revert', async () => {
    const imported = await runBallast(['metrics', 'import', join(dir, 'metrics.json')], env());
    expect(imported.code, imported.stderr).toBe(0);
    start = spawnBallast(['start'], env());
    const started = await start.waitFor(/"msg":"ballast started"/, 30_000);
    url = (JSON.parse(started) as { api: string }).api;

    for (const [i, id] of PORTFOLIOS.entries()) {
      const created = await call('POST', '/portfolios', {
        id,
        name: `Cluster ${id}`,
        owner_id: `owner${i % 2}`,
        strategy: ['revenue', 'performance', 'growth'][i],
        drift_threshold: 0,
      });
      expect(created.status, created.text).toBe(200);
      for (const b of BUSINESSES) {
        const added = await call('POST', `/portfolios/${id}/businesses`, { business_id: b });
        expect(added.status, added.text).toBe(200);
      }
    }
    const before = await weights();
    const owned = await call('GET', '/portfolios/owner/owner0');
    expect(owned.json.portfolios.map((p: { id: string }) => p.id).sort()).toEqual(['cp1', 'cp3']);

    // The scheduler of `start` reports itself under the prefix.
    await start.waitFor(/"msg":"scheduler started"/, 30_000);
    const triggered = await call('POST', '/schedule/trigger');
    expect(triggered.status, triggered.text).toBe(202);
    const runId = triggered.json.run_id as string;
    const followed = await runBallast(['runs', 'show', runId, '--wait', '--json'], env());
    expect(followed.code, followed.stderr).toBe(0);
    expect(JSON.parse(followed.stdout)).toMatchObject({ run_id: runId, state: 'finished', total: 3 });

    const run = await call('GET', `/runs/${runId}`);
    expect(run.status, run.text).toBe(200);
    expect(run.json).toMatchObject({ state: 'finished', total: 3 });
    const listed = await call('GET', '/runs');
    expect(listed.json.runs.map((r: { run_id: string }) => r.run_id)).toContain(runId);
    const schedule = await call('GET', '/schedule');
    expect(schedule.status, schedule.text).toBe(200);
    expect(schedule.json.schedulers).toHaveLength(1);
    const reports = await call('GET', '/portfolios/cp1/reports');
    expect(reports.json.reports[0]).toMatchObject({ run_id: runId, applied: true });

    const night = await weights();
    expect(night).not.toEqual(before);
    const revert = await call('POST', `/runs/${runId}/revert`);
    expect(revert.status, revert.text).toBe(200);
    expect(revert.json.reverted.sort()).toEqual(PORTFOLIOS);
    const reverted = await weights();
    expect(reverted).toEqual(before);
    const audit = await runBallast(['audit', '--json', '--limit', '3'], env());
    expect(JSON.parse(audit.stdout).entries[0]).toMatchObject({ cause: { type: 'revert', run_id: runId } });
    results.set(target.name, { night, reverted });

    start.child.kill('SIGTERM');
    expect(await start.exited).toBe(0);
  }, 90_000);
});

describe('one Redis and a Redis Cluster', () => {
  it('give the same weights', () => {
    expect(results.size).toBe(2);
    const [one, cluster] = [...results.values()];
    expect(cluster).toEqual(one);
  });
});
