/**
 * Run visibility with real processes: `ballast enqueue nightly --wait` names its run before
 * waiting; interrupted (Ctrl-C) with no worker up, the run stays queued and `runs list` shows it;
 * once a `ballast worker` starts, `runs show RUN --wait` follows it to its end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireRun, WireRunDetail } from '../../src/services/runs.js';
import { type BallastProcess, runBallast, spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('e2e-runs');
let worker: BallastProcess | undefined;
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
  await ballast('metrics', 'import', 'examples/metrics.json');
  await ballast('portfolio', 'import', 'examples/portfolios/equal.json');
  await ballast('portfolio', 'import', 'examples/portfolios/revenue.json');
});
afterAll(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
});

describe('a run followed again after an interrupted --wait', () => {
  let runId = '';

  it('enqueue nightly --wait names the run first; Ctrl-C leaves it queued, as runs list shows', async () => {
    const waiting = spawnBallast(['enqueue', 'nightly', '--wait'], env());
    const line = await waiting.waitFor(
      /queued nightly run \S+ \(job \S+\); follow it with: ballast runs show/,
    );
    runId = /queued nightly run (\S+)/.exec(line)![1]!;
    waiting.child.kill('SIGINT');
    // Ctrl-C's default: the process ends on the signal, without a stack trace.
    expect(await waiting.exited).toBe('SIGINT');
    expect(waiting.stderr()).not.toMatch(/\n\s+at /);
    const runs = JSON.parse(await ballast('runs', 'list', '--json')) as WireRun[];
    expect(runs.map((r) => [r.run_id, r.state, r.trigger])).toEqual([[runId, 'queued', 'manual']]);
    expect(await ballast('jobs', 'list', '--state', 'waiting')).toContain(`nightly.${runId}`);
  });

  it('runs show --wait follows it to its end once a worker is up', async () => {
    worker = spawnBallast(['worker'], env());
    await worker.waitFor(/worker started/);
    const detail = JSON.parse(await ballast('runs', 'show', runId, '--wait', '--json')) as WireRunDetail;
    expect(detail).toMatchObject({ run_id: runId, state: 'finished', total: 2, done: 2 });
    expect(detail.counts.failed).toBe(0);
    expect(detail.portfolios).toHaveLength(2);
    const text = await ballast('runs', 'list');
    expect(text).toMatch(new RegExp(`${runId}\\s+manual\\s.*finished\\s+2/2`));
  });
});
