/**
 * `ballast runs list|show|cancel` and `ballast jobs list|cancel`, against a real Redis and an
 * in-process worker: what an operator reads the morning after, and taking back what has not run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { runCli } from '../../src/cli/run-cli.js';
import { addBusiness, createPortfolio, updatePortfolio } from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import type { WireJob } from '../../src/services/jobs.js';
import type { WireRun, WireRunDetail } from '../../src/services/runs.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { cliContext, runIn } from './in-process.js';

const fixture = useRedisPrefix('cli-runs');
const source = new MemoryMetricsSource().set(wire('r1', 100, 10), wire('r2', 300, 10));
let app: App;
let worker: RunningWorker | undefined;

/** The in-process CLI on this file's prefix (its default queue, `ballast`, is the app's). */
const run = (argv: readonly string[]) => runIn(fixture.prefix, argv);

beforeAll(async () => {
  // One job at a time, so that a gated metrics fetch holds the rest of a run in the queue.
  app = testApp(fixture.prefix, {
    metricsSource: source,
    env: { BALLAST_QUEUE: 'ballast', BALLAST_CONCURRENCY: '1', BALLAST_GUARDS: 'off' },
  });
  for (const id of ['ra', 'rb', 'rc', 'rd']) {
    let p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue' }, '2026-03-01T00:00:00Z');
    p = addBusiness(addBusiness(p, 'r1', {}, p.createdAt), 'r2', {}, p.createdAt);
    await app.store.create(p, TEST_EDIT);
  }
  let archived = createPortfolio({ id: 're', name: 're', ownerId: 'o' }, '2026-03-01T00:00:00Z');
  archived = updatePortfolio(
    addBusiness(archived, 'r1', {}, archived.createdAt),
    { status: 'archived' },
    archived.createdAt,
  );
  await app.store.create(archived, TEST_EDIT);
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

describe('without a worker', () => {
  let runId: string;

  it('enqueue nightly queues a run that runs list shows as queued, and jobs list shows its job', async () => {
    const queued = await run(['enqueue', 'nightly', '--json']);
    expect(queued.code).toBe(0);
    runId = JSON.parse(queued.stdout).run_id;
    const list = await run(['runs', 'list', '--json']);
    expect(list.code).toBe(0);
    const runs = JSON.parse(list.stdout) as WireRun[];
    expect(runs[0]).toMatchObject({ run_id: runId, state: 'queued', trigger: 'manual', total: null });
    expect(runs[0]!.actor).toMatch(/^cli:/);
    const jobs = JSON.parse(
      (await run(['jobs', 'list', '--state', 'waiting', '--json'])).stdout,
    ) as WireJob[];
    expect(jobs.map((j) => j.id)).toContain(`nightly.${runId}`);
    expect((await run(['runs', 'list'])).stdout).toMatch(new RegExp(`${runId}\\s+manual\\s.*queued`));
  });

  it('--wait prints the job first and warns when no worker has a heartbeat under the prefix', async () => {
    let warned: () => void = () => {};
    const warning = new Promise<void>((resolve) => {
      warned = resolve;
    });
    const { ctx, output } = cliContext(fixture.prefix, {
      noWorkerWarnMs: 200,
      onErr: (text) => {
        if (/no worker is running/.test(text)) warned();
      },
    });
    // Waits for a worker forever: ended below by cancelling its job.
    const waiting = runCli(['enqueue', 'recalculate', '--portfolio', 'ra', '--wait'], ctx);
    await warning;
    const { stdout, stderr } = output();
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toMatch(/^queued job manual-\S+\.ra \(run manual-\S+\); waiting for it$/);
    expect(stderr).toMatch(new RegExp(`no worker is running for prefix ${fixture.prefix} on redis://`));
    const jobId = stderr.split(' ')[2]!;
    const cancelled = await run(['jobs', 'cancel', jobId, '--json']);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      job_id: jobId,
      name: 'recalculate',
      cancelled: true,
    });
    expect(await waiting).toBe(1);
    const again = await run(['jobs', 'cancel', jobId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not found/);
  });

  it('runs cancel removes the queued fan-out: the run is cancelled and no portfolio runs', async () => {
    const cancelled = await run(['runs', 'cancel', runId, '--json']);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      run_id: runId,
      fan_out_cancelled: true,
      state: 'cancelled',
    });
    const jobs = JSON.parse((await run(['jobs', 'list', '--json'])).stdout) as WireJob[];
    expect(jobs).toEqual([]);
    const again = await run(['runs', 'cancel', runId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is cancelled: only a queued or running run can be cancelled/);
  });

  it('warns when the prefix holds no Ballast data, naming prefixes that do', async () => {
    const typo = `${fixture.prefix}-typo`;
    const list = await runIn(typo, ['portfolio', 'list']);
    expect(list.code).toBe(0);
    expect(list.stderr).toMatch(
      new RegExp(
        `^warning: prefix ${typo} holds no Ballast data on redis://\\S+; prefixes with Ballast data there: .+ \\(set BALLAST_PREFIX\\)\\n$`,
      ),
    );
    const runs = await runIn(typo, ['runs', 'list']);
    expect(runs.stderr).toMatch(/holds no Ballast data/);
    // The prefix in use has data: no warning, even with an empty list.
    expect((await run(['portfolio', 'list', '--owner', 'nobody'])).stderr).toBe('');
  });

  it('refuses bad input with exit 1 and a message', async () => {
    const badState = await run(['jobs', 'list', '--state', 'sleeping']);
    // Usage errors (a bad option value) exit 2, as every command's do; a refusal exits 1.
    expect(badState.code).toBe(2);
    expect(badState.stderr).toMatch(/unknown state "sleeping": use one of waiting, active, delayed, failed/);
    const unknown = await run(['runs', 'show', 'cron-19990101T000000Z']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/run cron-19990101T000000Z not found/);
    const badOutcome = await run(['runs', 'show', runId, '--outcome', 'exploded']);
    expect(badOutcome.code).toBe(2);
    expect(badOutcome.stderr).toMatch(/unknown outcome "exploded"/);
  });
});

describe('runExists (what schedulers and backfills check before a slot)', () => {
  it('does not count a run that was only recorded as queued: its job was never added', async () => {
    const runId = 'cron-20260101T020000Z';
    await app.reports.recordQueued(
      { runId, trigger: 'cron', slot: '2026-01-01T02:00:00.000Z', actor: 'test', catchUp: false },
      new Date(),
    );
    const { runExists } = await import('../../src/services/runs.js');
    expect(await runExists(app, runId)).toBe(false);
    await app.reports.recordStarted(runId, new Date().toISOString());
    expect(await runExists(app, runId)).toBe(true);
  });
});

describe('with a worker', () => {
  beforeAll(async () => {
    worker = await startWorker(app);
  });

  it('runs show --wait follows a run queued earlier (an interrupted --wait) to its end', async () => {
    const queued = await run(['enqueue', 'nightly']);
    const runId = /queued nightly run (\S+)/.exec(queued.stdout)![1]!;
    const shown = await run(['runs', 'show', runId, '--wait', '--json']);
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout) as WireRunDetail;
    expect(detail).toMatchObject({ run_id: runId, state: 'finished', total: 5, done: 5 });
    expect(detail.counts).toMatchObject({ changed: 4, skipped: 1, failed: 0, held: 0 });
    expect(detail.finished_at).not.toBeNull();
    expect(detail.portfolios.map((p) => [p.portfolio_id, p.outcome])).toEqual([
      ['ra', 'changed'],
      ['rb', 'changed'],
      ['rc', 'changed'],
      ['rd', 'changed'],
      ['re', 'skipped'],
    ]);
    expect(detail.portfolios[4]!.skipped).toMatch(/archived/);
    expect(detail.turnover.reduce((n, b) => n + b.count, 0)).toBe(5);
    expect(shown.stderr).toMatch(new RegExp(`run ${runId}: finished, 5 of 5 done`));

    const text = await run(['runs', 'show', runId]);
    expect(text.stdout).toMatch(/state\s+finished/);
    expect(text.stdout).toMatch(/outcomes\s+4 changed, 1 skipped/);
    expect(text.stdout).toMatch(/re\s+skipped\s+0\s+0\.0%\s+portfolio is archived/);
    const list = JSON.parse((await run(['runs', 'list', '--limit', '1', '--json'])).stdout) as WireRun[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ run_id: runId, state: 'finished', counts: { changed: 4, skipped: 1 } });
  });

  it('runs cancel during a run removes the portfolios not started; the run still ends', async () => {
    // The first portfolio's metrics fetch is held: with one job at a time the rest wait in the queue.
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const inFetch = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    source.beforeAnswer = async () => {
      entered();
      await gate;
    };
    try {
      const queued = await run(['enqueue', 'nightly', '--json']);
      const runId = JSON.parse(queued.stdout).run_id as string;
      await inFetch;
      // The fan-out has ended when its total is recorded (the held job is a portfolio's).
      await expect.poll(async () => (await app.reports.fanOutTotal(runId)) !== null).toBe(true);
      const cancelled = await run(['runs', 'cancel', runId, '--json']);
      expect(cancelled.code).toBe(0);
      const result = JSON.parse(cancelled.stdout);
      expect(result).toMatchObject({ run_id: runId, fan_out_cancelled: false });
      // One portfolio is running (held at its fetch); the archived one may have been skipped before.
      expect(result.cancelled).toBeGreaterThanOrEqual(3);
      release();
      const shown = await run(['runs', 'show', runId, '--wait', '--json']);
      const detail = JSON.parse(shown.stdout) as WireRunDetail;
      expect(detail.state).toBe('finished');
      expect(detail.cancelled_by).toMatch(/^cli:/);
      expect(detail.counts.cancelled).toBe(result.cancelled);
      expect(detail.done).toBe(5);
      // The others ran: unchanged (the run before set their weights), skipped (archived).
      expect(Object.values(detail.counts).reduce((a, b) => a + b, 0)).toBe(5);
      expect(detail.counts.skipped + detail.counts.unchanged + detail.counts.cancelled).toBe(5);
    } finally {
      source.beforeAnswer = undefined;
      release();
    }
  });

  it('a portfolio whose job fails for good is shown failed with its error, and the run ends', async () => {
    let p = createPortfolio({ id: 'rf', name: 'rf', ownerId: 'o' }, '2026-03-01T00:00:00Z');
    p = addBusiness(p, 'rx', {}, p.createdAt);
    await app.store.create(p, TEST_EDIT);
    source.beforeAnswer = async (ids) => {
      if (ids.includes('rx')) throw new Error('metrics service exploded for rx');
    };
    try {
      const queued = await run(['enqueue', 'nightly', '--json']);
      const runId = JSON.parse(queued.stdout).run_id as string;
      const shown = await run(['runs', 'show', runId, '--wait', '--json']);
      const detail = JSON.parse(shown.stdout) as WireRunDetail;
      expect(detail).toMatchObject({ state: 'finished', total: 6, done: 6, counts: { failed: 1 } });
      expect(detail.portfolios[0]).toMatchObject({ portfolio_id: 'rf', outcome: 'failed' });
      expect(detail.portfolios[0]!.error).toMatch(/metrics service exploded for rx/);
      const failed = await run(['runs', 'show', runId, '--outcome', 'failed']);
      expect(failed.stdout).toMatch(/rf\s+failed\s+-\s+-\s+.*exploded/);
      expect(failed.stdout).not.toMatch(/\bra\b/);
    } finally {
      source.beforeAnswer = undefined;
    }
  });
});
