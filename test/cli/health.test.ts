/** `ballast health`: the container health check of every role, in-process against a real Redis. */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/adapters/redis-launcher.js';
import type { App } from '../../src/app.js';
import { runCli } from '../../src/cli/run-cli.js';
import { startHeartbeat } from '../../src/runtime/heartbeat.js';
import { testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { cliContext } from './in-process.js';

const fixture = useRedisPrefix('cli-health');
let app: App;
let api: Server | undefined;
let apiPort = 0;

beforeAll(async () => {
  app = testApp(fixture.prefix);
  // Stands for the API: what `ballast health` asks of it is GET /healthz.
  apiPort = await findFreePort();
  api = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? 200 : 404;
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => api!.listen(apiPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => api?.close(resolve));
  await app?.close();
});

async function health(args: string[], env: Record<string, string> = {}) {
  const { ctx, output } = cliContext(fixture.prefix);
  // A port nothing listens on, unless the test says otherwise: no API here.
  const closed = String(await findFreePort());
  const code = await runCli(['health', ...args], {
    ...ctx,
    env: { ...ctx.env, BALLAST_API_PORT: closed, ...env },
  });
  return { code, ...output() };
}

describe('ballast health', () => {
  it('is unhealthy when the role has no fresh heartbeat on this host, and says which key it read', async () => {
    const r = await health(['--role', 'scheduler']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^ballast: unhealthy: no scheduler runs on .+: its heartbeat ${fixture.prefix}:heartbeat:scheduler:`,
      ),
    );
    const any = await health([]);
    expect(any.code).toBe(1);
    expect(any.stderr).toMatch(/no Ballast role runs on/);
  });

  it('is healthy while the role beats, and unhealthy as soon as it stopped', async () => {
    const beat = startHeartbeat(app.redis, app.keys, 'worker', app.log);
    await beat.firstBeat;
    const r = await health(['--role', 'worker', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      healthy: true,
      redis: 'ok',
      role: 'worker',
      pid: process.pid,
    });
    // Without --role: whichever role this host runs.
    const any = await health([]);
    expect(any.code).toBe(0);
    expect(any.stdout).toMatch(
      /^healthy: Redis answers; worker on .+ \(pid \d+, last heartbeat \d+ s ago\)\n$/,
    );
    // Another role's check is not fooled by the worker's beat.
    expect((await health(['--role', 'scheduler'])).code).toBe(1);
    await beat.stop();
    expect((await health(['--role', 'worker'])).code).toBe(1);
  });

  it('asks the API its /healthz for the api role, and without --role when no heartbeat is found', async () => {
    const env = { BALLAST_API_PORT: String(apiPort) };
    const r = await health(['--role', 'api'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`http://127.0.0.1:${apiPort}/healthz answers`);
    expect((await health([], env)).code).toBe(0);
    const down = await health(['--role', 'api']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/no api runs on .+: http:\/\/127\.0\.0\.1:\d+\/healthz does not answer 200/);
  });

  it('is unhealthy when Redis does not answer, even with a live heartbeat', async () => {
    const beat = startHeartbeat(app.redis, app.keys, 'start', app.log);
    await beat.firstBeat;
    try {
      const port = await findFreePort();
      const r = await health(['--role', 'start'], { REDIS_URL: `redis://127.0.0.1:${port}` });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await beat.stop();
    }
  });

  it('refuses an unknown role as bad usage', async () => {
    const r = await health(['--role', 'cook']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--role.*cook.*worker, scheduler, start, api/);
  });
});
