/**
 * The sketch's Python (../shared/seed/portfolio-plan.md, or BENCH_SKETCH) as the benches run it:
 * its models and manager cut out of the markdown into a temporary directory at the paths the plan
 * gives them, with a stub for the one helper it imports (src.utils.logging.get_logger), and a
 * case written as TSV for bench/sketch_harness.py. Nothing of the sketch is committed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BusinessMetrics, Portfolio } from '../../src/domain/index.js';
import { packageRoot } from '../../src/runtime/package-root.js';

/** The sketch's files that recommend_rebalance needs, by the path the plan gives them. */
const SKETCH_FILES = ['src/business/portfolio_models.py', 'src/business/portfolio.py'];

/** The python code block that follows `**File: \`<path>\`**` in the plan. */
export function extractSketchFile(markdown: string, path: string): string {
  const header = markdown.indexOf(`**File: \`${path}\`**`);
  if (header < 0) throw new Error(`the sketch has no file ${path}`);
  const open = markdown.indexOf('```python\n', header);
  const close = markdown.indexOf('\n```', open + 1);
  if (open < 0 || close < 0) throw new Error(`no python block after ${path} in the sketch`);
  return `${markdown.slice(open + '```python\n'.length, close)}\n`;
}

/** Writes the sketch's package into a temp dir; returns the dir. */
export function extractSketch(planPath: string): string {
  const markdown = readFileSync(planPath, 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'ballast-sketch-'));
  for (const file of SKETCH_FILES) {
    const target = join(dir, file);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, extractSketchFile(markdown, file));
  }
  for (const pkg of ['src', 'src/business', 'src/utils']) {
    mkdirSync(join(dir, pkg), { recursive: true });
    writeFileSync(join(dir, pkg, '__init__.py'), '');
  }
  // The only import the sketch has outside itself: a logger factory.
  writeFileSync(
    join(dir, 'src/utils/logging.py'),
    'import logging\n\n\ndef get_logger(name):\n    return logging.getLogger(name)\n',
  );
  return dir;
}

/** The portfolio's allocations with their metrics, one line each, as sketch_harness.py reads them. */
export function writeCaseTsv(
  portfolio: Portfolio,
  metrics: ReadonlyMap<string, BusinessMetrics>,
  path: string,
): void {
  const lines: string[] = [];
  for (const a of portfolio.allocations) {
    const m = metrics.get(a.businessId);
    const cells = [a.businessId, String(a.weight), String(a.priority), a.locked ? '1' : '0'];
    if (m) {
      cells.push(
        '1',
        String(m.revenue),
        String(m.expenses),
        String(m.profit),
        String(m.margin),
        String(m.customers),
        String(m.growthRate),
        String(m.healthScore),
        m.stage,
      );
    } else {
      cells.push('0', '', '', '', '', '', '', '', '');
    }
    lines.push(cells.join('\t'));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export function pythonVersion(): string | null {
  const r = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).trim() : null;
}

/** The plan's markdown when python3 and the file are there, else null and why. */
export function sketchSource(python: string | null): { path: string | null; why: string | null } {
  const path = process.env.BENCH_SKETCH ?? join(packageRoot(), '..', 'shared', 'seed', 'portfolio-plan.md');
  if (!python) return { path: null, why: 'python3 not found: Ballast only, no comparison' };
  if (!existsSync(path)) return { path: null, why: `no sketch at ${path} (set BENCH_SKETCH): Ballast only` };
  return { path, why: null };
}

export function harnessPath(): string {
  return join(packageRoot(), 'bench', 'sketch_harness.py');
}
