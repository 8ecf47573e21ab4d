/** `ballast portfolio ...` against a real Redis, in-process (plus one run of the real binary). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createPortfolio, portfolioToWire, type WirePortfolio } from '../../src/domain/index.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { ballast } from './cli-process.js';
import { NOW, runIn } from './in-process.js';

const redis = useRedisPrefix('cli-portfolio');
let app: App;

beforeAll(() => {
  app = testApp(redis.prefix);
});

afterAll(async () => {
  await app.close();
});

const run = (...argv: string[]) => runIn(redis.prefix, argv);

/** Runs a command that must succeed with --json and returns the portfolio it printed. */
async function ok(...argv: string[]): Promise<WirePortfolio> {
  const result = await run(...argv, '--json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as WirePortfolio;
}

async function stored(id: string): Promise<WirePortfolio | null> {
  const p = await app.store.get(id);
  return p ? portfolioToWire(p) : null;
}

type Allocations = Record<string, { weight: number; locked: boolean; min_weight: number | null }>;

function weights(p: WirePortfolio): Record<string, number> {
  const allocations = p.allocations as Allocations;
  return Object.fromEntries(p.businesses.map((id) => [id, allocations[id]!.weight]));
}

function expectSumOne(p: WirePortfolio): void {
  const sum = Object.values(weights(p)).reduce((a, b) => a + b, 0);
  expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-9);
}

describe('portfolio create and show', () => {
  it('creates a portfolio with the given settings and shows it', async () => {
    const created = await ok(
      'portfolio',
      'create',
      '--id',
      'alpha',
      '--name',
      'Alpha Ventures',
      '--owner',
      'dana',
      '--strategy',
      'performance',
      '--budget',
      '250000',
      '--target-roi',
      '18',
      '--drift-threshold',
      '0.02',
      '--max-turnover',
      '0.1',
    );
    expect(created).toMatchObject({
      id: 'alpha',
      name: 'Alpha Ventures',
      owner_id: 'dana',
      status: 'active',
      strategy: 'performance',
      total_budget: 250000,
      target_roi: 18,
      drift_threshold: 0.02,
      attention_hours_per_week: 40,
      max_turnover: 0.1,
      version: 1,
      business_count: 0,
      businesses: [],
      allocations: {},
      created_at: NOW,
      updated_at: NOW,
      last_run: null,
    });
    expect(await stored('alpha')).toEqual(created);
    expect(await ok('portfolio', 'show', 'alpha')).toEqual(created);

    const text = await run('portfolio', 'show', 'alpha');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Portfolio alpha: Alpha Ventures');
    expect(text.stdout).toMatch(/Strategy\s+performance/);
    expect(text.stdout).toMatch(/Total budget\s+250,000/);
    expect(text.stdout).toMatch(/Last run\s+never/);
    expect(text.stdout).toContain('No businesses yet');
  });

  it('generates an id when none is given', async () => {
    const created = await ok('portfolio', 'create', '--name', 'Generated', '--owner', 'erin');
    expect(created.id).toMatch(/^p-[0-9a-f]{12}$/);
    expect(created.strategy).toBe('equal');
    expect(await stored(created.id)).toEqual(created);
  });

  it('prints a human confirmation without --json', async () => {
    const result = await run('portfolio', 'create', '--id', 'human', '--name', 'Human', '--owner', 'dana');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Created portfolio human \(version 1\)\n/);
  });

  it('refuses an existing id, and bad values, creating nothing', async () => {
    const before = await app.store.count();
    const cases: [string[], number, RegExp][] = [
      [['--id', 'alpha'], 1, /portfolio alpha already exists/],
      [['--strategy', 'foo'], 1, /unknown strategy "foo": use one of equal, performance/],
      [['--budget', 'abc'], 2, /--budget.*'abc' is invalid.*expected a number/],
      [['--budget', '-5'], 1, /total_budget must be a finite number >= 0, got -5/],
      [['--drift-threshold', '1.5'], 1, /drift_threshold must be a number between 0 and 1, got 1.5/],
      [['--max-turnover', '2'], 1, /max_turnover must be a number between 0 and 1, got 2/],
      [['--id', 'bad:id'], 2, /"bad:id" is not a valid id/],
      [['--owner', 'bad owner'], 2, /"bad owner" is not a valid id/],
    ];
    for (const [extra, code, message] of cases) {
      const result = await run('portfolio', 'create', '--name', 'N', '--owner', 'dana', ...extra);
      expect(result.code, extra.join(' ')).toBe(code);
      expect(result.stderr, extra.join(' ')).toMatch(message);
      expect(result.stderr).toMatch(/^ballast: /);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    }
    const missing = await run('portfolio', 'create', '--name', 'N');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--owner/);
    expect(await app.store.count()).toBe(before);
  });

  it("refuses an existing id for another owner without touching that owner's index", async () => {
    await ok('portfolio', 'create', '--id', 'owned', '--name', 'Owned', '--owner', 'first');
    const refused = await run('portfolio', 'create', '--id', 'owned', '--name', 'Taken', '--owner', 'second');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('ballast: portfolio owned already exists\n');
    expect(await redis.client.exists(app.keys.ownerIndex('second'))).toBe(0);
    expect((await run('portfolio', 'list', '--owner', 'second')).stdout).toBe('No portfolios.\n');
    expect((await run('portfolio', 'list', '--owner', 'first')).stdout).toMatch(/^owned\s+Owned\s+first/m);
  });

  it('refuses an unknown portfolio', async () => {
    const result = await run('portfolio', 'show', 'nope');
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'ballast: portfolio nope not found\n' });
  });
});

describe('portfolio businesses and allocations', () => {
  it('re-spreads equally on add and remove, leaving a locked allocation alone', async () => {
    await ok('portfolio', 'create', '--id', 'eq', '--name', 'Equal', '--owner', 'dana', '--budget', '90000');
    let p = await ok('portfolio', 'add-business', 'eq', 'a');
    expect(weights(p)).toEqual({ a: 1 });
    await ok('portfolio', 'add-business', 'eq', 'b');
    p = await ok('portfolio', 'add-business', 'eq', 'c');
    expect(p.businesses).toEqual(['a', 'b', 'c']);
    for (const w of Object.values(weights(p))) expect(w).toBeCloseTo(1 / 3, 12);
    expectSumOne(p);

    p = await ok('portfolio', 'set-allocation', 'eq', 'a', '--locked', 'true');
    const lockedWeight = weights(p).a!;
    expect((p.allocations as Allocations).a!.locked).toBe(true);

    p = await ok('portfolio', 'add-business', 'eq', 'd');
    expect(weights(p).a).toBe(lockedWeight);
    expect(weights(p).b).toBeCloseTo((1 - lockedWeight) / 3, 12);
    expect(weights(p).d).toBeCloseTo((1 - lockedWeight) / 3, 12);
    expectSumOne(p);

    p = await ok('portfolio', 'remove-business', 'eq', 'b');
    expect(p.businesses).toEqual(['a', 'c', 'd']);
    expect(weights(p).a).toBe(lockedWeight);
    expect(weights(p).c).toBeCloseTo((1 - lockedWeight) / 2, 12);
    expectSumOne(p);
    expect(await stored('eq')).toEqual(p);

    const text = await run('portfolio', 'show', 'eq');
    expect(text.stdout).toMatch(
      /^Business\s+Weight\s+Budget\s+Hours\/wk\s+Priority\s+Locked\s+Bounds\s+Target$/m,
    );
    expect(text.stdout).toMatch(/^a\s+33\.33%\s+30,000\s+13\.3\s+5\s+yes\s+-\s+-$/m);
    expect(text.stdout).toContain('3 businesses, weights total 100.00%, 1 locked');
  });

  it('sets weights, priority, bounds and targets; the other unlocked allocations absorb the change', async () => {
    await ok(
      'portfolio',
      'create',
      '--id',
      'perf',
      '--name',
      'Perf',
      '--owner',
      'erin',
      '--strategy',
      'custom',
    );
    await ok('portfolio', 'add-business', 'perf', 'x');
    await ok('portfolio', 'add-business', 'perf', 'y', '--weight', '0.5');
    let p = await ok('portfolio', 'add-business', 'perf', 'z', '--weight', '0.2');
    expect(weights(p)).toEqual({ x: expect.closeTo(0.4, 12), y: expect.closeTo(0.4, 12), z: 0.2 });

    p = await ok(
      'portfolio',
      'set-allocation',
      'perf',
      'z',
      '--weight',
      '0.6',
      '--priority',
      '9',
      '--target',
      '0.5',
    );
    expect(weights(p)).toEqual({ x: expect.closeTo(0.2, 12), y: expect.closeTo(0.2, 12), z: 0.6 });
    expect(p.allocations['z']).toMatchObject({ priority: 9, target_weight: 0.5, budget_percent: 60 });
    expectSumOne(p);

    p = await ok('portfolio', 'set-allocation', 'perf', 'x', '--min', '0.1', '--max', '0.3');
    expect(p.allocations['x']).toMatchObject({ min_weight: 0.1, max_weight: 0.3 });
    p = await ok('portfolio', 'set-allocation', 'perf', 'x', '--min', 'none', '--target', 'none');
    expect(p.allocations['x']).toMatchObject({ min_weight: null, max_weight: 0.3, target_weight: null });
    p = await ok('portfolio', 'set-allocation', 'perf', 'z', '--locked', 'true');
    p = await ok('portfolio', 'set-allocation', 'perf', 'z', '--locked', 'false');
    expect((p.allocations as Allocations).z!.locked).toBe(false);
    expectSumOne(p);
    expect(await stored('perf')).toEqual(p);
  });

  it('updates settings', async () => {
    await ok(
      'portfolio',
      'create',
      '--id',
      'upd',
      '--name',
      'Before',
      '--owner',
      'dana',
      '--max-turnover',
      '0.2',
    );
    const p = await ok(
      'portfolio',
      'update',
      'upd',
      '--name',
      'After',
      '--status',
      'paused',
      '--strategy',
      'growth',
      '--budget',
      '1000',
      '--target-roi',
      '-5',
      '--drift-threshold',
      '0.1',
      '--max-turnover',
      'none',
      '--attention-hours',
      '12.5',
    );
    expect(p).toMatchObject({
      name: 'After',
      status: 'paused',
      strategy: 'growth',
      total_budget: 1000,
      target_roi: -5,
      drift_threshold: 0.1,
      max_turnover: null,
      attention_hours_per_week: 12.5,
      version: 2,
    });
    expect(await stored('upd')).toEqual(p);
  });

  it('refuses bad values and unknown ids, changing nothing', async () => {
    await ok(
      'portfolio',
      'create',
      '--id',
      'guard',
      '--name',
      'Guard',
      '--owner',
      'dana',
      '--strategy',
      'revenue',
    );
    await ok('portfolio', 'add-business', 'guard', 'a');
    await ok('portfolio', 'add-business', 'guard', 'b');
    await ok('portfolio', 'set-allocation', 'guard', 'a', '--locked', 'true');
    const before = await stored('guard');

    const cases: [string[], number, RegExp][] = [
      [
        ['set-allocation', 'guard', 'b', '--weight', '1.5'],
        1,
        /weight must be a number between 0 and 1, got 1\.5/,
      ],
      [
        ['set-allocation', 'guard', 'b', '--weight', '-3'],
        1,
        /weight must be a number between 0 and 1, got -3/,
      ],
      [
        ['set-allocation', 'guard', 'b', '--weight', 'abc'],
        2,
        /--weight.*'abc' is invalid.*expected a number/,
      ],
      [['set-allocation', 'guard', 'b', '--locked', 'maybe'], 2, /--locked.*'maybe'.*true or false/],
      [
        ['set-allocation', 'guard', 'b', '--priority', '99'],
        1,
        /priority must be an integer from 1 to 10, got 99/,
      ],
      [['set-allocation', 'guard', 'b', '--priority', 'high'], 2, /--priority.*expected a number/],
      [
        ['set-allocation', 'guard', 'b', '--min', '0.6', '--max', '0.4'],
        1,
        /min_weight 0\.6 is above max_weight 0\.4/,
      ],
      [['set-allocation', 'guard', 'b', '--max', 'lots'], 2, /--max.*expected a number or "none"/],
      [['set-allocation', 'guard', 'b', '--weight', '0.2'], 1, /cannot set b to/],
      [['set-allocation', 'guard', 'b'], 2, /nothing to set/],
      [['set-allocation', 'guard', 'nope', '--weight', '0.5'], 1, /business nope is not in portfolio guard/],
      [['update', 'guard', '--strategy', 'foo'], 1, /unknown strategy "foo"/],
      [['update', 'guard', '--status', 'sleeping'], 1, /unknown status "sleeping"/],
      [['update', 'guard', '--budget', 'abc'], 2, /--budget.*expected a number/],
      [['update', 'guard', '--budget', '-1'], 1, /total_budget must be a finite number >= 0, got -1/],
      [['update', 'guard', '--name', ' '], 1, /name must not be empty or only spaces/],
      [['update', 'guard', '--drift-threshold', '2'], 1, /drift_threshold must be a number between 0 and 1/],
      [['update', 'guard', '--max-turnover', 'nonee'], 2, /--max-turnover.*expected a number or "none"/],
      [['update', 'guard', '--attention-hours', 'NaN'], 2, /--attention-hours.*expected a number/],
      [['update', 'guard'], 2, /nothing to update/],
      [['add-business', 'guard', 'a'], 1, /business a is already in portfolio guard/],
      [
        ['add-business', 'guard', 'c', '--weight', '1.2'],
        1,
        /weight must be a number between 0 and 1, got 1\.2/,
      ],
      [['add-business', 'guard', 'bad:id'], 2, /"bad:id" is not a valid id/],
      [['remove-business', 'guard', 'nope'], 1, /^ballast: business nope is not in portfolio guard\n$/],
      [['remove-business', 'missing', 'a'], 1, /^ballast: portfolio missing not found\n$/],
      [['update', 'missing', '--name', 'X'], 1, /^ballast: portfolio missing not found\n$/],
      [['add-business', 'missing', 'a'], 1, /^ballast: portfolio missing not found\n$/],
    ];
    for (const [argv, code, message] of cases) {
      const result = await run('portfolio', ...argv);
      expect(result.code, argv.join(' ')).toBe(code);
      expect(result.stderr, argv.join(' ')).toMatch(message);
      expect(result.stderr, argv.join(' ')).not.toMatch(/\n\s+at /);
      expect(result.stdout, argv.join(' ')).toBe('');
    }
    expect(await stored('guard')).toEqual(before);
    expect(await app.store.get('missing')).toBeNull();
  });

  it('refuses an explicit weight under the equal strategy', async () => {
    await ok('portfolio', 'create', '--id', 'eq2', '--name', 'Equal', '--owner', 'dana');
    await ok('portfolio', 'add-business', 'eq2', 'a');
    const before = await stored('eq2');
    const result = await run('portfolio', 'add-business', 'eq2', 'b', '--weight', '0.3');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/uses the equal strategy/);
    expect(await stored('eq2')).toEqual(before);
  });

  it('loses no update when operators edit one portfolio at the same time', async () => {
    await ok('portfolio', 'create', '--id', 'busy', '--name', 'Busy', '--owner', 'dana');
    const ids = Array.from({ length: 12 }, (_, i) => `biz-${String(i).padStart(2, '0')}`);
    const results = await Promise.all(ids.map((id) => run('portfolio', 'add-business', 'busy', id)));
    for (const result of results) expect(result.stderr).toBe('');
    const p = await stored('busy');
    expect([...p!.businesses].sort()).toEqual(ids);
    expect(p!.version).toBe(1 + ids.length);
    expectSumOne(p!);
  });
});

describe('portfolio list', () => {
  const listPrefix = useRedisPrefix('cli-portfolio-list');
  let listApp: App;
  const list = (...argv: string[]) => runIn(listPrefix.prefix, ['portfolio', 'list', ...argv]);

  beforeAll(async () => {
    listApp = testApp(listPrefix.prefix);
    // More than one page (200), two owners.
    for (let i = 0; i < 205; i++) {
      const id = `pf-${String(i).padStart(3, '0')}`;
      const p = createPortfolio({ id, name: `Portfolio ${i}`, ownerId: i % 5 === 0 ? 'olga' : 'pat' }, NOW);
      await listApp.store.create(p, TEST_EDIT);
    }
  });

  afterAll(async () => {
    await listApp.close();
  });

  it('pages through every portfolio in id order', async () => {
    const json = await list('--json');
    expect(json.code).toBe(0);
    const all = JSON.parse(json.stdout) as WirePortfolio[];
    expect(all).toHaveLength(205);
    expect(all.map((p) => p.id)).toEqual(all.map((p) => p.id).sort());
    expect(all[7]).toEqual(portfolioToWire((await listApp.store.get('pf-007'))!));
    // The streamed array is the same text JSON.stringify would give.
    expect(json.stdout).toBe(`${JSON.stringify(all, null, 2)}\n`);

    const text = await list();
    expect(text.stdout.split('\n')[0]).toMatch(/^ID\s+Name\s+Owner\s+Status\s+Strategy\s+Businesses$/);
    expect(text.stdout).toMatch(/^pf-204\s+Portfolio 204\s+pat\s+active\s+equal\s+0$/m);
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(206);
  });

  it("lists one owner's portfolios", async () => {
    const json = await list('--owner', 'olga', '--json');
    const mine = JSON.parse(json.stdout) as WirePortfolio[];
    expect(mine).toHaveLength(41);
    expect(mine.every((p) => p.owner_id === 'olga')).toBe(true);
    expect(JSON.parse((await list('--owner', 'nobody', '--json')).stdout)).toEqual([]);
    expect((await list('--owner', 'nobody')).stdout).toBe('No portfolios.\n');
    expect((await list('--owner', 'no body')).code).toBe(2);
  });
});

describe('the real binary', () => {
  it('creates and shows a portfolio', async () => {
    const env = { BALLAST_PREFIX: redis.prefix, BALLAST_LOG_LEVEL: 'silent' };
    const created = await ballast(
      [
        'portfolio',
        'create',
        '--id',
        'bin',
        '--name',
        'Binary',
        '--owner',
        'dana',
        '--budget',
        '1000',
        '--json',
      ],
      { env },
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const shown = await ballast(['portfolio', 'show', 'bin', '--json'], { env });
    expect(shown.code).toBe(0);
    const wire = JSON.parse(shown.stdout) as WirePortfolio;
    expect(wire).toEqual(JSON.parse(created.stdout));
    expect(wire).toMatchObject({
      id: 'bin',
      name: 'Binary',
      owner_id: 'dana',
      total_budget: 1000,
      version: 1,
    });
    const refused = await ballast(['portfolio', 'update', 'bin', '--strategy', 'foo'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'ballast: unknown strategy "foo": use one of equal, performance, growth, revenue, custom\n',
    );
  });

  it('says once, on one line, that Redis cannot be reached: no log lines', async () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:1', BALLAST_PREFIX: redis.prefix };
    for (const args of [
      ['portfolio', 'list'],
      ['enqueue', 'nightly', '--wait'],
      ['reports', 'tail'],
    ]) {
      const result = await ballast(args, { env });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr, args.join(' ')).toMatch(
        /^ballast: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 within 3s \(connect ECONNREFUSED 127\.0\.0\.1:1\); start Redis or set REDIS_URL\n$/,
      );
    }
  });
});
