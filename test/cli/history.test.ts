/**
 * `ballast portfolio history | restore`, `ballast audit` and `ballast runs revert` against a real
 * Redis, in-process, with BALLAST_ACTOR naming who each command says it is.
 */
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import { runCli } from '../../src/cli/run-cli.js';
import type { Portfolio, WireAuditEntry } from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import type { HistoryPage, RestoreResult } from '../../src/services/history.js';
import type { RevertResult } from '../../src/services/revert.js';
import { testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { cliContext, type InProcessResult } from './in-process.js';

const redis = useRedisPrefix('cli-history');
const source = new MemoryMetricsSource();
let app: App;

beforeAll(() => {
  // testApp's queue is `q`: the CLI below is told the same, so `runs revert` sees the run's jobs.
  app = testApp(redis.prefix, { metricsSource: source });
});

afterAll(async () => {
  await app?.close();
});

/** `ballast ...` in-process as `actor` (BALLAST_ACTOR). */
async function as(actor: string, ...argv: string[]): Promise<InProcessResult> {
  const { ctx, output } = cliContext(redis.prefix);
  const env = { ...ctx.env, BALLAST_QUEUE: 'q', BALLAST_ACTOR: actor };
  const code = await runCli(argv, { ...ctx, env });
  return { code, ...output() };
}

/** A command that must succeed with --json: its parsed output. */
async function json<T>(actor: string, ...argv: string[]): Promise<T> {
  const result = await as(actor, ...argv, '--json');
  expect(result.stderr, argv.join(' ')).toBe('');
  expect(result.code, argv.join(' ')).toBe(0);
  return JSON.parse(result.stdout) as T;
}

function weights(p: Portfolio): Record<string, number> {
  return Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));
}

async function stored(id: string): Promise<Portfolio> {
  return app.store.require(id);
}

/** Creates `id` (revenue, no drift threshold) and adds `businesses`, as `actor`. */
async function seed(actor: string, id: string, businesses: readonly string[]): Promise<void> {
  await json(
    actor,
    'portfolio',
    'create',
    '--id',
    id,
    '--name',
    id,
    '--owner',
    'ops',
    '--strategy',
    'revenue',
  );
  await json(actor, 'portfolio', 'update', id, '--drift-threshold', '0');
  for (const b of businesses) await json(actor, 'portfolio', 'add-business', id, b);
}

const ALICE = 'ops:alice';
const BOB = 'ops:bob';

describe('portfolio history', () => {
  beforeAll(async () => {
    await seed(ALICE, 'hist', ['b1', 'b2']);
    await json(BOB, 'portfolio', 'set-allocation', 'hist', 'b1', '--weight', '0.35');
  });

  it('lists every version newest first, with who, why and what changed', async () => {
    const page = await json<HistoryPage>(ALICE, 'portfolio', 'history', 'hist');
    expect(page).toMatchObject({
      portfolio_id: 'hist',
      current_version: 5,
      kept: { oldest: 1, newest: 5, count: 5 },
    });
    expect(page.history.map((r) => [r.version, r.version_before, r.actor, r.cause])).toEqual([
      [5, 4, BOB, { type: 'edit', command: 'portfolio set-allocation' }],
      [4, 3, ALICE, { type: 'edit', command: 'portfolio add-business' }],
      [3, 2, ALICE, { type: 'edit', command: 'portfolio add-business' }],
      [2, 1, ALICE, { type: 'edit', command: 'portfolio update' }],
      [1, 0, ALICE, { type: 'edit', command: 'portfolio create' }],
    ]);
    expect(page.history[0]!.changes).toBe('b1 50% -> 35%, b2 50% -> 65%');
    expect(page.history[1]!.changes).toBe('b1 100% -> 50%, +b2 (50%)');
    // The record holds every allocation after the change: what a restore brings back.
    expect(page.history[0]!.allocations.map((a) => [a.business_id, a.weight])).toEqual([
      ['b1', 0.35],
      ['b2', 0.65],
    ]);

    const text = await as(ALICE, 'portfolio', 'history', 'hist');
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe('Portfolio hist: version 5; history keeps versions 1 to 5 (5 records)');
    expect(lines[2]).toMatch(/^Version\s+When\s+Actor\s+Cause\s+Changes$/);
    expect(lines[3]).toMatch(
      /^\s*5\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\s+ops:bob\s+edit \(portfolio set-allocation\)\s+b1 50% -> 35%, b2 50% -> 65%$/,
    );
    expect(lines[7]).toMatch(/^\s*1\s+\S+\s+ops:alice\s+edit \(portfolio create\)\s+\+?.*$/);
  });

  it('--limit shows the newest n and says more are kept', async () => {
    const page = await json<HistoryPage>(ALICE, 'portfolio', 'history', 'hist', '--limit', '2');
    expect(page.history.map((r) => r.version)).toEqual([5, 4]);
    expect(page.kept).toEqual({ oldest: 1, newest: 5, count: 5 });
    const text = await as(ALICE, 'portfolio', 'history', 'hist', '--limit', '2');
    expect(text.stdout.split('\n')[0]).toContain('the newest 2 shown (--limit shows more)');
  });

  it('refuses a bad --limit before reaching Redis, and an unknown portfolio', async () => {
    for (const limit of ['0', 'abc', '1.5', '1001']) {
      const result = await as(ALICE, 'portfolio', 'history', 'hist', '--limit', limit);
      expect(result.code, limit).toBe(2);
      expect(result.stderr, limit).toMatch(/^ballast: option '--limit <n>' argument .* is invalid/);
      expect(result.stdout).toBe('');
    }
    const unknown = await as(ALICE, 'portfolio', 'history', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^ballast: .*nope/);
  });
});

describe('audit', () => {
  beforeAll(async () => {
    await seed(ALICE, 'aud', ['c1']);
    await json(BOB, 'portfolio', 'update', 'aud', '--name', 'Audited');
  });

  it('--actor and --portfolio filter, newest first', async () => {
    const { entries } = await json<{ entries: WireAuditEntry[] }>(ALICE, 'audit', '--actor', BOB);
    expect(entries.length).toBeGreaterThanOrEqual(2);
    expect(entries.every((e) => e.actor === BOB)).toBe(true);
    expect(entries[0]).toMatchObject({
      portfolio_id: 'aud',
      actor: BOB,
      cause: { type: 'edit', command: 'portfolio update' },
      version_before: 3,
      version_after: 4,
      changes: 'name aud -> Audited',
    });
    expect(entries.map((e) => e.portfolio_id)).toContain('hist');

    const one = await json<{ entries: WireAuditEntry[] }>(
      ALICE,
      'audit',
      '--actor',
      BOB,
      '--portfolio',
      'aud',
    );
    expect(one.entries).toHaveLength(1);

    const limited = await json<{ entries: WireAuditEntry[] }>(
      ALICE,
      'audit',
      '--portfolio',
      'aud',
      '--limit',
      '2',
    );
    expect(limited.entries.map((e) => e.version_after)).toEqual([4, 3]);

    const text = await as(ALICE, 'audit', '--actor', BOB, '--portfolio', 'aud');
    expect(text.code).toBe(0);
    const [header, row] = text.stdout.split('\n');
    expect(header).toMatch(/^When\s+Actor\s+Portfolio\s+Cause\s+Version\s+Changes$/);
    expect(row).toMatch(/^\S+Z\s+ops:bob\s+aud\s+edit \(portfolio update\)\s+3 -> 4\s+name aud -> Audited$/);

    const nobody = await as(ALICE, 'audit', '--actor', 'ops:nobody');
    expect(nobody).toMatchObject({ code: 0, stdout: 'No changes match.\n' });
  });

  it('--since takes a duration or an ISO time, and refuses anything else naming --since', async () => {
    const day = await json<{ entries: WireAuditEntry[] }>(
      ALICE,
      'audit',
      '--since',
      '24h',
      '--portfolio',
      'aud',
    );
    expect(day.entries).toHaveLength(4);
    const future = await json<{ entries: WireAuditEntry[] }>(
      ALICE,
      'audit',
      '--since',
      '2999-01-01T00:00:00Z',
    );
    expect(future.entries).toEqual([]);
    for (const since of ['garbage', 'yesterday', '24', '2026-13-45T99:00:00', '']) {
      const result = await as(ALICE, 'audit', '--since', since);
      expect(result.code, since).toBe(2);
      expect(result.stderr, since).toMatch(/--since/);
      expect(result.stderr, since).toMatch(/nor a duration \(30m, 24h, 7d\)/);
      expect(result.stdout).toBe('');
    }
  });
});

describe('portfolio restore', () => {
  beforeAll(async () => {
    await seed(ALICE, 'rest', ['d1', 'd2', 'd3']); // v5: a third each
    await json(BOB, 'portfolio', 'set-allocation', 'rest', 'd1', '--weight', '0.5'); // v6
    await json(BOB, 'portfolio', 'set-allocation', 'rest', 'd2', '--weight', '0.1', '--locked', 'true'); // v7
  });

  it('brings back the exact allocations of an earlier version, as a new version', async () => {
    const page = await json<HistoryPage>(ALICE, 'portfolio', 'history', 'rest');
    const v6 = page.history.find((r) => r.version === 6)!;
    const before = await stored('rest');
    expect(before.version).toBe(7);

    const result = await json<RestoreResult>(ALICE, 'portfolio', 'restore', 'rest', '--version', '6');
    expect(result).toMatchObject({
      portfolio_id: 'rest',
      restored_version: 6,
      dry_run: false,
      changed: true,
      version_before: 7,
      version_after: 8,
    });
    const after = await stored('rest');
    expect(after.version).toBe(8);
    expect(weights(after)).toEqual(Object.fromEntries(v6.allocations.map((a) => [a.business_id, a.weight])));
    expect(after.allocations.find((a) => a.businessId === 'd2')!.locked).toBe(false);

    const newest = (await json<HistoryPage>(BOB, 'portfolio', 'history', 'rest', '--limit', '1')).history[0]!;
    expect(newest).toMatchObject({ version: 8, actor: ALICE, cause: { type: 'restore', version: 6 } });
  });

  it('prints what it did; --dry-run writes nothing; the same allocations again are nothing to restore', async () => {
    const before = await stored('rest');
    const dry = await as(BOB, 'portfolio', 'restore', 'rest', '--version', '7', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Would restore portfolio rest to version 7: as version 9 \(d1 50% -> /);
    expect(await stored('rest')).toEqual(before);
    expect((await json<HistoryPage>(BOB, 'portfolio', 'history', 'rest')).current_version).toBe(8);

    const done = await as(BOB, 'portfolio', 'restore', 'rest', '--version', '7');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /^Restored portfolio rest to version 7: now version 9 \(d1 50% -> [^)]*d2 locked false -> true/,
    );
    expect(done.stdout).toContain('d2');

    const again = await as(BOB, 'portfolio', 'restore', 'rest', '--version', '7');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      'Nothing to restore: portfolio rest already has the allocations of version 7 (it stays at version 9)\n',
    );
    expect((await stored('rest')).version).toBe(9);
  });

  it('is refused when the businesses differ, or the version does not exist, writing nothing', async () => {
    await json(BOB, 'portfolio', 'add-business', 'rest', 'd4'); // v10
    const before = await stored('rest');

    const refused = await as(ALICE, 'portfolio', 'restore', 'rest', '--version', '9');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^ballast: cannot restore portfolio rest to version 9: .*d4, not in version 9/,
    );
    expect(refused.stdout).toBe('');

    const ahead = await as(ALICE, 'portfolio', 'restore', 'rest', '--version', '11');
    expect(ahead.code).toBe(1);
    expect(ahead.stderr).toMatch(/^ballast: portfolio rest has no version 11: its current version is 10/);

    for (const version of ['0', 'abc', '-1', '2.5']) {
      const bad = await as(ALICE, 'portfolio', 'restore', 'rest', '--version', version);
      expect(bad.code, version).toBe(2);
      expect(bad.stderr, version).toMatch(/option '--version <n>' argument .* is invalid/);
    }
    const missing = await as(ALICE, 'portfolio', 'restore', 'rest');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--version/);
    expect(await stored('rest')).toEqual(before);
  });
});

describe('runs revert', () => {
  let worker: RunningWorker;
  let events: QueueEvents;

  beforeAll(async () => {
    worker = await startWorker(app);
    events = await app.queue.events(app.redis);
  });
  afterAll(async () => {
    await events?.close();
    await worker?.close();
  });

  /** Runs the recalculate job for one portfolio through the worker and waits for it. */
  async function recalculate(portfolioId: string, runId: string): Promise<void> {
    const jobId = recalculateJobId(runId, portfolioId);
    await app.queue.add({
      name: 'recalculate',
      data: { portfolioId, runId, trigger: 'manual', dryRun: false },
      jobId,
      priority: OPERATOR_PRIORITY,
    });
    await app.queue.waitFor(jobId, events, 20_000);
  }

  it('refuses an unknown run (exit 1) and a malformed run id (exit 2)', async () => {
    const unknown = await as(ALICE, 'runs', 'revert', 'manual-never-ran');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^ballast: run manual-never-ran not found/);
    const bad = await as(ALICE, 'runs', 'revert', 'a.b');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"a\.b" is not a valid run id/);
  });

  it('takes a run back to exactly the weights before it, once', async () => {
    await seed(ALICE, 'rv', ['r1', 'r2']);
    source.set(wire('r1', 300, 10), wire('r2', 100, 10));
    const before = await stored('rv');
    await recalculate('rv', 'manual-rv-1');
    const ran = await stored('rv');
    expect(ran.version).toBe(before.version + 1);
    expect(weights(ran)).not.toEqual(weights(before));

    const dry = await json<RevertResult>(ALICE, 'runs', 'revert', 'manual-rv-1', '--dry-run');
    expect(dry).toMatchObject({ dry_run: true, reverted: ['rv'] });
    expect(await stored('rv')).toEqual(ran);

    const result = await json<RevertResult>(ALICE, 'runs', 'revert', 'manual-rv-1');
    expect(result).toEqual({
      run_id: 'manual-rv-1',
      dry_run: false,
      force: false,
      reverted: ['rv'],
      conflicts: [],
      already_reverted: [],
      unchanged: [],
    });
    const reverted = await stored('rv');
    expect(weights(reverted)).toEqual(weights(before));
    expect(reverted.version).toBe(ran.version + 1);

    const again = await as(ALICE, 'runs', 'revert', 'manual-rv-1');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      'Revert of run manual-rv-1: 0 reverted, 0 conflicts, 1 already reverted, 0 unchanged by the run\n' +
        'Already reverted: rv\n',
    );
    expect(await stored('rv')).toEqual(reverted);

    const page = await json<HistoryPage>(ALICE, 'portfolio', 'history', 'rv', '--limit', '2');
    expect(page.history.map((r) => [r.actor, r.cause])).toEqual([
      [ALICE, { type: 'revert', run_id: 'manual-rv-1', forced: false }],
      ['run:manual-rv-1', { type: 'run', run_id: 'manual-rv-1', report_id: expect.any(String) }],
    ]);
    const text = await as(ALICE, 'portfolio', 'history', 'rv', '--limit', '2');
    expect(text.stdout).toContain('revert of run manual-rv-1');
    expect(text.stdout).toMatch(/run:manual-rv-1\s+run manual-rv-1\s+r1 50% -> 75%, r2 50% -> 25%/);
  });

  it("reports an operator's edit since the run as a conflict naming them; --force reverts only what the run moved", async () => {
    await seed(ALICE, 'rc', ['c1', 'c2', 'c3']);
    await json(ALICE, 'portfolio', 'set-allocation', 'rc', 'c3', '--locked', 'true');
    source.set(wire('c1', 300, 10), wire('c2', 100, 10), wire('c3', 100, 10));
    const before = await stored('rc');
    await recalculate('rc', 'manual-rc-1');
    const ran = await stored('rc');
    expect(weights(ran).c3).toBe(weights(before).c3); // locked: the run did not move it
    expect(weights(ran).c1).not.toBe(weights(before).c1);

    await json(BOB, 'portfolio', 'set-allocation', 'rc', 'c3', '--priority', '9');
    const edited = await stored('rc');

    const conflict = await as(ALICE, 'runs', 'revert', 'manual-rc-1', '--json');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toBe(
      'ballast: 1 portfolio of run manual-rc-1 not reverted (conflicts); --force reverts only the allocations the run moved\n',
    );
    const result = JSON.parse(conflict.stdout) as RevertResult;
    expect(result.reverted).toEqual([]);
    expect(result.conflicts).toEqual([
      {
        portfolio_id: 'rc',
        reason: expect.stringContaining('changed since the run'),
        changed_since: {
          version: edited.version,
          actor: BOB,
          cause: { type: 'edit', command: 'portfolio set-allocation' },
          at: expect.any(String),
        },
      },
    ]);
    expect(await stored('rc')).toEqual(edited);

    const text = await as(ALICE, 'runs', 'revert', 'manual-rc-1');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('Revert of run manual-rc-1: 0 reverted, 1 conflict, 0 already reverted');
    expect(text.stdout).toMatch(
      new RegExp(
        `  rc: changed since the run by ops:bob \\(version ${edited.version}, edit \\(portfolio set-allocation\\), \\S+Z\\)`,
      ),
    );
    expect(text.stdout).toContain('Run again with --force');

    // A dry run is a question: it exits 0 even with conflicts.
    const dry = await as(ALICE, 'runs', 'revert', 'manual-rc-1', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run of run manual-rc-1: 0 to revert, 1 conflict/);

    const forced = await json<RevertResult>(ALICE, 'runs', 'revert', 'manual-rc-1', '--force');
    expect(forced).toMatchObject({ force: true, reverted: ['rc'], conflicts: [] });
    const after = await stored('rc');
    expect(weights(after)).toEqual(weights(before));
    // The operator's edit stays: only the allocations the run moved were touched.
    const c3 = after.allocations.find((a) => a.businessId === 'c3')!;
    expect(c3).toMatchObject({ priority: 9, locked: true });
    expect(after.version).toBe(edited.version + 1);
    const newest = (await json<HistoryPage>(ALICE, 'portfolio', 'history', 'rc', '--limit', '1')).history[0]!;
    expect(newest.cause).toEqual({ type: 'revert', run_id: 'manual-rc-1', forced: true });
    expect(newest.changes).not.toContain('c3');

    const again = await json<RevertResult>(ALICE, 'runs', 'revert', 'manual-rc-1');
    expect(again).toMatchObject({ reverted: [], conflicts: [], already_reverted: ['rc'] });
  });
});
