import { describe, expect, it } from 'vitest';
import { runBallast } from '../helpers/process.js';
import { connect, redisUrl } from '../helpers/redis.js';

describe('ballast demo', () => {
  it('runs a nightly pass over every example portfolio, prints the tables and leaves no key behind', async () => {
    const { code, stdout, stderr } = await runBallast(['demo'], { REDIS_URL: redisUrl() });
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(0);
    const prefix = /key prefix (ballast-demo-[0-9a-f]+)/.exec(stdout)?.[1];
    expect(prefix).toBeDefined();
    expect(stdout).toMatch(/5 of 5 portfolios done, 0 failed/);
    for (const strategy of ['equal', 'performance', 'growth', 'revenue', 'custom']) {
      expect(stdout).toMatch(new RegExp(`${strategy} strategy, applied`));
    }
    expect(stdout).toMatch(/Rank\s+Business\s+Name\s+Score\s+Action\s+Weight\s+Reason/);
    expect(stdout).toMatch(/locked by the operator/);
    expect(stdout).toMatch(/no-metrics/);
    expect(stdout).toMatch(/capped at max/);
    expect(stdout).toContain(`${prefix}:reports:live`);
    const client = await connect();
    try {
      const left: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 10_000);
        cursor = next;
        left.push(...keys);
      } while (cursor !== '0');
      expect(left).toEqual([]);
    } finally {
      await client.quit();
    }
  });

  it('keeps its keys with --keep and says where they are', async () => {
    const { code, stdout } = await runBallast(['demo', '--keep', '--json'], { REDIS_URL: redisUrl() });
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { prefix: string; reports: { applied: boolean }[] };
    expect(result.reports).toHaveLength(5);
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
});
