/**
 * recommend() against the sketch's Python `recommend_rebalance` on the same inputs, in the same
 * run (issue 6, item 3; SPEC section 5: under 50 ms at 100k businesses and at least 10x faster).
 * Run with `npm run bench:sketch` (options: --help).
 *
 * The sketch's code is not part of Ballast: at bench time its models and manager are extracted
 * from the plan's markdown (../shared/seed/portfolio-plan.md, or BENCH_SKETCH) into a temporary
 * directory, at the paths the plan gives them, with a stub for the one helper it imports
 * (src.utils.logging.get_logger); bench/sketch_harness.py imports them from there unchanged.
 *
 * Inputs: bench/recommend.ts's performance cases (seeded; ~5% locked, ~5% bounded, ~2% without
 * metrics), written as TSV for the harness. The sketch knows no bounds, turnover cap or missing
 * metrics (it invents mock metrics for a business it has no data for), so it does less work per
 * business than Ballast; it gets the same businesses, weights, locks, priorities and metrics.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractSketch, harnessPath, pythonVersion, sketchSource, writeCaseTsv } from './lib/sketch.js';
import { fmt, formatTable } from './lib/table.js';
import { buildCase, measure, SEED } from './recommend.js';

const TARGET_N = 100_000;
const TARGET_MS = 50;
const TARGET_SPEEDUP = 10;
const SIZES = [1_000, 10_000, 100_000, 1_000_000];

export interface SketchRow {
  readonly n: number;
  readonly ballastMs: number;
  readonly ballastMinMs: number;
  readonly ballastRuns: number;
  readonly sketchMs: number | null;
  readonly sketchMinMs: number | null;
  readonly sketchRuns: number | null;
  readonly speedup: number | null;
  readonly ballastActions: Readonly<Record<string, number>>;
  readonly sketchActions: Readonly<Record<string, number>> | null;
}

export interface SketchResult {
  readonly bench: 'recommend';
  readonly date: string;
  readonly python: string | null;
  readonly sketchSource: string | null;
  readonly rows: readonly SketchRow[];
  readonly targets: {
    readonly ms100k: { target: number; value: number | null; pass: boolean };
    readonly speedup100k: { target: number; value: number | null; pass: boolean | null };
  };
}

interface SketchTiming {
  median_ms: number;
  min_ms: number;
  runs: number;
  actions: Record<string, number>;
}

function runSketch(sketchDir: string, tsv: string, warmups: number, runs: number): SketchTiming {
  const r = spawnSync('python3', [harnessPath(), sketchDir, tsv, String(warmups), String(runs)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`the sketch harness failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as SketchTiming;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      'no-sketch': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node dist/bench/recommend-vs-sketch.js [--sizes 1000,10000,100000,1000000] [--no-sketch] [--out file.json]\n' +
        'The sketch: BENCH_SKETCH, else ../shared/seed/portfolio-plan.md next to the package; python3 on PATH.',
    );
    return;
  }
  const sizes = values.sizes ? values.sizes.split(',').map(Number) : SIZES;
  const python = values['no-sketch'] ? null : pythonVersion();
  const source = values['no-sketch'] ? { path: null, why: null } : sketchSource(python);
  if (source.why) console.log(source.why);
  console.log(
    `recommend() vs the sketch's recommend_rebalance, performance strategy, seed ${SEED}; node ${process.version}` +
      (python ? `, ${python}` : ''),
  );

  const sketchDir = source.path ? extractSketch(source.path) : null;
  const rows: SketchRow[] = [];
  try {
    for (const n of sizes) {
      const c = buildCase(n, 'performance', SEED + n);
      const big = n >= 1_000_000;
      const ballast = measure('performance', c, big ? 1 : 3, big ? 3 : 7);
      let sketch: SketchTiming | null = null;
      if (sketchDir) {
        const tsv = join(sketchDir, `case-${n}.tsv`);
        writeCaseTsv(c.portfolio, c.metrics, tsv);
        // The sketch takes ~7 ms per 1,000 businesses: fewer runs for the large sizes.
        sketch = runSketch(sketchDir, tsv, big ? 0 : 1, n >= 100_000 ? (big ? 1 : 3) : 7);
        rmSync(tsv, { force: true });
      }
      const row: SketchRow = {
        n,
        ballastMs: ballast.medianMs,
        ballastMinMs: ballast.minMs,
        ballastRuns: ballast.runs,
        sketchMs: sketch?.median_ms ?? null,
        sketchMinMs: sketch?.min_ms ?? null,
        sketchRuns: sketch?.runs ?? null,
        speedup: sketch ? sketch.median_ms / ballast.medianMs : null,
        ballastActions: ballast.actions,
        sketchActions: sketch?.actions ?? null,
      };
      rows.push(row);
      console.log(
        `n=${fmt.int(n)}: Ballast ${row.ballastMs.toFixed(2)} ms` +
          (row.sketchMs === null
            ? ''
            : `, sketch ${row.sketchMs.toFixed(1)} ms, ${row.speedup!.toFixed(1)}x`),
      );
    }
  } finally {
    if (sketchDir) rmSync(sketchDir, { recursive: true, force: true });
  }

  const at = rows.find((r) => r.n === TARGET_N);
  const result: SketchResult = {
    bench: 'recommend',
    date: new Date().toISOString(),
    python,
    sketchSource: source.path,
    rows,
    targets: {
      ms100k: {
        target: TARGET_MS,
        value: at?.ballastMs ?? null,
        pass: (at?.ballastMs ?? Infinity) < TARGET_MS,
      },
      speedup100k: {
        target: TARGET_SPEEDUP,
        value: at?.speedup ?? null,
        pass: at?.speedup == null ? null : at.speedup >= TARGET_SPEEDUP,
      },
    },
  };
  console.log(`\n${report(result)}`);
  if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
}

function report(r: SketchResult): string {
  const actions = (a: Readonly<Record<string, number>> | null) =>
    a
      ? Object.entries(a)
          .sort()
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')
      : '-';
  const table = formatTable(
    [
      { header: 'businesses', value: (x: SketchRow) => fmt.int(x.n), align: 'right' },
      { header: 'Ballast ms', value: (x) => x.ballastMs.toFixed(2), align: 'right' },
      {
        header: 'sketch ms',
        value: (x) => (x.sketchMs === null ? '-' : x.sketchMs.toFixed(1)),
        align: 'right',
      },
      {
        header: 'speed-up',
        value: (x) => (x.speedup === null ? '-' : `${x.speedup.toFixed(1)}x`),
        align: 'right',
      },
      { header: 'Ballast actions', value: (x) => actions(x.ballastActions) },
      { header: 'sketch actions', value: (x) => actions(x.sketchActions) },
    ],
    r.rows,
  );
  const t = r.targets;
  const lines = [
    table,
    `${t.ms100k.pass ? 'PASS' : 'FAIL'}: recommend at ${fmt.int(TARGET_N)} businesses ${t.ms100k.value?.toFixed(2)} ms (target < ${t.ms100k.target} ms)`,
  ];
  if (t.speedup100k.pass !== null) {
    lines.push(
      `${t.speedup100k.pass ? 'PASS' : 'FAIL'}: ${t.speedup100k.value?.toFixed(1)}x faster than the sketch at ${fmt.int(TARGET_N)} (target >= ${t.speedup100k.target}x)`,
    );
  }
  return lines.join('\n');
}

await main();
