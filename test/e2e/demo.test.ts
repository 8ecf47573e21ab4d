import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/adapters/redis-launcher.js';
import type { CliContext } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/run-cli.js';
import { runBallast } from '../helpers/process.js';
import { connect, redisUrl } from '../helpers/redis.js';

async function keysLeft(prefix: string): Promise<string[]> {
  const client = await connect();
  try {
    const left: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 10_000);
      cursor = next;
      left.push(...keys);
    } while (cursor !== '0');
    return left;
  } finally {
    await client.quit();
  }
}

describe('ballast demo', () => {
  it('runs a nightly pass over every example portfolio, prints the tables and leaves no key behind', async () => {
    const { code, stdout, stderr } = await runBallast(['demo'], { REDIS_URL: redisUrl() });
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(0);
    const prefix = /key prefix (ballast-demo-[0-9a-f]+)/.exec(stdout)?.[1];
    expect(prefix).toBeDefined();
    // One example per strategy, and examples/portfolios/rebalancing.json for the rebalancing options.
    expect(stdout).toMatch(/6 of 6 portfolios done, 0 failed/);
    expect(stdout).toMatch(/every allocation to its target: quill-press is outside its drift band/);
    expect(stdout).toMatch(/move of 0\.5 points below min_trade 1\.0 points, not made/);
    for (const strategy of ['equal', 'performance', 'growth', 'revenue', 'custom']) {
      expect(stdout).toMatch(new RegExp(`${strategy} strategy, applied`));
    }
    expect(stdout).toMatch(/Rank\s+Business\s+Name\s+Score\s+Action\s+Weight\s+Reason/);
    expect(stdout).toMatch(/locked by the operator/);
    expect(stdout).toMatch(/no-metrics/);
    expect(stdout).toMatch(/capped at max/);
    expect(stdout).toContain(`${prefix}:reports:live`);
    expect(await keysLeft(prefix!)).toEqual([]);
  });

  it('keeps its keys with --keep and says where they are', async () => {
    const { code, stdout } = await runBallast(['demo', '--keep', '--json'], { REDIS_URL: redisUrl() });
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { prefix: string; reports: { applied: boolean }[] };
    expect(result.reports).toHaveLength(6);
    expect(result.reports.every((r) => r.applied)).toBe(true);
    const client = await connect();
    try {
      expect(await client.exists(`${result.prefix}:reports`)).toBe(1);
      // This test made them: it removes them.
      for (const pattern of [`${result.prefix}:*`, `{${result.prefix}}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await client.unlink(...keys);
        } while (cursor !== '0');
      }
    } finally {
      await client.quit();
    }
  });

  it('refuses a bad configuration before it looks for or starts any Redis', async () => {
    // REDIS_URL does not answer: were Redis resolved first, that would be the error.
    const port = await findFreePort();
    const { code, stderr } = await runBallast(['demo'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      BALLAST_CRON: 'bad',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^ballast: invalid configuration: BALLAST_CRON: not a valid cron expression/);
    expect(stderr).not.toMatch(/PING/);
  });

  it('stops on Ctrl-C or SIGTERM: deletes its keys, says so, exits 1', async () => {
    let stdout = '';
    let stderr = '';
    let interrupt: (() => void) | undefined;
    const ctx: CliContext = {
      out: (text) => {
        stdout += text;
        // The signal comes once the example portfolios are in Redis.
        if (text.startsWith('Loaded')) interrupt?.();
      },
      err: (text) => {
        stderr += text;
      },
      env: { REDIS_URL: redisUrl(), BALLAST_LOG_LEVEL: 'silent' },
      stdin: Readable.from(['']),
      interactive: false,
      now: () => new Date('2026-03-01T12:00:00Z'),
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => {
          interrupt = undefined;
        };
      },
    };
    const code = await runCli(['demo'], ctx);
    expect(stderr).toBe('ballast: demo interrupted\n');
    expect(code).toBe(1);
    expect(stdout).toMatch(/Cleaned up \d+ demo keys/);
    expect(stdout).not.toMatch(/Nightly run/);
    const prefix = /key prefix (ballast-demo-[0-9a-f]+)/.exec(stdout)![1]!;
    expect(await keysLeft(prefix)).toEqual([]);
    // It listens only while it runs.
    expect(interrupt).toBeUndefined();
  });
});
