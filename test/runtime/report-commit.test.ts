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
