import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BallastProcess, runBallast, spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';

/**
 * The operator's whole path with real processes: a `ballast worker`, portfolios and metrics made
 * through the CLI, `ballast enqueue nightly --wait`, and the reports read back with a plain
 * ioredis client from the documented keys.
 */
const fixture = useRedisPrefix('e2e-cli');
let worker: BallastProcess;
let startedLine = '';
const env = () => ({
  REDIS_URL: redisUrl(),
  BALLAST_PREFIX: fixture.prefix,
  BALLAST_QUEUE: 'q',
  BALLAST_METRICS_SOURCE: 'redis',
  BALLAST_LOG_LEVEL: 'info',
});

async function ballast(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runBallast(args, env());
  if (code !== 0) throw new Error(`ballast ${args.join(' ')} exited ${code}: ${stderr}`);
  return stdout;
}

beforeAll(async () => {
  // The worker runs with the Docker image's NODE_OPTIONS (docs/operations.md, "Worker memory").
  worker = spawnBallast(['worker'], { ...env(), NODE_OPTIONS: '--max-old-space-size=1024' });
  startedLine = await worker.waitFor(/worker started/);
});
afterAll(async () => {
  if (worker?.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
});

describe('operator flow through the CLI and a worker process', () => {
  it('logs the heap limit that NODE_OPTIONS set', () => {
    const started = JSON.parse(startedLine) as { heapLimitMb: number; concurrency: number };
    // V8's limit is the old space plus the young generation's share, which is larger on Node 24
    // (1216 MB there); without the option it would be about 4 GB on these machines.
    expect(started.heapLimitMb).toBeGreaterThanOrEqual(1024);
    expect(started.heapLimitMb).toBeLessThan(1300);
  });

  it('creates, imports, runs the nightly pass and publishes reports to the documented keys', async () => {
    await ballast(
      'portfolio',
      'create',
      '--id',
      'flow-rev',
      '--name',
      'Flow',
      '--owner',
      'ops',
      '--strategy',
      'revenue',
      '--drift-threshold',
      '0',
    );
    for (const b of ['fa', 'fb', 'fc']) await ballast('portfolio', 'add-business', 'flow-rev', b);
    await ballast('portfolio', 'set-allocation', 'flow-rev', 'fc', '--weight', '0.2', '--locked', 'true');
    await ballast('portfolio', 'create', '--id', 'flow-eq', '--name', 'Flow eq', '--owner', 'ops');
    for (const b of ['fa', 'fb']) await ballast('portfolio', 'add-business', 'flow-eq', b);
    await ballast('portfolio', 'create', '--id', 'flow-paused', '--name', 'Paused', '--owner', 'ops');
    await ballast('portfolio', 'add-business', 'flow-paused', 'fa');
    await ballast('portfolio', 'update', 'flow-paused', '--status', 'paused');

    const dir = await mkdtemp(join(tmpdir(), 'ballast-e2e-'));
    const metricsFile = join(dir, 'metrics.ndjson');
    await writeFile(
      metricsFile,
      [
        { business_id: 'fa', revenue: 300000, expenses: 200000, growth_rate: 10, health_score: 80 },
        { business_id: 'fb', revenue: 100000, expenses: 90000, growth_rate: 2, health_score: 60 },
        { business_id: 'fc', revenue: 50000, expenses: 10000, growth_rate: 30, health_score: 90 },
      ]
        .map((m) => JSON.stringify(m))
        .join('\n'),
    );
    expect(await ballast('metrics', 'import', metricsFile)).toMatch(/imported 3 businesses/);

    const { code, stdout, stderr } = await runBallast(['enqueue', 'nightly', '--wait', '--json'], env());
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(0);
    const run = JSON.parse(stdout) as { run_id: string; total: number; completed: number; failed: number };
    expect(run).toMatchObject({ total: 3, completed: 3, failed: 0 });
    // Not a terminal: plain progress lines.
    expect(stderr).toMatch(/progress: 3\/3 portfolios, 0 failed/);

    // A consumer with nothing but ioredis and the documented key names.
    const redis = fixture.client;
    const latest = JSON.parse((await redis.get(`${fixture.prefix}:{flow-rev}:report:latest`))!);
    expect(latest).toMatchObject({
      portfolio_id: 'flow-rev',
      run_id: run.run_id,
      applied: true,
      strategy: 'revenue',
    });
    const weights = Object.fromEntries(
      (latest.actions as { business_id: string; recommended_weight: number; action: string }[]).map((a) => [
        a.business_id,
        a,
      ]),
    );
    expect(weights.fc).toMatchObject({ action: 'locked', recommended_weight: 0.2 });
    // Revenue 300k : 100k over the 80% left by the lock.
    expect(weights.fa!.recommended_weight).toBeCloseTo(0.6, 12);
    expect(weights.fb!.recommended_weight).toBeCloseTo(0.2, 12);

    const shown = JSON.parse(await ballast('portfolio', 'show', 'flow-rev', '--json'));
    expect(shown.allocations.fa.weight).toBeCloseTo(0.6, 12);
    expect(shown.allocations.fc).toMatchObject({ weight: 0.2, locked: true });

    const global = await redis.xrange(`${fixture.prefix}:reports`, '-', '+');
    const ofRun = global.map(([, f]) => JSON.parse(f[1]!)).filter((r) => r.run_id === run.run_id);
    expect(ofRun.map((r) => r.portfolio_id).sort()).toEqual(['flow-eq', 'flow-paused', 'flow-rev']);
    expect(ofRun.find((r) => r.portfolio_id === 'flow-paused').skipped).toEqual({
      reason: 'portfolio is paused',
    });
    expect(await redis.xlen(`${fixture.prefix}:{flow-eq}:reports`)).toBe(1);

    // The worker logs carry job, run and portfolio ids.
    const line = worker
      .stderr()
      .split('\n')
      .find((l) => l.includes('run committed') && l.includes('flow-rev'));
    expect(JSON.parse(line!)).toMatchObject({
      runId: run.run_id,
      portfolioId: 'flow-rev',
      jobId: `${run.run_id}.flow-rev`,
    });
  });
});
