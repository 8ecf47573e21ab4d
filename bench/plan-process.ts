/**
 * `ballast plan` as a whole process (issue 15): `node bin/ballast.js plan` on a portfolio of
 * 100,000 businesses and a metrics file of as many (NDJSON), printing the text report to a file,
 * against the sketch's Python manager as a whole process (`python3 bench/sketch_harness.py`: start,
 * read the same businesses, weights, locks, priorities and metrics from TSV, one
 * recommend_rebalance) on the same data. Best of N runs each (they take turns, so a change in the
 * machine's load falls on both), peak RSS from /proc (VmHWM), the load average, and the ratio
 * against the target of 4x. `--json` is timed too, beside the comparison.
 *
 * The data come from bench/lib/dataset.ts's seeded generators (names, stages, as_of of now): the
 * portfolio draws its businesses from 2% more than the metrics file has, so ~2% of it has no
 * metrics and ~2% of the file is for businesses outside it. `--dir` keeps the files (and the
 * outputs of the last runs) for a later run or a diff; an existing dataset there is reused.
 * `--profile` runs plan once more under `node --cpu-prof` and prints the top of its profile.
 * Run with `npm run bench:plan` (options: --help).
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { metricsToWire, type Portfolio } from '../src/domain/index.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { summariseProfile } from './lib/cpuprofile.js';
import { makeMetrics, makePortfolio } from './lib/dataset.js';
import { procStatusBytes } from './lib/proc.js';
import { extractSketch, harnessPath, pythonVersion, sketchSource, writeCaseTsv } from './lib/sketch.js';
import { fmt, formatTable } from './lib/table.js';

const TARGET_RATIO = 4;
const SEED = 20_261_204;

interface Timing {
  readonly ms: number;
  readonly peakRss: number | null;
}

interface Row {
  readonly what: string;
  readonly runs: readonly Timing[];
  readonly best: Timing;
}

export interface PlanProcessResult {
  readonly bench: 'plan-process';
  readonly date: string;
  readonly businesses: number;
  readonly files: { portfolioBytes: number; metricsBytes: number; textBytes: number; jsonBytes: number };
  readonly load: { before: string; after: string };
  readonly rows: readonly Row[];
  readonly ratio: number | null;
  readonly target: { ratio: number; pass: boolean | null };
}

/** The portfolio as an operator would hand it to plan: derived and empty fields left out. */
function portfolioWire(p: Portfolio): unknown {
  const allocations: Record<string, unknown> = {};
  for (const a of p.allocations) {
    allocations[a.businessId] = {
      weight: a.weight,
      priority: a.priority,
      ...(a.locked ? { locked: true } : {}),
      ...(a.minWeight !== undefined ? { min_weight: a.minWeight } : {}),
      ...(a.maxWeight !== undefined ? { max_weight: a.maxWeight } : {}),
    };
  }
  return {
    id: p.id,
    name: p.name,
    owner_id: p.ownerId,
    strategy: p.strategy,
    total_budget: p.totalBudget,
    target_roi: p.targetRoi,
    drift_threshold: p.driftThreshold,
    max_turnover: p.maxTurnover ?? null,
    businesses: p.allocations.map((a) => a.businessId),
    allocations,
  };
}

interface Dataset {
  readonly portfolio: string;
  readonly metrics: string;
  readonly tsv: string;
}

function writeDataset(dir: string, n: number): Dataset {
  const files = {
    portfolio: join(dir, `portfolio-${n}.json`),
    metrics: join(dir, `metrics-${n}.ndjson`),
    tsv: join(dir, `sketch-${n}.tsv`),
  };
  if (Object.values(files).every((f) => existsSync(f))) {
    console.log(`reusing the dataset in ${dir}`);
    return files;
  }
  const metrics = makeMetrics(n, SEED);
  const base = makePortfolio(0, n, Math.round(n * 1.02), SEED);
  // The performance strategy, the sketch's one; a drift band a quarter of the average weight
  // (as bench/recommend.ts), so that the actions are a mix rather than all "maintain".
  const portfolio: Portfolio = {
    ...base,
    strategy: 'performance',
    driftThreshold: 0.25 / n,
    allocations: base.allocations.map((a) => ({ ...a, targetWeight: undefined })),
  };
  writeFileSync(files.metrics, `${metrics.map((m) => JSON.stringify(metricsToWire(m))).join('\n')}\n`);
  writeFileSync(files.portfolio, JSON.stringify(portfolioWire(portfolio)));
  writeCaseTsv(portfolio, new Map(metrics.map((m) => [m.businessId, m])), files.tsv);
  return files;
}

/** One whole process: wall time from spawn to exit, and its peak RSS as last seen in /proc. */
function timeProcess(command: string, args: readonly string[], stdoutFile: string): Promise<Timing> {
  const fd = openSync(stdoutFile, 'w');
  const errFile = `${stdoutFile}.stderr`;
  const errFd = openSync(errFile, 'w');
  const start = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', fd, errFd] });
  closeSync(fd);
  closeSync(errFd);
  let peak: number | null = null;
  // VmHWM is the peak so far: the last reading before the exit is the process's peak (unless
  // it peaks in its last few milliseconds).
  const poll = setInterval(() => {
    peak = procStatusBytes(child.pid!, 'VmHWM') ?? peak;
  }, 5);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      const ms = performance.now() - start;
      clearInterval(poll);
      if (code !== 0)
        reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}; see ${errFile}`));
      else resolve({ ms, peakRss: peak });
    });
  });
}

function load(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
}

const bestOf = (runs: readonly Timing[]): Timing => runs.reduce((a, b) => (b.ms < a.ms ? b : a));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      businesses: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '3' },
      dir: { type: 'string' },
      'no-sketch': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node dist/bench/plan-process.js [--businesses 100000] [--runs 3] [--dir DIR] [--no-sketch] [--profile] [--out file.json]\n' +
        'The sketch: BENCH_SKETCH, else ../shared/seed/portfolio-plan.md next to the package; python3 on PATH.',
    );
    return;
  }
  const n = Number(values.businesses);
  const runs = Number(values.runs);
  const python = values['no-sketch'] ? null : pythonVersion();
  const source = values['no-sketch'] ? { path: null, why: null } : sketchSource(python);
  if (source.why) console.log(source.why);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'ballast-plan-bench-'));
  mkdirSync(dir, { recursive: true });
  const sketchDir = source.path ? extractSketch(source.path) : null;
  try {
    const data = writeDataset(dir, n);
    const bin = join(packageRoot(), 'bin', 'ballast.js');
    const plan = [bin, 'plan', '--portfolio', data.portfolio, '--metrics', data.metrics];
    const cases: [string, () => Promise<Timing>][] = [
      ['ballast plan (text)', () => timeProcess(process.execPath, plan, join(dir, 'plan.txt'))],
      [
        'ballast plan --json',
        () => timeProcess(process.execPath, [...plan, '--json'], join(dir, 'plan.json')),
      ],
    ];
    if (sketchDir) {
      cases.push([
        "the sketch's manager (python3 sketch_harness.py)",
        () => timeProcess('python3', [harnessPath(), sketchDir, data.tsv, '0', '1'], join(dir, 'sketch.out')),
      ]);
    }
    console.log(
      `plan at ${fmt.int(n)} businesses: ${cases.length} cases, ${runs} runs each, taking turns; node ${process.version}` +
        (python ? `, ${python}` : ''),
    );
    const loadBefore = load();
    const took: Timing[][] = cases.map(() => []);
    for (let i = 0; i < runs; i++) {
      for (const [c, [, run]] of cases.entries()) took[c]!.push(await run());
    }
    const rows: Row[] = cases.map(([what], c) => ({ what, runs: took[c]!, best: bestOf(took[c]!) }));
    const sketch = sketchDir ? rows[2]!.best.ms : null;
    const ratio = sketch === null ? null : sketch / rows[0]!.best.ms;
    const result: PlanProcessResult = {
      bench: 'plan-process',
      date: new Date().toISOString(),
      businesses: n,
      files: {
        portfolioBytes: statSync(data.portfolio).size,
        metricsBytes: statSync(data.metrics).size,
        textBytes: statSync(join(dir, 'plan.txt')).size,
        jsonBytes: statSync(join(dir, 'plan.json')).size,
      },
      load: { before: loadBefore, after: load() },
      rows,
      ratio,
      target: { ratio: TARGET_RATIO, pass: ratio === null ? null : ratio >= TARGET_RATIO },
    };
    console.log(report(result));
    if (values.profile) await profile(plan, dir);
    if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    if (sketchDir) rmSync(sketchDir, { recursive: true, force: true });
    if (!values.dir) rmSync(dir, { recursive: true, force: true });
  }
}

function report(r: PlanProcessResult): string {
  const f = r.files;
  const lines = [
    `files: portfolio ${fmt.mb(f.portfolioBytes)}, metrics ${fmt.mb(f.metricsBytes)} (NDJSON); output: text ${fmt.mb(f.textBytes)}, --json ${fmt.mb(f.jsonBytes)}`,
    `load average (1, 5, 15 min) ${r.load.before} before, ${r.load.after} after (2 CPUs shared)`,
    formatTable(
      [
        { header: 'process', value: (x: Row) => x.what },
        { header: 'best ms', value: (x) => fmt.fixed(x.best.ms, 0), align: 'right' },
        { header: 'runs ms', value: (x) => x.runs.map((t) => fmt.fixed(t.ms, 0)).join(' ') },
        {
          header: 'peak RSS',
          value: (x) =>
            x.best.peakRss === null ? '-' : fmt.mb(Math.max(...x.runs.map((t) => t.peakRss ?? 0))),
          align: 'right',
        },
      ],
      r.rows,
    ),
  ];
  if (r.ratio !== null) {
    lines.push(
      `${r.target.pass ? 'PASS' : 'FAIL'}: plan (text) is ${r.ratio.toFixed(2)}x the sketch's speed (target >= ${r.target.ratio}x, ${fmt.fixed(r.rows[2]!.best.ms / r.target.ratio, 0)} ms)`,
    );
  }
  return lines.join('\n');
}

/** One more text run under --cpu-prof: the top of its self time. */
async function profile(plan: readonly string[], dir: string): Promise<void> {
  const profDir = join(dir, 'cpuprof');
  rmSync(profDir, { recursive: true, force: true });
  await timeProcess(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...plan],
    join(dir, 'plan-profiled.txt'),
  );
  const file = readdirSync(profDir).find((name) => name.endsWith('.cpuprofile'));
  if (file) {
    const summary = summariseProfile(join(profDir, file), 25);
    console.log(`\nnode --cpu-prof, busy ${fmt.fixed(summary.busyMs, 0)} ms (${join(profDir, file)}):`);
    for (const e of summary.functions) console.log(`  ${fmt.fixed(e.ms, 0).padStart(6)} ms  ${e.name}`);
    console.log('by area:');
    for (const e of summary.areas.slice(0, 12))
      console.log(`  ${fmt.fixed(e.ms, 0).padStart(6)} ms  ${e.name}`);
  }
}

await main();
