import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballast, type CliResult, REPO_ROOT } from './cli-process.js';

const PORTFOLIO = 'examples/portfolio.json';
const METRICS = 'examples/metrics.json';

const REPORT_FIELDS = [
  'report_id',
  'portfolio_id',
  'run_id',
  'trigger',
  'strategy',
  'applied',
  'dry_run',
  'created_at',
  'version_before',
  'version_after',
  'turnover',
  'metrics',
  'ranking',
  'actions',
] as const;

interface WireAction {
  business_id: string;
  action: string;
  current_weight: number;
  recommended_weight: number;
  reason: string;
}

type Json = Record<string, unknown>;

let dir: string;
let examplePortfolio: Json;
let exampleMetrics: Json[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ballast-plan-'));
  examplePortfolio = JSON.parse(await readFile(join(REPO_ROOT, PORTFOLIO), 'utf8'));
  exampleMetrics = JSON.parse(await readFile(join(REPO_ROOT, METRICS), 'utf8'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `content` (a string as is, anything else as JSON) to the temp dir; returns the path. */
async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** A deep copy of the example portfolio, changed by `edit`. */
function portfolioWith(
  edit: (p: Json & { allocations: Record<string, Json>; businesses: string[] }) => void,
) {
  const copy = structuredClone(examplePortfolio) as Json & {
    allocations: Record<string, Json>;
    businesses: string[];
  };
  edit(copy);
  return copy;
}

function metricsWith(edit: (m: Json[]) => void): Json[] {
  const copy = structuredClone(exampleMetrics);
  edit(copy);
  return copy;
}

function expectRefused(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^ballast: /);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toContain('    at ');
}

function sumOf(actions: readonly WireAction[]): number {
  return actions.reduce((total, a) => total + a.recommended_weight, 0);
}

describe('ballast plan with the examples', () => {
  it('prints the ranking, the actions, the roll-up and the turnover as a table', async () => {
    const result = await ballast(['plan', '--portfolio', PORTFOLIO, '--metrics', METRICS]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const out = result.stdout;
    expect(out).toMatch(/^Rank\s+Business\s+Name\s+Score\s+Action\s+Weight\s+Reason$/m);
    expect(out).toMatch(/^\s+1\s+pixel-forge\s+Pixel Forge\s+1\.000\s+increase\s+15\.00% -> \d+\.\d\d%/m);
    expect(out).toMatch(/harbor-coffee.*locked\s+15\.00% -> 15\.00%/);
    expect(out).toMatch(
      /nova-fit.*maintain\s+20\.00% -> 20\.00%\s+within the drift band \(3\.0 points of target 19\.1%\); kept at 20%/,
    );
    expect(out).toMatch(
      /^\s+-\s+ghost-kitchen\s+-\s+no-metrics\s+5\.00% -> 5\.00%.*not in the metrics file/m,
    );
    expect(out).toMatch(/^Roll-up \(6 of 7 businesses with metrics\)$/m);
    for (const label of ['Revenue', 'Expenses', 'Profit', 'Net margin', 'ROI', 'Growth', 'Best performer']) {
      expect(out).toMatch(new RegExp(`^  ${label}\\s+\\S`, 'm'));
    }
    expect(out).toMatch(/^ {2}Revenue\s+1,425,000$/m);
    expect(out).toMatch(/^ {2}ROI\s+63\.6% against a target of 25\.0%: met$/m);
    expect(out).toMatch(/^ {2}Without metrics\s+1: ghost-kitchen$/m);
    expect(out).toMatch(
      /^Turnover 8\.00% \(capped by max turnover: every move scaled to [\d.]+%\); 4 allocations change$/m,
    );
  });

  it('prints the wire report with --json: every SPEC field, weights summing to 1, nothing applied', async () => {
    const result = await ballast(['plan', '--portfolio', PORTFOLIO, '--metrics', METRICS, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    for (const field of REPORT_FIELDS) expect(report).toHaveProperty(field);
    expect(report).toMatchObject({
      report_id: 'plan',
      run_id: 'plan',
      portfolio_id: 'north-star',
      trigger: 'manual',
      strategy: 'performance',
      applied: false,
      dry_run: true,
      version_before: 12,
      version_after: 12,
    });
    expect(Number.isNaN(Date.parse(report.created_at))).toBe(false);
    expect(report.turnover).toBeLessThanOrEqual(0.08 + 1e-9);
    expect(report.metrics).toMatchObject({ total_revenue: 1425000, businesses_without_metrics: 1 });

    const actions = report.actions as WireAction[];
    expect(actions.map((a) => a.business_id)).toEqual(examplePortfolio['businesses']);
    expect(Math.abs(sumOf(actions) - 1)).toBeLessThanOrEqual(1e-9);
    const byId = new Map(actions.map((a) => [a.business_id, a]));
    expect(byId.get('harbor-coffee')).toMatchObject({ action: 'locked', recommended_weight: 0.15 });
    expect(byId.get('ghost-kitchen')).toMatchObject({ action: 'no-metrics', recommended_weight: 0.05 });
    expect(byId.get('ghost-kitchen')?.reason).toContain('not in the metrics file');
    expect(byId.get('nova-fit')).toMatchObject({ action: 'maintain', recommended_weight: 0.2 });
    expect(report.ranking.map((r: Json) => r['rank'])).toEqual([1, 2, 3, 4, 5, 6, null]);
  });

  it('reads the same metrics as NDJSON and from standard input', async () => {
    const ndjson = await file(
      'metrics.ndjson',
      `${exampleMetrics.map((m) => JSON.stringify(m)).join('\n')}\n`,
    );
    const fromArray = await ballast(['plan', '--portfolio', PORTFOLIO, '--metrics', METRICS, '--json']);
    const fromNdjson = await ballast(['plan', '--portfolio', PORTFOLIO, '--metrics', ndjson, '--json']);
    const fromStdin = await ballast(['plan', '--portfolio', '-', '--metrics', METRICS, '--json'], {
      input: JSON.stringify(examplePortfolio),
    });
    const withoutClock = (r: CliResult) => ({ ...JSON.parse(r.stdout), created_at: null });
    expect(fromNdjson.code, fromNdjson.stderr).toBe(0);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(withoutClock(fromNdjson)).toEqual(withoutClock(fromArray));
    expect(withoutClock(fromStdin)).toEqual(withoutClock(fromArray));
  });

  it('runs every example portfolio under examples/portfolios', async () => {
    const names = (await readdir(join(REPO_ROOT, 'examples/portfolios'))).filter((n) => n.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(5);
    const strategies = new Set<string>();
    for (const name of names) {
      const result = await ballast([
        'plan',
        '--portfolio',
        `examples/portfolios/${name}`,
        '--metrics',
        METRICS,
        '--json',
      ]);
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      const report = JSON.parse(result.stdout);
      strategies.add(report.strategy);
      expect(Math.abs(sumOf(report.actions) - 1), name).toBeLessThanOrEqual(1e-9);
    }
    expect([...strategies].sort()).toEqual(['custom', 'equal', 'growth', 'performance', 'revenue']);
  });

  it('shows bounds at work when max_turnover does not scale the moves', async () => {
    const result = await ballast([
      'plan',
      '--portfolio',
      'examples/portfolios/performance.json',
      '--metrics',
      METRICS,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/pixel-forge.*15\.00% -> 22\.00%.*capped at max 22%/);
    expect(result.stdout).toMatch(/green-leaf.*20\.00% -> 14\.00%.*held at min 14%/);
  });

  it('applies and explains the rebalancing options of the portfolio file', async () => {
    const result = await ballast([
      'plan',
      '--portfolio',
      'examples/portfolios/rebalancing.json',
      '--metrics',
      METRICS,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    // rebalance_trigger portfolio: quill-press is outside its band, so every allocation moves...
    expect(out).toMatch(
      /quill-press.*increase\s+5\.00% -> 16\.00%.*every allocation to its target: this one is outside its drift band/,
    );
    // ...but min_trade 0.01 stops pixel-forge's half point, and the decreases shrink to match.
    expect(out).toMatch(
      /pixel-forge.*maintain\s+15\.50% -> 15\.50%.*move of 0\.5 points below min_trade 1\.0 points, not made/,
    );
    expect(out).toMatch(/nova-fit.*decrease.*move scaled to 95\.7% to offset the moves below min_trade/);
    expect(out).toMatch(/^Note: rebalance_trigger portfolio: /m);
    expect(out).toMatch(/^Note: drift_type relative: an allocation's drift band is 0\.25 x its target/m);
    expect(out).toMatch(/^Note: min_trade 0\.01: moves under 1\.0 points are not made/m);

    const json = await ballast([
      'plan',
      '--portfolio',
      'examples/portfolios/rebalancing.json',
      '--metrics',
      METRICS,
      '--json',
    ]);
    expect(Math.abs(sumOf(JSON.parse(json.stdout).actions) - 1)).toBeLessThanOrEqual(1e-9);
  });

  it('refuses an unknown rebalancing option value, naming the field and the allowed values', async () => {
    const path = await file(
      'bad-trigger.json',
      portfolioWith((p) => {
        p['rebalance_trigger'] = 'always';
      }),
    );
    expectRefused(
      await ballast(['plan', '--portfolio', path, '--metrics', METRICS]),
      /rebalance_trigger.*unknown rebalance_trigger "always": use one of allocation, portfolio/,
    );
  });

  it('follows the target weights under the custom strategy', async () => {
    const result = await ballast([
      'plan',
      '--portfolio',
      'examples/portfolios/custom.json',
      '--metrics',
      METRICS,
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const quill = (JSON.parse(result.stdout).actions as WireAction[]).find(
      (a) => a.business_id === 'quill-press',
    );
    expect(quill).toMatchObject({ action: 'increase', current_weight: 0.05 });
    expect(quill?.reason).toMatch(/^custom target share/);
  });

  it('mentions metrics entries for businesses outside the portfolio', async () => {
    const extra = metricsWith((m) => {
      m.push({ ...m[0]!, business_id: 'elsewhere' });
    });
    const result = await ballast([
      'plan',
      '--portfolio',
      PORTFOLIO,
      '--metrics',
      await file('extra.json', extra),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^Note: 1 entry of the metrics file is for businesses outside this portfolio/m,
    );
  });
});

describe('ballast plan refuses bad files with exit 1 and one line on stderr', () => {
  const cases: [string, () => Promise<string[]>, RegExp][] = [
    [
      'an unknown strategy',
      async () => [
        await file(
          'strategy.json',
          portfolioWith((p) => (p['strategy'] = 'momentum')),
        ),
        METRICS,
      ],
      /portfolio: strategy: unknown strategy "momentum": use one of equal, performance/,
    ],
    [
      'a weight of 1.5',
      async () => [
        await file(
          'weight.json',
          portfolioWith((p) => (p.allocations['pixel-forge']!['weight'] = 1.5)),
        ),
        METRICS,
      ],
      /weight\.json: invalid portfolio: allocations\.pixel-forge\.weight: Too big/,
    ],
    [
      'weights that do not add up to 1',
      async () => [
        await file(
          'sum.json',
          portfolioWith((p) => (p.allocations['pixel-forge']!['weight'] = 0.3)),
        ),
        METRICS,
      ],
      /weights add up to 1\.15\d*; they must add up to 1/,
    ],
    [
      'a business id with a space',
      async () => [
        await file(
          'space.json',
          portfolioWith((p) => {
            p.businesses[0] = 'harbor coffee';
            p.allocations['harbor coffee'] = p.allocations['harbor-coffee']!;
            delete p.allocations['harbor-coffee'];
          }),
        ),
        METRICS,
      ],
      /business id "harbor coffee" is not valid/,
    ],
    [
      'a portfolio id with a colon',
      async () => [
        await file(
          'colon-id.json',
          portfolioWith((p) => (p['id'] = 'north:star')),
        ),
        METRICS,
      ],
      /invalid portfolio: id: must be 1\.\.64 characters/,
    ],
    [
      'a business listed twice in the portfolio',
      async () => [
        await file(
          'dup-portfolio.json',
          portfolioWith((p) => p.businesses.push('tidy-books')),
        ),
        METRICS,
      ],
      /duplicate business id tidy-books/,
    ],
    [
      'an archived portfolio',
      async () => [
        await file(
          'archived.json',
          portfolioWith((p) => (p['status'] = 'archived')),
        ),
        METRICS,
      ],
      /portfolio north-star is archived/,
    ],
    [
      // Bounds that exclude the weight already: the plan could never hold them (invariant 3).
      'a weight outside its own bounds',
      async () => [
        await file(
          'bounds.json',
          portfolioWith((p) => {
            p.allocations['green-leaf']!['min_weight'] = 0.5;
          }),
        ),
        METRICS,
      ],
      /bounds\.json: invalid portfolio: allocations\.green-leaf\.weight: business green-leaf has weight 0\.2, outside its bounds \[0\.5, 1\]: change the weight or the bounds$/m,
    ],
    [
      'a portfolio that is not valid JSON',
      async () => [await file('broken.json', '{\n  "id": "x",\n  }\n'), METRICS],
      /broken\.json: not valid JSON: .* at line 3 column 3$/m,
    ],
    [
      'an empty portfolio file',
      async () => [await file('empty.json', ''), METRICS],
      /empty\.json: the file is empty/,
    ],
    [
      'a portfolio file that does not exist',
      async () => [join(dir, 'missing.json'), METRICS],
      /missing\.json: cannot read: no such file/,
    ],
    [
      'a metrics file that does not exist',
      async () => [PORTFOLIO, join(dir, 'missing-metrics.json')],
      /missing-metrics\.json: cannot read: no such file/,
    ],
    [
      'revenue "NaN"',
      async () => [
        PORTFOLIO,
        await file(
          'nan-string.json',
          metricsWith((m) => {
            m[1]!['revenue'] = 'NaN';
          }),
        ),
      ],
      /invalid metrics: index 1 \(business_id pixel-forge\): revenue: Invalid input: expected number, received string/,
    ],
    [
      'a NaN literal in NDJSON',
      async () => [
        PORTFOLIO,
        await file(
          'nan.ndjson',
          `${JSON.stringify(exampleMetrics[0])}\n${JSON.stringify(exampleMetrics[1]).replace('420000', 'NaN')}\n`,
        ),
      ],
      /nan\.ndjson: invalid metrics: line 2: not valid JSON: NaN for "revenue" at column \d+ is not a JSON number/,
    ],
    [
      'a health score above 100',
      async () => [
        PORTFOLIO,
        await file(
          'health.json',
          metricsWith((m) => {
            m[2]!['health_score'] = 140;
          }),
        ),
      ],
      /index 2 \(business_id green-leaf\): health_score: Too big/,
    ],
    [
      'a business id listed twice in the metrics',
      async () => [
        PORTFOLIO,
        await file(
          'dup-metrics.json',
          metricsWith((m) => {
            m.push({ ...m[1]! });
          }),
        ),
      ],
      /business_id pixel-forge is listed twice \(index 1 and index 6\)/,
    ],
    [
      'a business id with a colon in the metrics',
      async () => [
        PORTFOLIO,
        await file(
          'colon.json',
          metricsWith((m) => {
            m[0]!['business_id'] = 'acme:1';
          }),
        ),
      ],
      /index 0 \(business_id "acme:1"\): business_id: must be 1\.\.64 characters/,
    ],
    [
      'metrics that are not valid JSON',
      async () => [PORTFOLIO, await file('broken-metrics.json', '[{"business_id": "a",]')],
      /broken-metrics\.json: not valid JSON/,
    ],
    // Before: accepted, every business no-metrics, exit 0.
    [
      'an empty metrics file',
      async () => [PORTFOLIO, await file('empty-metrics.json', '')],
      /empty-metrics\.json: no metrics in the file: it is empty$/m,
    ],
    [
      'an empty metrics array',
      async () => [PORTFOLIO, await file('empty-array.json', '[]')],
      /empty-array\.json: no metrics in the file: the array is empty$/m,
    ],
    [
      // Before: the typos were ignored without a word.
      'unknown fields in the metrics',
      async () => [
        PORTFOLIO,
        await file(
          'typo-metrics.json',
          metricsWith((m) => {
            m[3]!['customer'] = 500;
          }),
        ),
      ],
      /typo-metrics\.json: invalid metrics: index 3 \(business_id tidy-books\): unknown field "customer"$/m,
    ],
    [
      // Before: accepted as the year 58053, which `metrics import` then refused.
      'an as_of in epoch microseconds',
      async () => [
        PORTFOLIO,
        await file(
          'micro-as-of.json',
          metricsWith((m) => {
            m[0]!['as_of'] = 1769824800000000;
          }),
        ),
      ],
      /micro-as-of\.json: invalid metrics: index 0 \(business_id harbor-coffee\): as_of: must be epoch milliseconds from 1970-01-01 to 9999-12-31 \(UTC\), 0 to 253402300799999; got 1769824800000000: microseconds or nanoseconds rather than milliseconds\?$/m,
    ],
    [
      // The http and redis sources read it as UTC; an operator's file says which zone it means.
      'an as_of without a time zone, and a blank name',
      async () => [
        PORTFOLIO,
        await file(
          'zoneless.json',
          metricsWith((m) => {
            m[0]!['as_of'] = '2026-01-31T02:00:00';
            m[1]!['name'] = '';
          }),
        ),
      ],
      /zoneless\.json: invalid metrics: index 0 \(business_id harbor-coffee\): as_of: a timestamp needs a time zone \("Z" or "\+02:00"\); got "2026-01-31T02:00:00"; index 1 \(business_id pixel-forge\): name: must not be empty or only spaces$/m,
    ],
    [
      // Before: "(metrics must be finite numbers)", for a portfolio file.
      'a NaN weight in the portfolio',
      async () => [
        await file(
          'nan-portfolio.json',
          JSON.stringify(examplePortfolio, null, 2).replace('"weight": 0.15', '"weight": NaN'),
        ),
        METRICS,
      ],
      /nan-portfolio\.json: not valid JSON: NaN for "weight" at line \d+ column \d+ is not a JSON number \(numbers must be finite\)$/m,
    ],
    [
      'a portfolio name with a terminal escape',
      async () => [
        await file(
          'escape.json',
          portfolioWith((p) => (p['name'] = 'North\u001b[2J')),
        ),
        METRICS,
      ],
      /escape\.json: invalid portfolio: name: must not contain control characters/,
    ],
    [
      'numeric business ids without a businesses list',
      async () => [
        await file('numeric.json', {
          id: 'n',
          name: 'Numbers',
          owner_id: 'dana',
          allocations: { '10': { weight: 0.5 }, '2': { weight: 0.5 } },
        }),
        METRICS,
      ],
      /numeric\.json: invalid portfolio: businesses: business ids "2", "10" are numbers, .*list the order of the allocations in "businesses"$/m,
    ],
  ];

  it.concurrent.each(cases)('%s', async (_name, paths, pattern) => {
    const [portfolio, metrics] = await paths();
    expectRefused(await ballast(['plan', '--portfolio', portfolio!, '--metrics', metrics!]), pattern);
  });

  it('refuses with --json too, on stderr', async () => {
    const portfolio = await file(
      'json-refused.json',
      portfolioWith((p) => (p['strategy'] = 'momentum')),
    );
    expectRefused(
      await ballast(['plan', '--portfolio', portfolio, '--metrics', METRICS, '--json']),
      /momentum/,
    );
  });

  it('prints the stack trace only with BALLAST_DEBUG=1', async () => {
    const args = ['plan', '--portfolio', join(dir, 'missing.json'), '--metrics', METRICS];
    const result = await ballast(args, { env: { BALLAST_DEBUG: '1' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ballast: .*no such file\n/);
    expect(result.stderr).toContain('    at ');
  });
});

describe('bad usage exits 2', () => {
  it.concurrent.each([
    [
      'a missing --metrics',
      ['plan', '--portfolio', PORTFOLIO],
      /required option '--metrics <file>' not specified/,
    ],
    [
      'an unknown option',
      ['plan', '--portfolio', PORTFOLIO, '--metrics', METRICS, '--nope'],
      /unknown option '--nope'/,
    ],
    ['an unknown command', ['plna'], /unknown command 'plna'[\s\S]*Did you mean plan\?/],
    [
      'an extra argument',
      ['plan', '--portfolio', PORTFOLIO, '--metrics', METRICS, 'extra'],
      /too many arguments/,
    ],
    [
      'both files from stdin',
      ['plan', '--portfolio', '-', '--metrics', '-'],
      /only one of --portfolio and --metrics/,
    ],
    ['no command at all', [], /Usage: ballast/],
  ])('%s', async (_name, args, pattern) => {
    const result = await ballast(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toContain('    at ');
  });
});

describe('help', () => {
  it('prints the commands with --help and exits 0', async () => {
    const result = await ballast(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: ballast/);
    expect(result.stdout).toMatch(/^ {2}plan \[options\]/m);
    expect(result.stderr).toBe('');
  });

  it('documents --json on every command', async () => {
    const result = await ballast(['plan', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--portfolio <file>');
    expect(result.stdout).toContain('--json');
  });
});
