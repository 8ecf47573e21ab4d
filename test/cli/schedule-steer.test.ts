/**
 * `ballast schedule status|pause|resume|trigger|backfill`: the running scheduler's configuration
 * from Redis (not the shell's), pause with who and why, a run now, and backfill of a range, each
 * slot once, with two backfills racing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId } from '../../jobs/payloads.js';
import { ScheduleStore } from '../../src/adapters/schedule-store.js';
import type { App } from '../../src/app.js';
import { runCli } from '../../src/cli/run-cli.js';
import { type RunningScheduler, startScheduler } from '../../src/runtime/scheduler.js';
import { testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { cliContext, NOW } from './in-process.js';

const fixture = useRedisPrefix('cli-schedule-steer');
/** The scheduler's environment. */
const SCHEDULER_ENV = {
  BALLAST_QUEUE: 'q',
  BALLAST_CRON: '0 3 * * *',
  BALLAST_TZ: 'America/New_York',
  BALLAST_CATCH_UP: 'false',
};
/** The shell's: another cron and zone. */
const SHELL_ENV = { BALLAST_QUEUE: 'q', BALLAST_CRON: '0 2 * * *', BALLAST_TZ: 'UTC' };
let app: App;
let scheduler: RunningScheduler | undefined;

beforeAll(async () => {
  app = testApp(fixture.prefix, { env: SCHEDULER_ENV });
});
afterAll(async () => {
  await scheduler?.close();
  await app?.close();
});

async function cli(argv: readonly string[], env: Record<string, string> = {}) {
  const { ctx, output } = cliContext(fixture.prefix);
  const code = await runCli(argv, { ...ctx, env: { ...ctx.env, ...SHELL_ENV, ...env } });
  return { code, ...output() };
}

async function json(argv: readonly string[], env: Record<string, string> = {}) {
  const r = await cli([...argv, '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const slotIds = (result: { slots: { run_id: string; queued: boolean }[] }) =>
  result.slots.filter((s) => s.queued).map((s) => s.run_id);

describe('ballast schedule status', () => {
  it("shows the running scheduler's cron and zone from Redis, and warns that the shell's differ", async () => {
    scheduler = await startScheduler(app, {
      clock: () => new Date(NOW),
      sweepMs: 0,
    });
    const s = await json(['schedule', 'status']);
    expect(s).toMatchObject({
      cron: '0 3 * * *',
      timezone: 'America/New_York',
      catch_up: false,
      source: 'scheduler',
      paused: false,
    });
    expect(s.schedulers).toEqual([
      expect.objectContaining({
        pid: process.pid,
        cron: '0 3 * * *',
        timezone: 'America/New_York',
        seen_at: NOW,
      }),
    ]);
    // 1 March 2026, 03:00 in New York (EST, UTC-5); the shell's cron would say 02:00 UTC.
    expect(s.next_runs[0]).toBe('2026-03-02T08:00:00.000Z');
    expect(s.next_runs_local[0]).toBe('2026-03-02T03:00:00-05:00');
    expect(s.next_runs).toHaveLength(5);
    expect(s.warnings).toEqual([
      expect.stringMatching(
        /local environment differs from the running scheduler .*BALLAST_CRON is "0 2 \* \* \*" here, "0 3 \* \* \*" there; BALLAST_TZ is UTC here, America\/New_York there/,
      ),
    ]);

    const text = await cli(['schedule', 'status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/cron\s+0 3 \* \* \*\n/);
    expect(text.stdout).toMatch(/time zone\s+America\/New_York/);
    expect(text.stdout).toMatch(/schedulers\s+\S+ \(pid \d+, /);
    expect(text.stdout).toMatch(/next runs\s+2026-03-02T03:00:00-05:00 {2}\(2026-03-02T08:00:00\.000Z\)/);
    expect(text.stderr).toMatch(/^warning: the local environment differs/);

    // The same environment as the scheduler's: nothing to warn about.
    const same = await cli(['schedule', 'status'], SCHEDULER_ENV);
    expect(same.stderr).toBe('');
  });

  it('shows the local configuration, with a warning, once no scheduler runs', async () => {
    await scheduler?.close();
    scheduler = undefined;
    const s = await json(['schedule', 'status']);
    expect(s).toMatchObject({ cron: '0 2 * * *', timezone: 'UTC', source: 'local', schedulers: [] });
    expect(s.next_runs[0]).toBe('2026-03-02T02:00:00.000Z');
    expect(s.warnings).toEqual([expect.stringMatching(/no scheduler is running under prefix ballast-test-/)]);
    const text = await cli(['schedule', 'status']);
    expect(text.stdout).toMatch(/cron\s+0 2 \* \* \* {2}\(local configuration: no scheduler runs\)/);
    expect(text.stderr).toMatch(/warning: no scheduler is running/);
  });
});

describe('ballast schedule pause and resume', () => {
  it('records who paused and why, keeps the first pause when paused again, and who resumed', async () => {
    const paused = await json(['schedule', 'pause', '--note', 'migrating the metrics database'], {
      BALLAST_ACTOR: 'alice',
    });
    expect(paused).toMatchObject({
      paused: true,
      paused_at: NOW,
      paused_by: 'alice',
      pause_note: 'migrating the metrics database',
    });
    const again = await json(['schedule', 'pause', '--note', 'another reason'], { BALLAST_ACTOR: 'bob' });
    expect(again).toMatchObject({ paused_by: 'alice', pause_note: 'migrating the metrics database' });

    const text = await cli(['schedule', 'status']);
    expect(text.stdout).toMatch(
      /paused\s+yes, since 2026-03-01T12:00:00\.000Z by alice: "migrating the metrics database"/,
    );

    const resumed = await json(['schedule', 'resume'], { BALLAST_ACTOR: 'bob' });
    expect(resumed).toMatchObject({
      paused: false,
      paused_at: null,
      paused_by: null,
      pause_note: null,
      resumed_at: NOW,
      resumed_by: 'bob',
    });
    const state = await new ScheduleStore(app.redis, app.keys).state();
    expect(state.lastPause).toEqual({ from: NOW, until: NOW });
  });

  it('refuses an empty note as bad usage', async () => {
    const r = await cli(['schedule', 'pause', '--note', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--note/);
  });
});

describe('ballast schedule trigger', () => {
  it("queues an operator's nightly run now and names it", async () => {
    const r = await cli(['schedule', 'trigger'], { BALLAST_ACTOR: 'carol' });
    expect(r.code, r.stderr).toBe(0);
    const runId = /queued nightly run (\S+) /.exec(r.stdout)?.[1];
    expect(runId).toMatch(/^nightly-/);
    expect(r.stdout).toMatch(`ballast runs show ${runId} --wait`);
    expect(await app.queue.getJob(nightlyJobId(runId!))).not.toBeNull();
    const [record] = await app.reports.runRecords([runId!]);
    expect(record).toMatchObject({ trigger: 'manual', actor: 'carol', slot: null });

    const queued = await json(['schedule', 'trigger']);
    expect(queued.job_id).toBe(nightlyJobId(queued.run_id));
  });
});

describe('ballast schedule backfill', () => {
  const range = ['--from', '2026-02-20T00:00:00Z', '--to', '2026-02-24T02:00:00Z'];

  it('queues each slot of the range once, and nothing the second time', async () => {
    const dry = await json(['schedule', 'backfill', ...range, '--dry-run']);
    expect(dry.slots.map((s: { slot: string }) => s.slot)).toEqual([
      '2026-02-20T02:00:00.000Z',
      '2026-02-21T02:00:00.000Z',
      '2026-02-22T02:00:00.000Z',
      '2026-02-23T02:00:00.000Z',
      '2026-02-24T02:00:00.000Z',
    ]);
    expect(dry.slots.every((s: { queued: boolean; reason: unknown }) => !s.queued && s.reason === null)).toBe(
      true,
    );
    expect(await app.queue.getJob(nightlyJobId('cron-20260220T020000Z'))).toBeNull();

    const first = await json(['schedule', 'backfill', ...range], { BALLAST_ACTOR: 'dave' });
    expect(first).toMatchObject({ cron: '0 2 * * *', timezone: 'UTC', dry_run: false });
    expect(slotIds(first)).toEqual([
      'cron-20260220T020000Z',
      'cron-20260221T020000Z',
      'cron-20260222T020000Z',
      'cron-20260223T020000Z',
      'cron-20260224T020000Z',
    ]);
    for (const runId of slotIds(first)) {
      expect(await app.queue.getJob(nightlyJobId(runId))).not.toBeNull();
      const [record] = await app.reports.runRecords([runId]);
      expect(record).toMatchObject({ trigger: 'cron', actor: 'dave', catchUp: true });
    }

    const second = await cli(['schedule', 'backfill', ...range]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^0 of 5 slots of "0 2 \* \* \*" \(UTC\) queued\n/);
    expect(second.stdout).toMatch(
      /2026-02-20T02:00:00\+00:00 {2}cron-20260220T020000Z {2}not run: already run/,
    );
  });

  it('leaves a slot skipped by the pause alone', async () => {
    const store = new ScheduleStore(app.redis, app.keys);
    expect(await store.markPaused('cron-20260210T020000Z', NOW, 60_000)).toBe(true);
    const r = await json([
      'schedule',
      'backfill',
      '--from',
      '2026-02-09T02:00:00Z',
      '--to',
      '2026-02-10T02:00:00Z',
    ]);
    expect(r.slots).toEqual([
      expect.objectContaining({ run_id: 'cron-20260209T020000Z', queued: true, reason: null }),
      expect.objectContaining({
        run_id: 'cron-20260210T020000Z',
        queued: false,
        reason: 'skipped by the pause',
      }),
    ]);
  });

  it('queues each slot exactly once when two backfills race over the same range', async () => {
    const january = [
      'schedule',
      'backfill',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-01-31T23:59:59Z',
      '--json',
    ];
    const [a, b] = await Promise.all([
      cli(january, { BALLAST_ACTOR: 'a' }),
      cli(january, { BALLAST_ACTOR: 'b' }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [ra, rb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(ra.slots).toHaveLength(31);
    const queued = [...slotIds(ra), ...slotIds(rb)].sort();
    expect(queued).toHaveLength(31);
    expect(new Set(queued).size).toBe(31);
    for (const s of [...ra.slots, ...rb.slots].filter((x: { queued: boolean }) => !x.queued)) {
      expect(s.reason).toMatch(/^(already run|claimed by another backfill \(.+\))$/);
    }
    const records = await app.reports.runRecords(queued);
    const actors = records.map((r) => r?.actor);
    expect(actors.filter((x) => x === 'a').length).toBe(slotIds(ra).length);
    expect(actors.filter((x) => x === 'b').length).toBe(slotIds(rb).length);
  });

  it.each([
    [
      ['--from', '2026-02-10T00:00:00Z', '--to', '2026-02-01T00:00:00Z'],
      /from \(2026-02-10T00:00:00Z\) must be before to/,
    ],
    [
      ['--from', '2026-02-10T00:00:00Z', '--to', '2026-03-05T00:00:00Z'],
      /to \(2026-03-05T00:00:00Z\) is in the future/,
    ],
    [
      ['--from', '2024-01-01T00:00:00Z', '--to', '2026-01-01T00:00:00Z'],
      /more than 366 slots of "0 2 \* \* \*" \(UTC\)/,
    ],
    [
      ['--from', 'last tuesday', '--to', '2026-02-01T00:00:00Z'],
      /from must be an ISO 8601 time with its zone.*"last tuesday"/,
    ],
    [
      ['--from', '2026-02-01T00:00:00', '--to', '2026-02-02T00:00:00Z'],
      /from must be an ISO 8601 time with its zone/,
    ],
    [['--from', '2026-02-30T00:00:00Z', '--to', '2026-03-01T00:00:00Z'], /from must be an ISO 8601 time/],
  ])('refuses %j (exit 1, naming the problem)', async (args, message) => {
    const r = await cli(['schedule', 'backfill', ...args]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('needs --from and --to (bad usage)', async () => {
    const r = await cli(['schedule', 'backfill', '--from', '2026-02-01T00:00:00Z']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--to/);
  });
});
