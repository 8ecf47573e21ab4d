import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { enqueueNightly } from '../../src/cli/actions/enqueue.js';
import type { CliContext } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/run-cli.js';
import { addBusiness, createPortfolio, updatePortfolio } from '../../src/domain/index.js';
import { tallyRun } from '../../src/runtime/follow-run.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { cliContext } from './in-process.js';

const fixture = useRedisPrefix('cli-enqueue');
let app: App;
let worker: RunningWorker;

beforeAll(async () => {
  const source = new MemoryMetricsSource().set(wire('e1', 100, 10), wire('e2', 300, 10));
  app = testApp(fixture.prefix, { metricsSource: source, env: { BALLAST_QUEUE: 'ballast' } });
  for (const id of ['ea', 'eb']) {
    let p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue' }, '2026-03-01T00:00:00Z');
    p = addBusiness(addBusiness(p, 'e1', {}, p.createdAt), 'e2', {}, p.createdAt);
    await app.store.create(p, TEST_EDIT);
  }
  let archived = createPortfolio({ id: 'ec', name: 'ec', ownerId: 'o' }, '2026-03-01T00:00:00Z');
  archived = updatePortfolio(
    addBusiness(archived, 'e1', {}, archived.createdAt),
    { status: 'archived' },
    archived.createdAt,
  );
  await app.store.create(archived, TEST_EDIT);
  worker = await startWorker(app);
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

function terminal(): { ctx: CliContext; output: () => { stdout: string; stderr: string } } {
  const { ctx, output } = cliContext(fixture.prefix);
  // A clock that moves, so that the elapsed time on the bar changes.
  let tick = 0;
  return {
    ctx: { ...ctx, interactive: true, now: () => new Date(Date.UTC(2026, 2, 1, 12, 0, tick++)) },
    output,
  };
}

describe('ballast enqueue', () => {
  it('nightly --wait draws a progress bar on a terminal and prints one line per portfolio', async () => {
    const { ctx, output } = terminal();
    const code = await runCli(['enqueue', 'nightly', '--wait'], ctx);
    const { stdout, stderr } = output();
    expect(stderr).not.toMatch(/ballast: /);
    expect(code).toBe(0);
    expect(stderr).toMatch(/\r\[#{30}\] 3\/3 portfolios, 0 failed, [\d.]+s\n$/);
    expect(stdout).toMatch(/3 of 3 portfolios done, 0 failed/);
    expect(stdout).toMatch(/ea\s+revenue\s+applied/);
    expect(stdout).toMatch(/ec\s+equal\s+skipped \(portfolio is archived\)/);
  });

  it('recalculate --dry-run --wait prints the report and applies nothing', async () => {
    const before = await app.store.require('ea');
    const { ctx, output } = cliContext(fixture.prefix);
    const code = await runCli(
      ['enqueue', 'recalculate', '--portfolio', 'ea', '--dry-run', '--wait', '--json'],
      ctx,
    );
    expect(code).toBe(0);
    const report = JSON.parse(output().stdout);
    expect(report).toMatchObject({ portfolio_id: 'ea', dry_run: true, applied: false });
    expect((await app.store.require('ea')).version).toBe(before.version);
  });

  it('refuses an archived or unknown portfolio before queueing anything', async () => {
    const archived = cliContext(fixture.prefix);
    expect(await runCli(['enqueue', 'recalculate', '--portfolio', 'ec'], archived.ctx)).toBe(1);
    expect(archived.output().stderr).toMatch(/archived/);
    const unknown = cliContext(fixture.prefix);
    expect(await runCli(['enqueue', 'recalculate', '--portfolio', 'nope'], unknown.ctx)).toBe(1);
    expect(unknown.output().stderr).toMatch(/portfolio nope not found/);
    const bad = cliContext(fixture.prefix);
    expect(await runCli(['enqueue', 'recalculate', '--portfolio', 'a:b'], bad.ctx)).toBe(2);
  });
});

describe('ballast enqueue nightly with an index entry whose portfolio is gone', () => {
  // What the two-step create of earlier versions left behind when it crashed in between.
  const dangle = (id: string) => fixture.client.zadd(app.keys.portfolioIndex, 0, id);

  it('refuses an operator run of it, and the nightly run completes, skipping it and pruning the entry', async () => {
    await dangle('eghost');
    const refused = cliContext(fixture.prefix);
    expect(await runCli(['enqueue', 'recalculate', '--portfolio', 'eghost', '--wait'], refused.ctx)).toBe(1);
    expect(refused.output().stderr).toMatch(/^ballast: portfolio eghost not found\n$/);

    const { ctx, output } = cliContext(fixture.prefix);
    const code = await runCli(['enqueue', 'nightly', '--wait'], ctx);
    const { stdout, stderr } = output();
    expect(stderr).not.toMatch(/ballast: /);
    expect(code).toBe(0);
    expect(stdout).toMatch(/4 of 4 portfolios done, 0 failed/);
    expect(stdout).toMatch(/^eghost\s+-\s+skipped \(portfolio no longer exists\)\s+0\s+-$/m);
    expect(stdout).toMatch(/^ea\s+revenue\s+applied/m);

    expect(await fixture.client.zscore(app.keys.portfolioIndex, 'eghost')).toBeNull();
    // No report for a portfolio that does not exist (its keys would never be cleaned up).
    expect(
      await fixture.client.exists(app.keys.latestReport('eghost'), app.keys.portfolioReports('eghost')),
    ).toBe(0);
    // Counted from what is stored too (the watch's fallback when events are lost).
    const runId = /^run (\S+):/.exec(stdout)![1]!;
    expect(await tallyRun(app, runId)).toEqual({ total: 4, completed: 4, failed: 0, failures: [] });
    // The next run no longer sees it.
    const next = cliContext(fixture.prefix);
    expect(await runCli(['enqueue', 'nightly', '--wait'], next.ctx)).toBe(0);
    expect(next.output().stdout).toMatch(/3 of 3 portfolios done/);
  });

  it('--json is one JSON document, written a page of portfolios at a time', async () => {
    await dangle('eghost2');
    const { ctx, output } = cliContext(fixture.prefix);
    const chunks: string[] = [];
    const out = ctx.out;
    await enqueueNightly(
      app,
      {
        ...ctx,
        out: (text) => {
          chunks.push(text);
          out(text);
        },
      },
      { wait: true, json: true, pageSize: 1 },
    );
    const run = JSON.parse(output().stdout);
    expect(run).toMatchObject({ total: 4, completed: 4, failed: 0, failures: [], gone: ['eghost2'] });
    expect(run.reports.map((r: { portfolio_id: string }) => r.portfolio_id)).toEqual(['ea', 'eb', 'ec']);
    expect(run.reports[2].skipped).toEqual({ reason: 'portfolio is archived' });
    // Each report reached the output on its own, not after all of them were collected.
    const reportsPerChunk = chunks.map((c) => (c.match(/"report_id"/g) ?? []).length);
    expect(reportsPerChunk.filter((n) => n > 0)).toEqual([1, 1, 1]);
  });
});
