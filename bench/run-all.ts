/**
 * `npm run bench`: every bench in sequence (each in its own process, output shown as it runs),
 * then one summary table against SPEC section 5's targets, written with every detail to
 * bench/results.json. Options: --only steps,recommend,pipeline,fanout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/runtime/package-root.js';
import type { FanoutResult } from './fanout.js';
import type { StepsResult } from './job-steps.js';
import { machine } from './lib/proc.js';
import { fmt, formatTable } from './lib/table.js';
import type { PipelineResult } from './pipeline.js';
import type { SketchResult } from './recommend-vs-sketch.js';

const BENCHES = {
  steps: 'job-steps.js',
  recommend: 'recommend-vs-sketch.js',
  pipeline: 'pipeline.js',
  fanout: 'fanout.js',
} as const;
type BenchName = keyof typeof BENCHES;

interface SummaryRow {
  readonly measure: string;
  readonly value: string;
  readonly target: string;
  /** PASS, FAIL, or '' for a figure without a target. */
  readonly status: string;
}

function runBench(name: BenchName, dir: string): { result: unknown; seconds: number; error: string | null } {
  const out = join(dir, `${name}.json`);
  const script = join(packageRoot(), 'dist', 'bench', BENCHES[name]);
  console.log(`\n=== ${name}: node ${script}\n`);
  const started = performance.now();
  const run = spawnSync(process.execPath, [script, '--out', out], { stdio: 'inherit' });
  const seconds = (performance.now() - started) / 1000;
  if (!existsSync(out)) {
    return { result: null, seconds, error: `exited with ${run.status ?? run.signal} and wrote no result` };
  }
  return { result: JSON.parse(readFileSync(out, 'utf8')), seconds, error: null };
}

const status = (pass: boolean | null | undefined): string => (pass == null ? '' : pass ? 'PASS' : 'FAIL');

function summarise(
  steps: StepsResult | null,
  recommend: SketchResult | null,
  pipeline: PipelineResult | null,
  fanout: FanoutResult | null,
): SummaryRow[] {
  const rows: SummaryRow[] = [];
  if (steps) {
    rows.push({
      measure: "a recalculate job's own CPU steps, in-process (decode, run, report, encode)",
      value: `${Math.round(steps.totalMicros)} µs`,
      target: '',
      status: '',
    });
  }
  if (recommend) {
    const at = (n: number) => recommend.rows.find((r) => r.n === n);
    for (const r of recommend.rows) {
      rows.push({
        measure: `recommend, ${fmt.int(r.n)} businesses (sketch: ${r.sketchMs === null ? '-' : `${fmt.int(r.sketchMs)} ms, ${r.speedup!.toFixed(1)}x`})`,
        value: `${r.ballastMs.toFixed(2)} ms (min ${r.ballastMinMs.toFixed(2)})`,
        target: r.n === 100_000 ? `< ${recommend.targets.ms100k.target} ms` : '',
        status: r.n === 100_000 ? status(recommend.targets.ms100k.pass) : '',
      });
    }
    if (at(100_000)?.speedup != null) {
      rows.push({
        measure: "recommend speed-up over the sketch's Python, 100,000",
        value: `${at(100_000)!.speedup!.toFixed(1)}x`,
        target: `>= ${recommend.targets.speedup100k.target}x`,
        status: status(recommend.targets.speedup100k.pass),
      });
    }
  }
  if (pipeline) {
    for (const source of ['redis', 'http'] as const) {
      const best = pipeline.best[source];
      if (!best) continue;
      rows.push({
        measure: `pipeline, ${source} metrics, best c=${best.concurrency}: portfolios/s (no-op BullMQ: ${fmt.int(best.baselineJobsPerSecond)} jobs/s)`,
        value: fmt.int(best.portfoliosPerSecond),
        target: '',
        status: '',
      });
      rows.push({
        measure: `pipeline / no-op throughput ratio, ${source} metrics`,
        value: best.ratio.toFixed(2),
        target: `>= ${pipeline.targets.ratio.target}`,
        status: status(best.ratio >= pipeline.targets.ratio.target),
      });
    }
    const t = pipeline.targets;
    rows.push({
      measure: 'worker RSS peak, every pipeline pass',
      value: `${t.rssMb.value.toFixed(1)} MB`,
      target: `< ${t.rssMb.target} MB`,
      status: status(t.rssMb.pass),
    });
    if (pipeline.variant) {
      const v = pipeline.variant;
      rows.push({
        measure: `  with node ${v.nodeArgs} (c=${v.concurrency}, redis: ${fmt.int(v.portfoliosPerSecond)} portfolios/s, ratio ${v.ratio.toFixed(2)})`,
        value: `${v.rssPeakMb.toFixed(1)} MB`,
        target: `< ${t.rssMb.target} MB`,
        status: status(v.rssPeakMb < t.rssMb.target),
      });
    }
    rows.push({
      measure: "Redis commands sent per recalculation, apart from BullMQ's",
      value: t.commands.value === null ? '-' : t.commands.value.toFixed(2),
      target: `<= ${t.commands.target}`,
      status: status(t.commands.pass),
    });
    const main = pipeline.best.redis ?? pipeline.best.http;
    if (main) {
      rows.push({
        measure: '  the same, as executed by Redis (commit script included)',
        value: main.commandsExecutedPerRecalculation.toFixed(2),
        target: '',
        status: '',
      });
    }
    rows.push({
      measure: 'metrics-source calls per distinct business per run',
      value: t.metricsCalls.value === null ? '-' : t.metricsCalls.value.toFixed(2),
      target: `${t.metricsCalls.target}`,
      status: status(t.metricsCalls.pass),
    });
  }
  if (fanout) {
    const half = fanout.portfolios / 2;
    const peak = (points: typeof fanout.series) => Math.max(0, ...points.map((p) => p.rssMb));
    const first = peak(fanout.series.filter((p) => p.enqueued <= half));
    const second = peak(fanout.series.filter((p) => p.enqueued > half));
    rows.push({
      measure: `fan-out of ${fmt.int(fanout.portfolios)} portfolios (${fmt.int(fanout.jobsPerSecond)} jobs/s)`,
      value: `${fanout.fanOutSeconds.toFixed(2)} s`,
      target: '',
      status: '',
    });
    rows.push({
      measure: `fan-out worker RSS start / peak / end (peak 1st half ${first.toFixed(0)}, 2nd half ${second.toFixed(0)})`,
      value: `${fanout.rssStartMb.toFixed(0)} / ${fanout.rssPeakMb.toFixed(0)} / ${fanout.rssEndMb.toFixed(0)} MB`,
      target: 'flat',
      // Flat: the second half of the fan-out peaks no higher than the first (10% for GC timing).
      status: status(second <= first * 1.1),
    });
  }
  return rows;
}

function main(): void {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    console.log(
      `usage: node dist/bench/run-all.js [--only ${Object.keys(BENCHES).join(',')}]\n` +
        'Runs the benches in sequence, prints one summary table and writes bench/results.json.',
    );
    return;
  }
  const names = (values.only ? values.only.split(',') : Object.keys(BENCHES)) as BenchName[];
  for (const name of names) if (!(name in BENCHES)) throw new Error(`unknown bench ${name}`);
  const dir = mkdtempSync(join(tmpdir(), 'ballast-bench-results-'));
  const started = new Date();
  // What was measured: the commit, and whether src/ or jobs/ had uncommitted changes when the run starts.
  const git = (args: string[]) =>
    spawnSync('git', args, { encoding: 'utf8', cwd: packageRoot() }).stdout?.trim() ?? '';
  const head = git(['rev-parse', '--short', 'HEAD']);
  // Outside a git checkout (an exported tree), BENCH_COMMIT says what it is.
  const commit = head
    ? `${head}${git(['status', '--porcelain', '--', 'src', 'jobs']) ? ' (src/jobs modified)' : ''}`
    : (process.env.BENCH_COMMIT ?? 'unknown');
  const loadStart = loadavg()[0]!;
  const results: Partial<Record<BenchName, unknown>> = {};
  const errors: string[] = [];
  const seconds: Partial<Record<BenchName, number>> = {};
  try {
    for (const name of names) {
      const run = runBench(name, dir);
      seconds[name] = Math.round(run.seconds);
      if (run.error) errors.push(`${name}: ${run.error}`);
      else results[name] = run.result;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = summarise(
    (results.steps as StepsResult | undefined) ?? null,
    (results.recommend as SketchResult | undefined) ?? null,
    (results.pipeline as PipelineResult | undefined) ?? null,
    (results.fanout as FanoutResult | undefined) ?? null,
  );
  const m = machine();
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? null;
  const header =
    `Ballast benchmarks, ${started.toISOString()}: ${m.nproc} CPUs (${m.cpu}), ${m.memTotal}, node ${m.node}` +
    `${redis ? `, ${redis.split(' ').slice(0, 3).join(' ')}` : ''}; commit ${commit}; load average ${loadStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`;
  const table = formatTable(
    [
      { header: 'measure', value: (r: SummaryRow) => r.measure },
      { header: 'value', value: (r) => r.value, align: 'right' },
      { header: 'target', value: (r) => r.target },
      { header: 'status', value: (r) => r.status },
    ],
    rows,
  );
  console.log(`\n=== summary\n\n${header}\n\n${table}`);
  for (const e of errors) console.log(`ERROR ${e}`);
  const failed = rows.filter((r) => r.status === 'FAIL').map((r) => r.measure.trim());
  if (failed.length > 0) console.log(`\nTargets not met: ${failed.join('; ')}`);
  const file = join(packageRoot(), 'bench', 'results.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: started.toISOString(),
        commit,
        machine: { ...m, redis, loadAverage: [loadStart, loadavg()[0]] },
        seconds,
        summary: rows,
        errors,
        ...results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${file}`);
  // A target not met is a result, not an error; a bench that crashed is.
  if (errors.length > 0) process.exitCode = 1;
}

main();
