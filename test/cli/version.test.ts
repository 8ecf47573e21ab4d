/** `ballast --version`: answered by bin/ballast.js before the command tree loads, and the same as the program's. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBallast } from '../helpers/process.js';
import { runIn } from './in-process.js';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

describe('ballast --version', () => {
  it('prints the package version from the fast path (-V too), as the command tree does', async () => {
    for (const flag of ['--version', '-V']) {
      const fast = await runBallast([flag], {});
      expect(fast).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
    const tree = await runIn('unused-prefix', ['--version']);
    expect(tree).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it("leaves a command's own --version option to the command", async () => {
    const restore = await runBallast(['portfolio', 'restore', 'no-such', '--version', 'x'], {});
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(/version/);
    expect(restore.stdout).not.toBe(`${version}\n`);
  });
});
