/** `ballast metrics import` into the redis metrics source, in-process against a real Redis. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisMetricsSource } from '../../src/adapters/metrics/redis-metrics-source.js';
import type { App } from '../../src/app.js';
import { runCli } from '../../src/cli/run-cli.js';
import { metricsFromWire, type WireMetrics } from '../../src/domain/index.js';
import { testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { REPO_ROOT } from './cli-process.js';
import { cliContext, runIn } from './in-process.js';

const redis = useRedisPrefix('cli-metrics');
let app: App;
let dir: string;
let example: WireMetrics[];

beforeAll(async () => {
  app = testApp(redis.prefix);
  dir = await mkdtemp(join(tmpdir(), 'ballast-metrics-'));
  example = JSON.parse(await readFile(join(REPO_ROOT, 'examples/metrics.json'), 'utf8'));
});

afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (argv: string[], stdin?: string) =>
  runIn(redis.prefix, argv, stdin === undefined ? {} : { stdin });

/** `run` with BALLAST_METRICS_FILE_MAX_BYTES set. */
async function runCapped(maxBytes: string, argv: string[], stdin?: string) {
  const { ctx, output } = cliContext(redis.prefix, stdin === undefined ? {} : { stdin });
  const env = { ...ctx.env, BALLAST_METRICS_FILE_MAX_BYTES: maxBytes };
  const code = await runCli(argv, { ...ctx, env });
  return { code, ...output() };
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function metric(id: string, extra: Partial<WireMetrics> = {}): WireMetrics {
  return { business_id: id, revenue: 1000, expenses: 800, growth_rate: 3, health_score: 60, ...extra };
}

async function fetchStored(ids: string[]) {
  return createRedisMetricsSource(app.redis, app.keys).fetch(ids);
}

describe('metrics import', () => {
  it('imports a JSON array: the redis source then answers every business', async () => {
    const result = await run(['metrics', 'import', join(REPO_ROOT, 'examples/metrics.json')]);
    expect(result).toMatchObject({ code: 0, stdout: `imported ${example.length} businesses\n` });
    const ids = example.map((m) => m.business_id);
    // No portfolio in this prefix, and the example's as_of is old by the pinned clock: warnings only.
    expect(result.stderr).toMatch(/^warning: harbor-coffee: not-in-portfolio: /);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe('(--strict refuses such files)');
    const { metrics, missing } = await fetchStored(ids);
    expect(missing.size).toBe(0);
    for (const entry of example) expect(metrics.get(entry.business_id)).toEqual(metricsFromWire(entry));
  });

  it('imports NDJSON from standard input, replacing what was stored, and prints JSON', async () => {
    const ndjson = `${JSON.stringify(metric('nd-1'))}\n\n${JSON.stringify(metric('nd-2', { name: 'Two' }))}\n`;
    const first = await run(['metrics', 'import', '-', '--json'], ndjson);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      imported: 2,
      business_ids: ['nd-1', 'nd-2'],
      warnings: ['nd-1', 'nd-2'].map((id) => ({
        business_id: id,
        check: 'not-in-portfolio',
        detail: 'no portfolio holds this business',
      })),
    });

    // A re-import replaces every field: the old name does not survive.
    const second = await run(['metrics', 'import', '-'], JSON.stringify(metric('nd-2', { revenue: 5 })));
    expect(second.stdout).toBe('imported 1 business\n');
    const { metrics } = await fetchStored(['nd-2']);
    expect(metrics.get('nd-2')).toEqual(metricsFromWire(metric('nd-2', { revenue: 5 })));
  });

  it('refuses a file with an invalid entry, naming the entry and the field, and writes nothing', async () => {
    await run(['metrics', 'import', '-'], JSON.stringify([metric('keep', { revenue: 111 })]));
    const bad = await file(
      'bad.json',
      JSON.stringify([
        metric('keep', { revenue: 999 }),
        metric('fresh'),
        metric('broken', { health_score: 150 }),
      ]),
    );
    const result = await run(['metrics', 'import', bad]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^ballast: .*bad\.json: invalid metrics: index 2 \(business_id broken\): health_score/,
    );
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);

    const { metrics, missing } = await fetchStored(['keep', 'fresh', 'broken']);
    expect(metrics.get('keep')?.revenue).toBe(111);
    expect(missing.has('fresh')).toBe(true);
    expect(missing.has('broken')).toBe(true);
  });

  it('refuses bad NDJSON lines, duplicates, empty and missing files', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'lines.ndjson',
        `${JSON.stringify(metric('l-1'))}\n{"business_id": "l-2",\n`,
        /line 2: not valid JSON/,
      ],
      [
        'text.ndjson',
        `${JSON.stringify(metric('t-0'))}\n${JSON.stringify(metric('t-1', { revenue: 'lots' as unknown as number }))}\n`,
        /line 2 \(business_id t-1\): revenue/,
      ],
      ['dup.json', JSON.stringify([metric('d-1'), metric('d-1')]), /business_id d-1 is listed twice/],
      ['badid.json', JSON.stringify([metric('a:b')]), /index 0 \(business_id "a:b"\): business_id/],
      ['empty.json', '', /empty\.json: no metrics in the file: it is empty/],
      ['empty-array.json', '[]', /empty-array\.json: no metrics in the file: the array is empty/],
      [
        'typo.json',
        JSON.stringify([{ ...metric('ty-1'), customer: 5 }]),
        /index 0 \(business_id ty-1\): unknown field "customer"/,
      ],
    ];
    for (const [name, text, message] of cases) {
      const result = await run(['metrics', 'import', await file(name, text)]);
      expect(result.code, name).toBe(1);
      expect(result.stderr, name).toMatch(message);
      expect(result.stdout, name).toBe('');
    }
    const missingFile = await run(['metrics', 'import', join(dir, 'nope.json')]);
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toMatch(/nope\.json: cannot read: no such file/);
    const { metrics } = await fetchStored(['l-1', 't-0', 't-1', 'd-1']);
    expect(metrics.size).toBe(0);
  });

  it('accepts what plan accepts, and refuses what plan refuses with the same message', async () => {
    // Before the fix plan took an as_of in microseconds (the year 58053) and import refused it.
    const portfolio = join(REPO_ROOT, 'examples/portfolio.json');
    const micro = await file(
      'micro.json',
      JSON.stringify([metric('harbor-coffee', { as_of: 1769824800000000 })]),
    );
    const planned = await run(['plan', '--portfolio', portfolio, '--metrics', micro]);
    const imported = await run(['metrics', 'import', micro]);
    expect(planned.code).toBe(1);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toMatch(/as_of: must be epoch milliseconds .*got 1769824800000000: microseconds/);
    expect(imported.stderr).toBe(planned.stderr);

    const millis = await file(
      'millis.json',
      JSON.stringify([metric('harbor-coffee', { as_of: 1769824800000 })]),
    );
    expect((await run(['plan', '--portfolio', portfolio, '--metrics', millis])).code).toBe(0);
    expect((await run(['metrics', 'import', millis])).code).toBe(0);
    const { metrics } = await fetchStored(['harbor-coffee']);
    expect(metrics.get('harbor-coffee')?.asOf).toBe('2026-01-31T02:00:00.000Z');
  });

  it('refuses a file over BALLAST_METRICS_FILE_MAX_BYTES before reading it: exit 1, nothing written', async () => {
    const text = `${JSON.stringify(metric('cap-1'))}\n${JSON.stringify(metric('cap-2'))}\n`;
    const size = Buffer.byteLength(text);
    const path = await file('capped.ndjson', text);
    const result = await runCapped('100', ['metrics', 'import', path]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `ballast: ${path}: too large (${size} bytes, over the limit of 100 bytes set by BALLAST_METRICS_FILE_MAX_BYTES)\n`,
    });
    // Standard input is counted as it comes; the limit takes binary units.
    const piped = await runCapped('1KiB', ['metrics', 'import', '-'], text.repeat(10));
    expect(piped.code).toBe(1);
    expect(piped.stderr).toMatch(
      /<stdin>: too large \(over the limit of 1024 bytes set by BALLAST_METRICS_FILE_MAX_BYTES\)/,
    );
    expect((await fetchStored(['cap-1', 'cap-2'])).metrics.size).toBe(0);
    // Under the limit, the same file is imported.
    expect((await runCapped(String(size), ['metrics', 'import', path])).code).toBe(0);
    expect((await fetchStored(['cap-1', 'cap-2'])).metrics.size).toBe(2);
  });

  it('refuses a limit that is not a size, naming the variable', async () => {
    const result = await runCapped('16MB', ['metrics', 'import', join(REPO_ROOT, 'examples/metrics.json')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /BALLAST_METRICS_FILE_MAX_BYTES: must be a size in bytes such as 16777216 or 16MiB/,
    );
  });

  it('imports a 50,000-line NDJSON file, read line by line', async () => {
    const count = 50_000;
    const lines = Array.from({ length: count }, (_, i) =>
      JSON.stringify(metric(`many-${i}`, { revenue: i })),
    );
    const path = await file('many.ndjson', `${lines.join('\n')}\n`);
    const result = await run(['metrics', 'import', '--json', path]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { imported: number; business_ids: string[] };
    expect(out.imported).toBe(count);
    expect(out.business_ids.at(-1)).toBe(`many-${count - 1}`);
    const { metrics, missing } = await fetchStored(['many-0', `many-${count - 1}`]);
    expect(missing.size).toBe(0);
    expect(metrics.get(`many-${count - 1}`)?.revenue).toBe(count - 1);
  }, 180_000);

  it('is bad usage without a file', async () => {
    const result = await run(['metrics', 'import']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing required argument 'file'/);
  });
});
