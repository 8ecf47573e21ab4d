/**
 * The schedule over HTTP: GET /schedule (the running scheduler's configuration from Redis),
 * pause with a note and resume (named by the token), trigger (202), backfill (each slot once,
 * 400 naming the problem for a bad range).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { nightlyJobId } from '../../jobs/payloads.js';
import type { App } from '../../src/app.js';
import { type RunningScheduler, startScheduler } from '../../src/runtime/scheduler.js';
import { testApp } from '../helpers/app.js';
import { useApi } from './api-fixture.js';

const API_ENV = { BALLAST_CRON: '0 2 * * *', BALLAST_TZ: 'UTC' };
const api = useApi({ name: 'api-schedule', env: API_ENV });
let schedulerApp: App | undefined;
let scheduler: RunningScheduler | undefined;

afterAll(async () => {
  await scheduler?.close();
  await schedulerApp?.close();
});

describe('GET /schedule', () => {
  it("says that no scheduler runs, and shows the API's own configuration", async () => {
    const r = await api.call('GET', '/schedule');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ cron: '0 2 * * *', timezone: 'UTC', source: 'local', schedulers: [] });
    expect(r.json.next_runs).toHaveLength(5);
    expect(r.json.warnings).toEqual([expect.stringMatching(/no scheduler is running/)]);
  });

  it("shows the running scheduler's configuration, and warns that the API's differs", async () => {
    schedulerApp = testApp(api.prefix, {
      env: { BALLAST_CRON: '30 4 * * 1-5', BALLAST_TZ: 'Asia/Tokyo', BALLAST_CATCH_UP: 'true' },
    });
    scheduler = await startScheduler(schedulerApp, { sweepMs: 0, catchUp: true });
    const r = await api.call('GET', '/schedule');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      cron: '30 4 * * 1-5',
      timezone: 'Asia/Tokyo',
      catch_up: true,
      source: 'scheduler',
    });
    expect(r.json.schedulers).toEqual([expect.objectContaining({ pid: process.pid, cron: '30 4 * * 1-5' })]);
    expect(r.json.next_runs_local[0]).toMatch(/T04:30:00\+09:00$/);
    expect(r.json.warnings).toEqual([
      expect.stringMatching(
        /BALLAST_CRON is "0 2 \* \* \*" here, "30 4 \* \* 1-5" there; BALLAST_TZ is UTC here/,
      ),
    ]);
    await scheduler.close();
    scheduler = undefined;
    expect((await api.call('GET', '/schedule')).json.source).toBe('local');
  });
});

describe('POST /schedule/pause and /schedule/resume', () => {
  it('pauses with a note, named by the token, and resumes', async () => {
    const paused = await api.call('POST', '/schedule/pause', { note: 'quarter close' });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.json).toMatchObject({
      paused: true,
      paused_by: 'api:default',
      pause_note: 'quarter close',
    });
    expect(paused.json.paused_at).toEqual(expect.any(String));
    const status = await api.call('GET', '/schedule');
    expect(status.json).toMatchObject({ paused: true, pause_note: 'quarter close' });

    const resumed = await api.call('POST', '/schedule/resume');
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.json).toMatchObject({ paused: false, pause_note: null, resumed_by: 'api:default' });

    const bare = await api.call('POST', '/schedule/pause');
    expect(bare.status, bare.text).toBe(200);
    expect(bare.json).toMatchObject({ paused: true, pause_note: null });
    expect((await api.call('POST', '/schedule/resume', {})).status).toBe(200);
  });

  it('refuses an unknown field, an empty note and a body on resume (400)', async () => {
    const unknown = await api.call('POST', '/schedule/pause', { reason: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toMatch(/reason/);
    expect((await api.call('POST', '/schedule/pause', { note: '' })).status).toBe(400);
    const body = await api.call('POST', '/schedule/resume', { note: 'x' });
    expect(body.status).toBe(400);
    expect(body.json.message).toMatch(/takes no body/);
    expect((await api.call('GET', '/schedule')).json.paused).toBe(false);
  });
});

describe('POST /schedule/trigger', () => {
  it("queues an operator's nightly run: 202 with its run and job ids", async () => {
    const r = await api.call('POST', '/schedule/trigger');
    expect(r.status, r.text).toBe(202);
    expect(r.json.job_id).toBe(nightlyJobId(r.json.run_id));
    expect(await api.app.queue.getJob(r.json.job_id)).not.toBeNull();
    const [record] = await api.app.reports.runRecords([r.json.run_id]);
    expect(record).toMatchObject({ trigger: 'manual', actor: 'api:default' });
  });
});

describe('POST /schedule/backfill', () => {
  const range = { from: '2026-02-01T00:00:00Z', to: '2026-02-03T23:00:00Z' };

  it('queues each slot once; a second backfill and a dry run queue nothing', async () => {
    const dry = await api.call('POST', '/schedule/backfill', { ...range, dry_run: true });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json).toMatchObject({ dry_run: true, cron: '0 2 * * *', timezone: 'UTC' });
    expect(dry.json.slots.map((s: { run_id: string }) => s.run_id)).toEqual([
      'cron-20260201T020000Z',
      'cron-20260202T020000Z',
      'cron-20260203T020000Z',
    ]);
    expect(await api.app.queue.getJob(nightlyJobId('cron-20260201T020000Z'))).toBeNull();

    // Two at once: each slot is queued by one of them.
    const [a, b] = await Promise.all([
      api.call('POST', '/schedule/backfill', range),
      api.call('POST', '/schedule/backfill', range),
    ]);
    expect(a.status, a.text).toBe(200);
    expect(b.status, b.text).toBe(200);
    const queued = [...a.json.slots, ...b.json.slots].filter((s: { queued: boolean }) => s.queued);
    expect(queued.map((s: { run_id: string }) => s.run_id).sort()).toEqual([
      'cron-20260201T020000Z',
      'cron-20260202T020000Z',
      'cron-20260203T020000Z',
    ]);
    for (const s of queued) {
      const [record] = await api.app.reports.runRecords([s.run_id]);
      expect(record).toMatchObject({ trigger: 'cron', catchUp: true, actor: 'api:default' });
    }

    const again = await api.call('POST', '/schedule/backfill', range);
    expect(again.json.slots.map((s: { queued: boolean; reason: string }) => [s.queued, s.reason])).toEqual([
      [false, 'already run'],
      [false, 'already run'],
      [false, 'already run'],
    ]);
  });

  it.each([
    [{ from: '2026-02-03T00:00:00Z', to: '2026-02-01T00:00:00Z' }, /must be before to/],
    [
      { from: '2026-02-03T00:00:00Z', to: '2099-01-01T00:00:00Z' },
      /to \(2099-01-01T00:00:00Z\) is in the future/,
    ],
    [{ from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, /more than 366 slots/],
    [{ from: '2026-02-01', to: '2026-02-03T00:00:00Z' }, /from must be an ISO 8601 time with its zone/],
    [{ from: '2026-02-01T00:00:00Z' }, /body\.to: /],
    [{ ...range, dryrun: true }, /dryrun/],
  ])('answers 400 naming the problem for %j', async (body, message) => {
    const r = await api.call('POST', '/schedule/backfill', body);
    expect(r.status, r.text).toBe(400);
    expect(`${r.json.message} ${r.json.details.join(' ')}`).toMatch(message);
  });
});
