/**
 * CLI start-up (issue 15): `ballast --version` and `ballast --help` as whole processes, best and
 * median of N runs each, against `node -e 0` measured in the same run (what no code of ours can go
 * below). Target: under 120 ms. Run with `npm run bench:startup` (options: --runs N).
 */
import { spawnSync } from 'node:child_process';
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

function time(args: readonly string[], runs: number): { best: number; median: number } {
  const took: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    took.push(performance.now() - start);
    if (result.status !== 0)
      throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  took.sort((a, b) => a - b);
  return { best: took[0]!, median: took[Math.floor(took.length / 2)]! };
}

function main(): void {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
  const runs = Number(values.runs);
  const bin = join(packageRoot(), 'bin', 'ballast.js');
  const cases: [string, string[], boolean][] = [
    ['node -e 0 (the floor)', ['-e', '0'], false],
    ['ballast --version', [bin, '--version'], true],
    ['ballast --help', [bin, '--help'], true],
    ['ballast portfolio --help', [bin, 'portfolio', '--help'], false],
  ];
  const rows: Row[] = cases.map(([what, args, target]) => {
    const { best, median } = time(args, runs);
    return { what, bestMs: best, medianMs: median, target };
  });
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
