/** `ballast api` as a real process: refuses without a token, listens, serves, stops on a signal. */
import { describe, expect, it } from 'vitest';
import { spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';
import { TOKEN } from './api-fixture.js';

const redis = useRedisPrefix('api-process');

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl(),
    BALLAST_PREFIX: redis.prefix,
    BALLAST_QUEUE: 'q',
    BALLAST_LOG_LEVEL: 'info',
    BALLAST_API_PORT: '0',
    ...extra,
  };
}

async function listeningUrl(line: string): Promise<string> {
  const url = (JSON.parse(line) as { url?: string }).url;
  if (!url) throw new Error(`no url in ${line}`);
  return url;
}

describe('ballast api', () => {
  it('refuses to start without BALLAST_API_TOKEN (exit 1, the reason on stderr)', async () => {
    const p = spawnBallast(['api'], env());
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/BALLAST_API_TOKEN is not set.*--insecure-no-auth/);
  });

  it('serves with the token on 127.0.0.1, never logs it, and exits 0 on SIGTERM', async () => {
    const p = spawnBallast(['api'], env({ BALLAST_API_TOKEN: TOKEN }));
    try {
      const url = await listeningUrl(await p.waitFor(/"msg":"api listening"/));
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect((await fetch(`${url}/portfolios/owner/dana`)).status).toBe(401);
      const listed = await fetch(`${url}/portfolios/owner/dana`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(listed.status).toBe(200);
      expect(await listed.json()).toEqual({ portfolios: [] });
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toContain('"msg":"api stopped"');
    expect(p.stderr() + p.stdout()).not.toContain(TOKEN);
  });

  it('with --insecure-no-auth: serves without a token, on loopback only, with a warning; exits 0 on SIGINT', async () => {
    const p = spawnBallast(['api', '--insecure-no-auth'], env({ BALLAST_API_HOST: '0.0.0.0' }));
    try {
      const url = await listeningUrl(await p.waitFor(/"msg":"api listening"/));
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(p.stderr()).toMatch(/"level":40.*WITHOUT AUTH/);
      expect((await fetch(`${url}/portfolios/owner/dana`)).status).toBe(200);
    } finally {
      p.child.kill('SIGINT');
    }
    expect(await p.exited).toBe(0);
  });
});
