/**
 * Schedule truth end to end: two `ballast scheduler` processes write what they obey to Redis, and
 * `ballast schedule status` from a shell with another BALLAST_CRON shows theirs; two `ballast
 * schedule backfill` processes racing each other and the schedulers (every two seconds) over a
 * range that reaches the present run each slot exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId } from '../../jobs/payloads.js';
import type { App } from '../../src/app.js';
import { cronRunId } from '../../src/runtime/run-ids.js';
import { testApp } from '../helpers/app.js';
import { type BallastProcess, runBallast, spawnBallast } from '../helpers/process.js';
import { redisUrl, useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('e2e-backfill');
const env = {
  REDIS_URL: redisUrl(),
  BALLAST_PREFIX: fixture.prefix,
  BALLAST_QUEUE: 'q',
  BALLAST_CRON: '*/2 * * * * *',
  BALLAST_CATCH_UP: 'false',
  BALLAST_LOG_LEVEL: 'info',
};
let app: App;
const schedulers: BallastProcess[] = [];

beforeAll(() => {
  app = testApp(fixture.prefix);
});
afterAll(async () => {
  for (const s of schedulers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await app?.close();
});

/** The run ids the schedulers logged as enqueued by them. */
function schedulerRuns(): string[] {
  return schedulers.flatMap((s) =>
    s
      .stderr()
      .split('\n')
      .filter((l) => l.includes('nightly run enqueued'))
      .map((l) => JSON.parse(l).runId as string),
  );
}

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('two schedulers and two backfills', () => {
  it('show the schedulers’ cron in `schedule status`, and run each slot of the range exactly once', async () => {
    for (let i = 0; i < 2; i++) schedulers.push(spawnBallast(['scheduler'], env));
    await Promise.all(schedulers.map((s) => s.waitFor(/scheduler started/)));
    const startedAt = Date.now();

    // A shell with another cron: status shows the schedulers', and says so.
    const status = await runBallast(['schedule', 'status', '--json'], { ...env, BALLAST_CRON: '0 2 * * *' });
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s).toMatchObject({ cron: '*/2 * * * * *', source: 'scheduler', catch_up: false });
    expect(s.schedulers).toHaveLength(2);
    expect(new Set(s.schedulers.map((x: { pid: number }) => x.pid)).size).toBe(2);
    expect(s.warnings).toEqual([
      expect.stringMatching(/BALLAST_CRON is "0 2 \* \* \*" here, "\*\/2 \* \* \* \* \*" there/),
    ]);

    await until(() => schedulerRuns().length >= 2);
    // From before the schedulers started (slots nobody ran) to now (slots they ran, and one they may be running).
    const from = new Date(Math.floor((startedAt - 20_000) / 1000) * 1000).toISOString();
    const to = new Date().toISOString();
    const backfill = (actor: string) =>
      runBallast(['schedule', 'backfill', '--from', from, '--to', to, '--json'], {
        ...env,
        BALLAST_ACTOR: actor,
      });
    const [a, b] = await Promise.all([backfill('backfill-a'), backfill('backfill-b')]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const runCount = schedulerRuns().length;
    await until(() => schedulerRuns().length > runCount);
    for (const p of schedulers) p.child.kill('SIGTERM');
    expect(await Promise.all(schedulers.map((p) => p.exited))).toEqual([0, 0]);

    const [ra, rb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    const slots: string[] = ra.slots.map((x: { run_id: string }) => x.run_id);
    expect(rb.slots.map((x: { run_id: string }) => x.run_id)).toEqual(slots);
    expect(slots.length).toBeGreaterThanOrEqual(10);
    const queuedBy = (r: { slots: { run_id: string; queued: boolean }[] }) =>
      r.slots.filter((x) => x.queued).map((x) => x.run_id);
    const byScheduler = schedulerRuns();
    const all = [...queuedBy(ra), ...queuedBy(rb), ...byScheduler];
    // Nobody queued a slot another did.
    expect(all.length).toBe(new Set(all).size);
    // The backfills queued the slots before the schedulers started.
    const before = slots.filter((id) => id < cronRunId(new Date(startedAt - 2000)));
    expect(before.length).toBeGreaterThanOrEqual(8);
    for (const id of before) expect([...queuedBy(ra), ...queuedBy(rb)]).toContain(id);
    // Every slot of the range ran once: its run is recorded, by the one that queued it.
    const records = await app.reports.runRecords(slots);
    for (const [i, id] of slots.entries()) {
      expect(
        all.filter((x) => x === id),
        id,
      ).toHaveLength(1);
      const actor = queuedBy(ra).includes(id)
        ? 'backfill-a'
        : queuedBy(rb).includes(id)
          ? 'backfill-b'
          : null;
      if (actor) expect(records[i]?.actor, id).toBe(actor);
      else expect(records[i]?.actor, id).toMatch(/^scheduler:/);
      expect(await app.queue.getJob(nightlyJobId(id)), id).not.toBeNull();
    }
    for (const x of [...ra.slots, ...rb.slots].filter((y: { queued: boolean }) => !y.queued)) {
      expect(x.reason).toMatch(/^(already run|claimed by .+)$/);
    }
  });
});
