import { afterEach, describe, expect, it } from 'vitest';
import { processContext } from '../../src/cli/context.js';

describe('processContext', () => {
  const saved = { out: process.stdout.isTTY, err: process.stderr.isTTY };
  afterEach(() => {
    process.stdout.isTTY = saved.out;
    process.stderr.isTTY = saved.err;
  });

  it('draws progress bars when stderr, where they go, is a terminal, whatever stdout is', () => {
    // `ballast enqueue nightly --wait > reports.txt` at a terminal.
    process.stdout.isTTY = false;
    process.stderr.isTTY = true;
    expect(processContext().interactive).toBe(true);
    // `ballast enqueue nightly --wait 2> log.txt`: the bar's carriage returns would fill the log.
    process.stdout.isTTY = true;
    process.stderr.isTTY = false;
    expect(processContext().interactive).toBe(false);
  });
});
