/** `ballast reports show | tail` against reports committed and published as a run does. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  addBusinesses,
  type BusinessMetrics,
  createPortfolio,
  metricsFromWire,
  reportSummary,
  reportToWire,
  runPortfolio,
  type WireReport,
} from '../../src/domain/index.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { REPO_ROOT } from './cli-process.js';
import { type InProcessOptions, type InProcessResult, NOW, runIn } from './in-process.js';

const redis = useRedisPrefix('cli-reports');
let app: App;
let metrics: Map<string, BusinessMetrics>;

beforeAll(async () => {
  app = testApp(redis.prefix);
  const wire = JSON.parse(await readFile(join(REPO_ROOT, 'examples/metrics.json'), 'utf8')) as unknown[];
  metrics = new Map(wire.map((entry) => metricsFromWire(entry)).map((m) => [m.businessId, m]));
  for (const id of ['main', 'other', 'quiet']) {
    const p = createPortfolio({ id, name: id, ownerId: 'dana', strategy: 'performance' }, NOW);
    // ghost-kitchen has no metrics: the report flags it.
    await app.store.create(
      addBusinesses(
        p,
        ['harbor-coffee', 'pixel-forge', 'ghost-kitchen'].map((businessId) => ({ businessId })),
        NOW,
      ),
      TEST_EDIT,
    );
  }
});

afterAll(async () => {
  await app.close();
});

const run = (argv: string[], options: InProcessOptions = {}) => runIn(redis.prefix, argv, options);

let runs = 0;

/** Runs the portfolio as the worker would, then commits and publishes the report. */
async function publish(portfolioId: string, dryRun = true): Promise<WireReport> {
  const portfolio = await app.store.require(portfolioId);
  const runId = `run-${++runs}`;
  const outcome = runPortfolio({
    portfolio,
    metrics,
    runId,
    reportId: `report-${runs}`,
    trigger: 'manual',
    now: NOW,
    dryRun,
  });
  const wire = reportToWire(outcome.report);
  const json = JSON.stringify(wire);
  const committed = await app.reports.commit({
    portfolioId,
    runId,
    write:
      dryRun || outcome.portfolio === portfolio
        ? null
        : { after: outcome.portfolio, records: app.store.records(portfolio, outcome.portfolio, TEST_EDIT) },
    checkVersion: !dryRun,
    outcome: dryRun ? 'dry-run' : outcome.portfolio === portfolio ? 'unchanged' : 'changed',
    expectedVersion: portfolio.version,
    reportJson: json,
  });
  expect(committed.status).toBe('ok');
  // On a single Redis the commit script has published already; with BALLAST_REDIS_CLUSTER it has not.
  if (committed.status === 'ok' && !committed.published)
    await app.reports.publish(portfolioId, runId, committed.summary);
  return JSON.parse(json) as WireReport;
}

/** Starts `reports tail`; resolves `started` once it is following the stream. */
function startTail(argv: string[], options: InProcessOptions = {}) {
  let onStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    onStarted = resolve;
  });
  const done = run(['reports', 'tail', ...argv], {
    ...options,
    onErr: (text) => {
      if (text.startsWith('Following ')) onStarted();
    },
  });
  return { started: Promise.race([started, done.then(failEarly)]), done: bounded(done) };
}

function failEarly(result: InProcessResult): never {
  throw new Error(`reports tail ended before following the stream: ${JSON.stringify(result)}`);
}

function bounded<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('reports show', () => {
  let applied: WireReport;
  let latest: WireReport;

  beforeAll(async () => {
    applied = await publish('main', false);
    latest = await publish('main');
  });

  it('prints the latest report as stored with --json', async () => {
    const result = await run(['reports', 'show', 'main', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(latest);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse((await app.reports.latest('main'))!));
  });

  it('prints a summary of actions and the roll-up', async () => {
    const result = await run(['reports', 'show', 'main']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Portfolio main: performance strategy, dry run, nothing applied/);
    for (const id of ['harbor-coffee', 'pixel-forge', 'ghost-kitchen']) expect(result.stdout).toContain(id);
    expect(result.stdout).toMatch(/ghost-kitchen\s.*no-metrics/);
    expect(result.stdout).toMatch(/Roll-up \(2 of 3 businesses with metrics\)/);
    expect(result.stdout).toMatch(/Without metrics\s+1: ghost-kitchen/);
    expect(result.stdout).toMatch(/^Turnover /m);
  });

  it('lists the last reports newest first with --limit', async () => {
    const json = await run(['reports', 'show', 'main', '--limit', '5', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([latest, applied]);

    const text = await run(['reports', 'show', 'main', '--limit', '1']);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Time\s+Run\s+Trigger\s+Outcome\s+Changes\s+Turnover\s+Version$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${NOW}\\s+${latest.run_id}\\s+manual\\s+dry-run\\s`)),
    ]);
    const both = await run(['reports', 'show', 'main', '--limit', '2']);
    expect(applied.version_after).toBe(applied.version_before + 1);
    expect(both.stdout).toMatch(
      new RegExp(
        `${applied.run_id}\\s+manual\\s+applied\\s+${applied.changes}\\s+\\d+\\.\\d\\d%\\s+${applied.version_before} -> ${applied.version_after}$`,
        'm',
      ),
    );
    // The applied run shows as the portfolio's last run.
    const shown = await run(['portfolio', 'show', 'main']);
    expect(shown.stdout).toMatch(
      new RegExp(`Last run\\s+${NOW} \\(run ${applied.run_id}, report ${applied.report_id}\\)`),
    );
  });

  it('refuses a portfolio without reports, an unknown portfolio and a bad limit', async () => {
    expect(await run(['reports', 'show', 'quiet'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ballast: no report yet for portfolio quiet\n',
    });
    expect((await run(['reports', 'show', 'quiet', '--limit', '3'])).stderr).toBe(
      'ballast: no report yet for portfolio quiet\n',
    );
    expect(await run(['reports', 'show', 'nope'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ballast: portfolio nope not found\n',
    });
    for (const limit of ['0', 'abc', '2.5']) {
      const result = await run(['reports', 'show', 'main', '--limit', limit]);
      expect(result.code, limit).toBe(2);
      expect(result.stderr, limit).toMatch(/--limit/);
    }
  });
});

describe('reports tail', () => {
  it('prints the next reports published on the global stream, one summary JSON per line', async () => {
    await publish('other'); // Before the tail starts: not printed.
    const tail = startTail(['--count', '2', '--json']);
    await tail.started;
    const first = await publish('other');
    const second = await publish('main');
    const result = await tail.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^Following ballast-test-cli-reports-[0-9a-f]+:reports \(Ctrl-C to stop\)\n$/,
    );
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    // The global stream carries summaries; stream_id finds the full report in the portfolio's stream.
    expect(lines).toEqual([
      { ...reportSummary(first), stream_id: expect.any(String) },
      { ...reportSummary(second), stream_id: expect.any(String) },
    ]);
    const [entry] = await app.redis.xrange(
      app.keys.portfolioReports('main'),
      lines[1].stream_id,
      lines[1].stream_id,
    );
    expect(JSON.parse(entry![1][1]!)).toEqual(second);
  });

  it('prints one line per report from the global stream', async () => {
    const tail = startTail(['--count', '1']);
    await tail.started;
    const first = await publish('other');
    const result = await tail.done;
    expect(result.stdout).toBe(
      `${NOW}  other  run ${first.run_id}  dry-run  ${first.changes} changes  turnover ${(first.turnover * 100).toFixed(2)}%\n`,
    );
  });

  it("follows one portfolio's stream with a line per report", async () => {
    const tail = startTail(['--portfolio', 'main', '--count', '2']);
    await tail.started;
    await publish('other');
    const first = await publish('main');
    const second = await publish('main');
    const result = await tail.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [first, second]
        .map(
          (r) =>
            `${NOW}  main  run ${r.run_id}  dry-run  0 changes  turnover ${(r.turnover * 100).toFixed(2)}%\n`,
        )
        .join(''),
    );
  });

  it('starts from the oldest report still in the stream with --from-start', async () => {
    const expected = (await app.reports.list('main', 1000)).reverse().slice(0, 3);
    const result = await bounded(
      run(['reports', 'tail', '--portfolio', 'main', '--from-start', '--count', '3', '--json']),
    );
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual(expected.map((entry) => entry.report));
  });

  it('stops on SIGINT/SIGTERM and exits 0', async () => {
    let interrupt: (() => void) | undefined;
    let listening = false;
    const tail = startTail(['--portfolio', 'quiet'], {
      onInterrupt: (handler) => {
        interrupt = handler;
        listening = true;
        return () => {
          listening = false;
        };
      },
    });
    await tail.started;
    expect(listening).toBe(true);
    interrupt!();
    const result = await tail.done;
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(listening).toBe(false);
  });

  it('refuses an unknown portfolio and a bad count', async () => {
    expect(await bounded(run(['reports', 'tail', '--portfolio', 'nope']))).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ballast: portfolio nope not found\n',
    });
    for (const count of ['0', '-1', 'many']) {
      const result = await run(['reports', 'tail', '--count', count]);
      expect(result.code, count).toBe(2);
      expect(result.stderr, count).toMatch(/--count/);
    }
  });
});
