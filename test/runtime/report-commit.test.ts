import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio, reportToWire, runPortfolio } from '../../src/domain/index.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
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
  const app = testApp(prefix, { env: { BALLAST_REDIS_CLUSTER: String(cluster) } });
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
  const subscriber = app.redis.duplicate();
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
  if (result.status === 'ok' && !result.published) await app.reports.publish('rc', 'r1', reportJson);
  const global = await fixture.client.xrange(app.keys.reports, '-', '+');
  const received = await message;
  await subscriber.quit();
  return { app, result, global, received, reportJson };
}

describe('committing a run', () => {
  it('on a single Redis writes the portfolio, both streams and the channel in one script', async () => {
    const { app, result, global, received, reportJson } = await commitOnce(false);
    expect(result).toEqual({ status: 'ok', published: true });
    expect(global.map(([, f]) => f[1])).toEqual([reportJson]);
    expect(received).toBe(reportJson);
    expect(await fixture.client.hget(app.keys.runMarker('rc', 'r1'), 'published')).toBe('1');
  });

  it('with BALLAST_REDIS_CLUSTER keeps the script on the portfolio slot and publishes after', async () => {
    const { app, result, global, received, reportJson } = await commitOnce(true);
    expect(result).toEqual({ status: 'ok', published: false });
    expect(global.map(([, f]) => f[1])).toEqual([reportJson]);
    expect(received).toBe(reportJson);
    expect(await fixture.client.hget(app.keys.runMarker('rc', 'r1'), 'published')).toBe('1');
  });
});
