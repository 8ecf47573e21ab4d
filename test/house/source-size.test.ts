/**
 * The house rule (STYLE.md): a source file stays under ~400 lines; past that it holds more than one
 * responsibility and is split. Tests and benches are exempt (a test file keeps its fixture whole).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const MAX_LINES = 400;

async function* sources(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.(ts|js|mjs)$/.test(entry.name)) yield path;
  }
}

describe('source files', () => {
  it(`stay at or under ${MAX_LINES} lines (src/, jobs/, bin/)`, async () => {
    const over: string[] = [];
    let seen = 0;
    for (const dir of ['src', 'jobs', 'bin']) {
      for await (const path of sources(join(ROOT, dir))) {
        seen++;
        const lines = (await readFile(path, 'utf8')).split('\n').length - 1;
        if (lines > MAX_LINES) over.push(`${relative(ROOT, path)}: ${lines} lines`);
      }
    }
    expect(seen).toBeGreaterThan(100);
    expect(over, 'split these by responsibility').toEqual([]);
  });
});
