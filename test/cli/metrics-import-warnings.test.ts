/**
 * `ballast metrics import` warns about suspicious metrics (business in no portfolio, stale or
 * inconsistent figures, jumps against the stored metrics) and `--strict` refuses them; in-process
 * against a real Redis, with the CLI's clock pinned at NOW.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisMetricsSource } from '../../src/adapters/metrics/redis-metrics-source.js';
import type { App } from '../../src/app.js';
import { runCli } from '../../src/cli/run-cli.js';
import { addBusinesses, createPortfolio, metricsFromWire, type WireMetrics } from '../../src/domain/index.js';
import { checkMetricsImport } from '../../src/services/metrics-import.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { cliContext, NOW, runIn } from './in-process.js';

const redis = useRedisPrefix('cli-metrics-warn');
let app: App;

/** Every business these tests import except `stray*`: held by portfolio `held`. */
const HELD = [
  'plain',
  'stale',
  'fresh',
  'undated',
  'jump6',
  'jump4',
  'drop',
  'bad-profit',
  'bad-margin',
  'strict-keep',
  'strict-new',
  'json-1',
  'off-1',
  'off-2',
  'off-3',
];
const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.parse(NOW) - ms).toISOString();

beforeAll(async () => {
  app = testApp(redis.prefix);
  const p = createPortfolio({ id: 'held', name: 'Held', ownerId: 'ops' }, NOW);
  await app.store.create(
    addBusinesses(
      p,
      HELD.map((businessId) => ({ businessId })),
      NOW,
    ),
    TEST_EDIT,
  );
});

afterAll(async () => {
  await app.close();
});

function metric(id: string, extra: Partial<WireMetrics> = {}): WireMetrics {
  return {
    business_id: id,
    revenue: 1000,
    expenses: 800,
    customers: 100,
    growth_rate: 3,
    health_score: 60,
    ...extra,
  };
}

const importJson = (entries: WireMetrics[], flags: string[] = [], env: Record<string, string> = {}) => {
  const stdin = JSON.stringify(entries);
  if (Object.keys(env).length === 0)
    return runIn(redis.prefix, ['metrics', 'import', '-', ...flags], { stdin });
  const { ctx, output } = cliContext(redis.prefix, { stdin });
  return runCli(['metrics', 'import', '-', ...flags], { ...ctx, env: { ...ctx.env, ...env } }).then(
    (code) => ({ code, ...output() }),
  );
};

/** What the CLI stored, read back through the redis metrics source. */
const stored = (ids: string[]) => createRedisMetricsSource(app.redis, app.keys).fetch(ids);

/** Seeds stored metrics and checks that seeding itself warned about nothing. */
async function seed(entries: WireMetrics[]): Promise<void> {
  const result = await importJson(entries, ['--strict']);
  expect(result, 'seeding').toMatchObject({ code: 0, stderr: '' });
}

describe('metrics import warnings', () => {
  it('warns about a business in no portfolio and imports it anyway', async () => {
    const result = await importJson([metric('plain'), metric('stray-1')]);
    expect(result).toEqual({
      code: 0,
      stdout: 'imported 2 businesses\n',
      stderr:
        'warning: stray-1: not-in-portfolio: no portfolio holds this business\n(--strict refuses such files)\n',
    });
    const { metrics } = await stored(['plain', 'stray-1']);
    expect(metrics.get('stray-1')).toEqual(metricsFromWire(metric('stray-1')));
    expect(metrics.has('plain')).toBe(true);
  });

  it('warns about an as_of older than the guard age; one within it, or none at all, is fine', async () => {
    const result = await importJson([
      metric('stale', { as_of: ago(72 * HOUR) }),
      metric('fresh', { as_of: ago(47 * HOUR) }),
      metric('undated'),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('imported 3 businesses\n');
    expect(result.stderr).toBe(
      `warning: stale: stale-metrics: metrics as of ${ago(72 * HOUR)} are 3 days old (limit 48 h)\n` +
        '(--strict refuses such files)\n',
    );
    // The guard age is the configured one.
    const longer = await importJson([metric('stale', { as_of: ago(72 * HOUR) })], [], {
      BALLAST_GUARD_MAX_METRICS_AGE: '4d',
    });
    expect(longer).toMatchObject({ code: 0, stderr: '' });
  });

  it('warns about a jump beyond the guard factor against the stored metrics (x6 warned, x4 not)', async () => {
    await seed([metric('jump6'), metric('jump4'), metric('drop')]);
    // Expenses move with revenue so that only revenue (or customers) jumps, not profit.
    const result = await importJson([
      metric('jump6', { revenue: 6000, expenses: 5800 }),
      metric('jump4', { revenue: 4000, expenses: 3800, customers: 400 }),
      metric('drop', { customers: 10 }),
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'warning: jump6: metric-jump: revenue 1000 -> 6000 (x6, limit x5)\n' +
        'warning: drop: metric-jump: customers 100 -> 10 (x1/10, limit x5)\n' +
        '(--strict refuses such files)\n',
    );
    // Imported all the same: the next import compares against these.
    const { metrics } = await stored(['jump6']);
    expect(metrics.get('jump6')?.revenue).toBe(6000);
    const again = await importJson([metric('jump6', { revenue: 6000, expenses: 5800 })]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
  });

  it('warns about inconsistent profit and margin', async () => {
    const result = await importJson([
      metric('bad-profit', { profit: 500 }),
      metric('bad-margin', { margin: 30 }),
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'warning: bad-profit: invalid-metrics: profit 500 is not revenue 1000 - expenses 800 = 200 (tolerance 1%)\n' +
        'warning: bad-margin: invalid-metrics: margin 30% is not profit 200 / revenue 1000 = 20% (tolerance 1 point)\n' +
        '(--strict refuses such files)\n',
    );
  });

  it('--strict refuses a file with warnings, exit 1, and writes nothing', async () => {
    await seed([metric('strict-keep')]);
    const result = await importJson(
      [
        metric('strict-new'),
        metric('strict-keep', { revenue: 100_000, expenses: 99_800 }),
        metric('stray-2'),
      ],
      ['--strict'],
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'warning: strict-keep: metric-jump: revenue 1000 -> 100000 (x100, limit x5)\n' +
        'warning: stray-2: not-in-portfolio: no portfolio holds this business\n' +
        'ballast: refused: 2 warnings, nothing imported: ' +
        'strict-keep: metric-jump: revenue 1000 -> 100000 (x100, limit x5); ' +
        'stray-2: not-in-portfolio: no portfolio holds this business\n',
    );
    const { metrics, missing } = await stored(['strict-keep', 'strict-new', 'stray-2']);
    expect(metrics.get('strict-keep')?.revenue).toBe(1000);
    expect(missing.has('strict-new')).toBe(true);
    expect(missing.has('stray-2')).toBe(true);
  });

  it('--json lists the warnings beside what was imported', async () => {
    const result = await importJson([metric('json-1', { profit: 1 }), metric('stray-3')], ['--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      imported: 2,
      business_ids: ['json-1', 'stray-3'],
      warnings: [
        {
          business_id: 'json-1',
          check: 'invalid-metrics',
          detail: 'profit 1 is not revenue 1000 - expenses 800 = 200 (tolerance 1%)',
        },
        { business_id: 'stray-3', check: 'not-in-portfolio', detail: 'no portfolio holds this business' },
      ],
    });
  });

  it('with BALLAST_GUARDS=off warns only about businesses in no portfolio', async () => {
    await seed([metric('off-3')]);
    const entries = [
      metric('off-1', { as_of: ago(30 * 24 * HOUR) }),
      metric('off-2', { profit: 999 }),
      metric('off-3', { revenue: 1_000_000, expenses: 999_800 }),
      metric('stray-4'),
    ];
    const off = await importJson(entries, ['--json'], { BALLAST_GUARDS: 'off' });
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout).warnings).toEqual([
      { business_id: 'stray-4', check: 'not-in-portfolio', detail: 'no portfolio holds this business' },
    ]);
  });

  it('finds a business held by a portfolio past the first page of portfolios', async () => {
    // 500 portfolios a page: the 501st holds the only allocation of `late`.
    for (let i = 0; i <= 500; i++) {
      const id = `page-${String(i).padStart(3, '0')}`;
      const p = createPortfolio({ id, name: id, ownerId: 'ops' }, NOW);
      await app.store.create(
        addBusinesses(p, [{ businessId: i === 500 ? 'late' : 'filler' }], NOW),
        TEST_EDIT,
      );
    }
    const metrics = new Map([
      ['late', metricsFromWire(metric('late'))],
      ['stray-5', metricsFromWire(metric('stray-5'))],
    ]);
    const warnings = await checkMetricsImport({ ...app, clock: () => new Date(NOW) }, metrics);
    expect(warnings).toEqual([
      { business_id: 'stray-5', check: 'not-in-portfolio', detail: 'no portfolio holds this business' },
    ]);
  });
});
