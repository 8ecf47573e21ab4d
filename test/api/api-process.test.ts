/** `ballast api` as a real process: refuses without a token, listens, serves, stops on a signal. */
import { describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app.js';
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
      // A token pasted into the query string: refused, and kept out of the log (request URLs too).
      for (const param of ['token', 'access_token']) {
        const url2 = `${url}/portfolios/owner/dana?${param}=${TOKEN}`;
        expect((await fetch(url2)).status).toBe(401);
        const refused = await fetch(url2, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(refused.status).toBe(400);
        expect(((await refused.json()) as { message: string }).message).toContain('Authorization header');
      }
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

  it('stops within a couple of seconds on SIGTERM while an apply waits for a worker (none is up): 202', async () => {
    const app = testApp(redis.prefix);
    const events = await app.queue.events(app.redis);
    const p = spawnBallast(['api'], env({ BALLAST_API_TOKEN: TOKEN }));
    try {
      const url = await listeningUrl(await p.waitFor(/"msg":"api listening"/));
      const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
      const create = await fetch(`${url}/portfolios`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ id: 'sigterm', name: 's', owner_id: 'o' }),
      });
      expect(create.status).toBe(200);
      const added = new Promise<string>((resolve) =>
        events.once('added', ({ jobId }: { jobId: string }) => resolve(jobId)),
      );
      const pending = fetch(`${url}/portfolios/sigterm/rebalance`, {
        method: 'POST',
        headers: { authorization: auth.authorization },
      });
      const jobId = await added;
      const started = Date.now();
      p.child.kill('SIGTERM');
      const answer = await pending;
      expect(answer.status).toBe(202);
      expect(await answer.json()).toMatchObject({ status: 'queued', job_id: jobId });
      expect(await p.exited).toBe(0);
      // The apply timeout is 30 s: the process did not wait it out.
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await app.queue.getJob(jobId))?.state).toBe('waiting');
    } finally {
      p.child.kill('SIGKILL');
      await events.close();
      await app.close();
    }
  });

  it('answers 503 within a few seconds on data routes when Redis is down', async () => {
    const p = spawnBallast(['api'], env({ BALLAST_API_TOKEN: TOKEN, REDIS_URL: 'redis://127.0.0.1:1' }));
    try {
      const url = await listeningUrl(await p.waitFor(/"msg":"api listening"/));
      const headers = { authorization: `Bearer ${TOKEN}` };
      for (const [method, path] of [
        ['GET', '/portfolios/orbit'],
        ['POST', '/runs/nightly'],
      ] as const) {
        const started = Date.now();
        const r = await fetch(`${url}${path}`, { method, headers });
        expect(r.status, `${method} ${path}`).toBe(503);
        expect(((await r.json()) as { message: string }).message).toMatch(/Redis is not reachable/);
        expect(Date.now() - started).toBeLessThan(3000);
      }
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });
});
