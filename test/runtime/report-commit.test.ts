import { afterAll, describe, expect, it } from 'vitest';
import { duplicate } from '../../src/adapters/redis.js';
import type { App } from '../../src/app.js';
import {
  addBusiness,
  createPortfolio,
  reportSummary,
  reportToWire,
  runPortfolio,
} from '../../src/domain/index.js';
import { clusterApp, TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('commit');
const apps: App[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});
const T = '2026-11-25T00:00:00.000Z';
const source = new MemoryMetricsSource().set(wire('c1', 100, 10), wire('c2', 300, 10));

async function commitOnce(cluster: boolean) {
  const prefix = `${fixture.prefix}-${cluster ? 'cluster' : 'single'}`;
  const app = cluster ? clusterApp(prefix) : testApp(prefix);
  apps.push(app);
  let p = createPortfolio({ id: 'rc', name: 'rc', ownerId: 'o', strategy: 'revenue' }, T);
  p = await app.store.create(addBusiness(addBusiness(p, 'c1', {}, T), 'c2', {}, T), TEST_EDIT);
  const { metrics } = await source.fetch(['c1', 'c2']);
  const outcome = runPortfolio({
    portfolio: p,
    metrics,
    runId: 'r1',
    reportId: 'r1.rc',
    trigger: 'manual',
    now: T,
    dryRun: false,
  });
  const reportJson = JSON.stringify(reportToWire(outcome.report));
  const subscriber = duplicate(app.redis);
  const message = new Promise<string>((resolve) => subscriber.on('message', (_c, m) => resolve(m)));
  await subscriber.subscribe(app.keys.reportsChannel);
  const result = await app.reports.commit({
    portfolioId: 'rc',
    runId: 'r1',
    write: { after: outcome.portfolio, records: app.store.records(p, outcome.portfolio, TEST_EDIT) },
    checkVersion: true,
    outcome: 'changed',
    expectedVersion: p.version,
    reportJson,
  });
  if (result.status === 'ok' && !result.published) await app.reports.publish('rc', 'r1', result.summary);
  const global = await app.redis.xrange(app.keys.reports, '-', '+');
  const own = await app.redis.xrange(app.keys.portfolioReports('rc'), '-', '+');
  const received = await message;
  await subscriber.quit();
  return { app, result, global, own, received, reportJson };
}

/**
 * The report is stored in full once (the portfolio's stream, and the latest-report key); the global
 * stream, the channel and the run marker carry its summary, with the full report's stream id.
 */
async function expectStoredOnce(c: Awaited<ReturnType<typeof commitOnce>>) {
  const { app, global, own, received, reportJson } = c;
  expect(own.map(([, f]) => f)).toEqual([['report', reportJson]]);
  const streamId = own[0]![0];
  const summary = JSON.stringify({ ...reportSummary(JSON.parse(reportJson)), stream_id: streamId });
  expect(global.map(([, f]) => f)).toEqual([['summary', summary]]);
  expect(received).toBe(summary);
  expect(await app.redis.get(app.keys.latestReport('rc'))).toBe(reportJson);
  expect(await app.redis.hgetall(app.keys.runMarker('rc', 'r1'))).toEqual({
    summary,
    id: streamId,
    published: '1',
  });
  expect(await app.reports.runReport('rc', 'r1')).toBe(reportJson);
  expect(await app.reports.runSummary('rc', 'r1')).toBe(summary);
  // Far smaller than the report: what a night adds besides the one full copy.
  expect(summary.length).toBeLessThan(reportJson.length / 2);
}

describe('committing a run', () => {
  it('on a single Redis writes the portfolio, both streams and the channel in one script', async () => {
    const c = await commitOnce(false);
    expect(c.result).toMatchObject({ status: 'ok', published: true });
    await expectStoredOnce(c);
  });

  it('with BALLAST_REDIS_CLUSTER keeps the script on the portfolio slot and publishes after', async () => {
    const c = await commitOnce(true);
    expect(c.result).toMatchObject({ status: 'ok', published: false });
    await expectStoredOnce(c);
  });
});

describe('a commit on Redis Cluster whose second round trip never happened', () => {
  it('leaves what it owes in its marker, and the retry pays it: outcome, tally, audit entry', async () => {
    const prefix = `${fixture.prefix}-owed`;
    const app = clusterApp(prefix);
    apps.push(app);
    let p = createPortfolio({ id: 'ow', name: 'ow', ownerId: 'o', strategy: 'revenue' }, T);
    p = await app.store.create(addBusiness(addBusiness(p, 'c1', {}, T), 'c2', {}, T), TEST_EDIT);
    const { metrics } = await source.fetch(['c1', 'c2']);
    const outcome = runPortfolio({
      portfolio: p,
      metrics,
      runId: 'r2',
      reportId: 'r2.ow',
      trigger: 'cron',
      now: T,
      dryRun: false,
    });
    const records = app.store.records(p, outcome.portfolio, TEST_EDIT);
    const input = {
      portfolioId: 'ow',
      runId: 'r2',
      write: { after: outcome.portfolio, records },
      checkVersion: true,
      outcome: 'changed' as const,
      expectedVersion: p.version,
      reportJson: JSON.stringify(reportToWire(outcome.report)),
      tally: 'decided' as const,
    };
    const first = await app.reports.commit(input);
    expect(first).toMatchObject({ status: 'ok', published: false });
    // The process dies here: no publish. The retry finds the run committed, and what it owes.
    const again = await app.reports.commit(input);
    expect(again).toMatchObject({
      status: 'dup',
      published: false,
      pending: {
        outcome: 'changed',
        tally: 'decided',
        proposal: { op: 'keep' },
        records: { audit: records.audit },
      },
    });
    if (again.status !== 'dup') throw new Error('expected dup');
    await app.reports.publish('ow', 'r2', again.summary, again.pending);
    expect(await app.redis.hget(app.keys.runPortfolios('r2'), 'ow')).toBe('changed');
    expect(await app.reports.runTally('r2')).toMatchObject({ decided: 1, held: 0 });
    const audit = await app.redis.xrange(app.keys.audit, '-', '+');
    expect(audit.map(([, f]) => f[1])).toEqual([
      expect.stringContaining('"portfolio_id":"ow"'),
      records.audit,
    ]);
    const global = await app.redis.xrange(app.keys.reports, '-', '+');
    expect(global.map(([, f]) => f[0])).toEqual(['summary']);
    // The marker remembers that the tally was counted: paying again does not count it twice.
    const marker = await app.redis.hgetall(app.keys.runMarker('ow', 'r2'));
    expect(Object.keys(marker).sort()).toEqual(['id', 'published', 'summary', 'tallied']);
    await app.reports.publish('ow', 'r2', again.summary, again.pending);
    expect(await app.reports.runTally('r2')).toMatchObject({ decided: 1, held: 0 });
  });
});

describe("a nightly run's end, judged by the commit script on a single Redis", () => {
  async function commitRun(app: App, id: string, runId: string, finishedAt: string | null) {
    let p = createPortfolio({ id, name: id, ownerId: 'o', strategy: 'revenue' }, T);
    p = await app.store.create(addBusiness(addBusiness(p, 'c1', {}, T), 'c2', {}, T), TEST_EDIT);
    const { metrics } = await source.fetch(['c1', 'c2']);
    const run = runPortfolio({
      portfolio: p,
      metrics,
      runId,
      reportId: `${runId}.${id}`,
      trigger: 'cron',
      now: T,
      dryRun: false,
    });
    return app.reports.commit({
      portfolioId: id,
      runId,
      write: { after: run.portfolio, records: app.store.records(p, run.portfolio, TEST_EDIT) },
      checkVersion: true,
      outcome: 'changed',
      expectedVersion: p.version,
      reportJson: JSON.stringify(reportToWire(run.report)),
      tally: 'decided',
      finishedAt,
    });
  }
  const finishedAt = (app: App, runId: string) => app.redis.hget(app.keys.run(runId), 'finished_at');

  it('returns the run progress with each commit and records finished_at once, with the last portfolio (gone and failed ones counted)', async () => {
    const app = testApp(`${fixture.prefix}-end`);
    apps.push(app);
    await app.reports.recordFanOut('n1', 4, T);
    await app.reports.recordGone('n1', 'gone');
    const first = await commitRun(app, 'e1', 'n1', '2026-11-25T01:00:00.000Z');
    expect(first).toMatchObject({
      status: 'ok',
      progress: { decided: 1, held: 0, total: 4, done: 2, circuitOpen: null, finished: false },
    });
    expect(await finishedAt(app, 'n1')).toBeNull();
    await app.reports.recordFailed('n1', 'failed', 'boom');
    const last = await commitRun(app, 'e2', 'n1', '2026-11-25T02:00:00.000Z');
    expect(last).toMatchObject({ status: 'ok', progress: { decided: 2, total: 4, done: 4, finished: true } });
    expect(await finishedAt(app, 'n1')).toBe('2026-11-25T02:00:00.000Z');
    expect(await app.redis.ttl(app.keys.run('n1'))).toBeGreaterThan(0);
    // A portfolio counted after the end (a cancelled one committing late) does not end it again.
    const late = await commitRun(app, 'e3', 'n1', '2026-11-25T03:00:00.000Z');
    expect(late).toMatchObject({ status: 'ok', progress: { done: 5, finished: false } });
    expect(await finishedAt(app, 'n1')).toBe('2026-11-25T02:00:00.000Z');
  });

  it('judges nothing before the fan-out has recorded its total, nor for an operator run', async () => {
    const app = testApp(`${fixture.prefix}-noend`);
    apps.push(app);
    const early = await commitRun(app, 'f1', 'n2', '2026-11-25T01:00:00.000Z');
    expect(early).toMatchObject({ status: 'ok', progress: { total: null, done: 1, finished: false } });
    expect(await finishedAt(app, 'n2')).toBeNull();
    const operator = await commitRun(app, 'f2', 'op1', null);
    expect(operator).toMatchObject({ status: 'ok', progress: null });
  });

  it('with BALLAST_REDIS_CLUSTER leaves the run end to checkRunEnd (other hash slots)', async () => {
    const app = clusterApp(`${fixture.prefix}-cend`);
    apps.push(app);
    await app.reports.recordFanOut('n3', 1, T);
    const result = await commitRun(app, 'g1', 'n3', '2026-11-25T01:00:00.000Z');
    expect(result).toMatchObject({ status: 'ok', published: false, progress: null });
    expect(await finishedAt(app, 'n3')).toBeNull();
  });
});

describe("a run's inputs", () => {
  it("reads the document, and when asked, the baseline and the run's tally in one batch", async () => {
    const app = testApp(`${fixture.prefix}-inputs`);
    apps.push(app);
    let p = createPortfolio({ id: 'in', name: 'in', ownerId: 'o', strategy: 'revenue' }, T);
    p = await app.store.create(addBusiness(p, 'c1', {}, T), TEST_EDIT);
    await app.redis.set(app.keys.metricsBaseline('in'), '{"c1":[1,2,3]}');
    await app.redis.hset(app.keys.run('n9'), 'decided', '4', 'held', '1', 'total', '9');
    const all = await app.reports.runInputs('in', 'n9', { baseline: true, tally: true });
    expect(all.doc).toBe(await app.redis.hget(app.keys.portfolio('in'), 'doc'));
    expect(all.baselineJson).toBe('{"c1":[1,2,3]}');
    expect(all.tally).toEqual({ decided: 4, held: 1, total: 9, circuitOpen: null });
    const tallyOnly = await app.reports.runInputs('in', 'n9', { baseline: false, tally: true });
    expect(tallyOnly).toMatchObject({ baselineJson: null, tally: { decided: 4 } });
    expect(await app.reports.runInputs('gone', 'n9', { baseline: false, tally: false })).toEqual({
      doc: null,
      baselineJson: null,
      tally: null,
    });
  });
});
