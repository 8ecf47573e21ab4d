import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateRedis, startPrivateRedis } from '../../src/adapters/redis-launcher.js';
import { runCli } from '../../src/cli/run-cli.js';
import { testPrefix } from '../helpers/redis.js';
import { cliContext } from './in-process.js';

/**
 * An operator command while Redis goes away: one human line on stderr (no pino JSON, no ioredis
 * "Unhandled error event" traces), and Ctrl-C still ends it. A Redis of its own: this file stops it.
 */
let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('reports tail when Redis goes down', () => {
  it('says so once, on one line, and stops on an interrupt with exit 0', async () => {
    let interrupt: (() => void) | undefined;
    let stderr = '';
    const waiters: { pattern: RegExp; resolve: () => void }[] = [];
    const { ctx, output } = cliContext(testPrefix('cli-outage'), {
      onErr: (text) => {
        stderr += text;
        for (const w of waiters) if (w.pattern.test(stderr)) w.resolve();
      },
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => {};
      },
    });
    const seen = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        if (pattern.test(stderr)) resolve();
        else waiters.push({ pattern, resolve });
      });
    const done = runCli(['reports', 'tail'], { ...ctx, env: { ...ctx.env, REDIS_URL: redis.url } });
    await seen(/^Following /);
    await redis.stop();
    await seen(/lost the connection/);
    interrupt!();
    expect(await done).toBe(0);
    const lines = output().stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Following .*:reports/);
    // The first error seen is the open read cut (ECONNRESET) or the first reconnect refused
    // (ECONNREFUSED), depending on how the stopped server's socket closes: either way one line.
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(
        /^ballast: lost the connection to Redis \(.*(ECONNREFUSED|ECONNRESET).*\); reconnecting$/,
      ),
    ]);
  });
});
