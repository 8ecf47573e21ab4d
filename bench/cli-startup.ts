/**
 * CLI start-up (issue 15): `ballast --version` and `ballast --help` as whole processes, best and
 * median of N runs each, against `node -e 0` measured in the same run (what no code of ours can go
 * below). Target: under 120 ms. A command's own --help loads that command's module only: `worker`
 * has a light one, `plan` and `portfolio` load zod and the domain. The cases take turns, run by
 * run, so a change in the machine's load falls on all of them alike; the load average is printed.
 * Run with `npm run bench:startup` (options: --runs N).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/runtime/package-root.js';
import { fmt, formatTable } from './lib/table.js';

const TARGET_MS = 120;

interface Row {
  readonly what: string;
  readonly bestMs: number;
  readonly medianMs: number;
  readonly target: boolean;
}

function run(args: readonly string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const took = performance.now() - start;
  if (result.status !== 0)
    throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return took;
}

function load(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
}

function main(): void {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' } } });
  const runs = Number(values.runs);
  const bin = join(packageRoot(), 'bin', 'ballast.js');
  const cases: [string, string[], boolean][] = [
    ['node -e 0 (the floor)', ['-e', '0'], false],
    ['ballast --version', [bin, '--version'], true],
    ['ballast --help', [bin, '--help'], true],
    ['ballast worker --help', [bin, 'worker', '--help'], false],
    ['ballast plan --help', [bin, 'plan', '--help'], false],
    ['ballast portfolio --help', [bin, 'portfolio', '--help'], false],
  ];
  const took: number[][] = cases.map(() => []);
  const loadBefore = load();
  for (let i = 0; i < runs; i++) {
    for (const [c, [, args]] of cases.entries()) took[c]!.push(run(args));
  }
  const rows: Row[] = cases.map(([what, , target], c) => {
    const sorted = took[c]!.sort((a, b) => a - b);
    return { what, bestMs: sorted[0]!, medianMs: sorted[Math.floor(runs / 2)]!, target };
  });
  console.log(
    `${runs} runs of each, taking turns; load average (1, 5, 15 min) ${loadBefore} before, ${load()} after`,
  );
  console.log(
    formatTable(
      [
        { header: 'command', value: (r: Row) => r.what },
        { header: 'best ms', value: (r: Row) => fmt.fixed(r.bestMs, 0), align: 'right' },
        { header: 'median ms', value: (r: Row) => fmt.fixed(r.medianMs, 0), align: 'right' },
        {
          header: `target < ${TARGET_MS} ms`,
          value: (r: Row) => (r.target ? (r.medianMs < TARGET_MS ? 'PASS' : 'FAIL') : ''),
        },
      ],
      rows,
    ),
  );
}

main();
