/**
 * History and audit on a real Redis: every write appends its record in the same script, a write
 * that changes nothing writes nothing, retention trims by count and by age, and restore and
 * revert are compare-and-set writes that never lose an operator's edit.
 */
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import {
  addBusiness,
  createPortfolio,
  type Portfolio,
  setAllocation,
  updatePortfolio,
  type WireAuditEntry,
  type WireHistoryRecord,
  type WriteMeta,
} from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { portfolioHistory, readAudit, restorePortfolio } from '../../src/services/history.js';
import { revertRun } from '../../src/services/revert.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('history');
const source = new MemoryMetricsSource();
const T = '2026-11-25T00:00:00.000Z';
const ALICE: WriteMeta = {
  actor: 'cli:alice@host',
  cause: { type: 'edit', command: 'portfolio set-allocation' },
};
let app: App;
let worker: RunningWorker;
let events: QueueEvents;

beforeAll(async () => {
  // Runs here move a third of a portfolio: above the turnover guard, which is not the subject.
  app = testApp(fixture.prefix, { metricsSource: source, env: { BALLAST_GUARDS: 'off' } });
  worker = await startWorker(app);
  events = await app.queue.events(app.redis);
});

afterAll(async () => {
  await events?.close();
  await worker?.close();
  await app?.close();
});

async function seed(id: string, businesses: string[]): Promise<Portfolio> {
  let p = createPortfolio({ id, name: id, ownerId: 'owner', strategy: 'revenue', driftThreshold: 0 }, T);
  for (const b of businesses) p = addBusiness(p, b, {}, T);
  return app.store.create(p, TEST_EDIT);
}

async function run(portfolioId: string, runId: string) {
  const jobId = recalculateJobId(runId, portfolioId);
  await app.queue.add({
    name: 'recalculate',
    data: { portfolioId, runId, trigger: 'manual', dryRun: false },
    jobId,
    priority: OPERATOR_PRIORITY,
  });
  return app.queue.waitFor(jobId, events, 20_000) as Promise<{ changes: number }>;
}

const weights = (p: Portfolio) => Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));
const historyOf = async (id: string): Promise<readonly WireHistoryRecord[]> =>
  (await portfolioHistory(app, id, 100)).history;

describe('history and audit', () => {
  it('records every write with its actor and cause, in the same script; an edit that changes nothing writes nothing', async () => {
    const p = await seed('h1', ['a', 'b']);
    await app.store.update('h1', (x) => setAllocation(x, 'a', { weight: 0.3 }, T), ALICE);
    const same = await app.store.update('h1', (x) => setAllocation(x, 'a', { weight: 0.3 }, T), ALICE);
    expect(same.version).toBe(p.version + 1);
    const renamed = await app.store.update('h1', (x) => updatePortfolio(x, { name: 'h1' }, T), ALICE);
    expect(renamed.version).toBe(p.version + 1);

    const history = await historyOf('h1');
    expect(history.map((r) => [r.version, r.actor, r.cause.type])).toEqual([
      [p.version + 1, 'cli:alice@host', 'edit'],
      [p.version, 'test', 'edit'],
    ]);
    expect(history[0]!.changes).toBe('a 50% -> 30%, b 50% -> 70%');
    expect(history[0]!.allocations.map((a) => [a.business_id, a.weight])).toEqual([
      ['a', 0.3],
      ['b', 0.7],
    ]);
    const audit = await readAudit(app, { portfolioId: 'h1', limit: 10 });
    expect(audit.map((e: WireAuditEntry) => [e.version_before, e.version_after, e.actor])).toEqual([
      [p.version, p.version + 1, 'cli:alice@host'],
      [0, p.version, 'test'],
    ]);
    expect(await readAudit(app, { actor: 'cli:alice@host', limit: 10 })).toHaveLength(1);
  });

  it('a run that changes nothing keeps the version and writes no history; one that moves writes one record', async () => {
    source.set(wire('r1', 300, 10), wire('r2', 100, 10));
    const p = await seed('h2', ['r1', 'r2']);
    const first = await run('h2', 'manual-h2-1');
    expect(first.changes).toBe(2);
    const moved = await app.store.require('h2');
    expect(moved.version).toBe(p.version + 1);
    const second = await run('h2', 'manual-h2-2');
    expect(second.changes).toBe(0);
    const still = await app.store.require('h2');
    expect(still.version).toBe(moved.version);
    const history = await historyOf('h2');
    expect(history.map((r) => r.cause)).toEqual([
      { type: 'run', run_id: 'manual-h2-1', report_id: 'manual-h2-1.h2' },
      { type: 'edit', command: 'test' },
    ]);
    expect(history[0]!.actor).toBe('run:manual-h2-1');
    const latest = JSON.parse((await app.reports.latest('h2'))!);
    expect(latest).toMatchObject({
      run_id: 'manual-h2-2',
      version_before: moved.version,
      version_after: moved.version,
    });
  });

  it('restores an earlier version as a new one; a dry run writes nothing', async () => {
    const p = await seed('h3', ['a', 'b', 'c']);
    const v1 = weights(p);
    await app.store.update('h3', (x) => setAllocation(x, 'a', { weight: 0.5, locked: true }, T), ALICE);
    await app.store.update('h3', (x) => setAllocation(x, 'b', { weight: 0.1 }, T), ALICE);
    const dry = await restorePortfolio(app, 'h3', p.version, {
      actor: 'cli:bob@host',
      dryRun: true,
    });
    expect(dry.changed).toBe(true);
    expect((await app.store.require('h3')).version).toBe(p.version + 2);
    const done = await restorePortfolio(app, 'h3', p.version, {
      actor: 'cli:bob@host',
      dryRun: false,
    });
    const now = await app.store.require('h3');
    expect(weights(now)).toEqual(v1);
    expect(now.allocations.every((a) => !a.locked)).toBe(true);
    expect(now.version).toBe(p.version + 3);
    expect(done.version_after).toBe(now.version);
    expect((await historyOf('h3'))[0]).toMatchObject({
      actor: 'cli:bob@host',
      cause: { type: 'restore', version: p.version },
    });
    // Restoring the version it already has changes nothing.
    const again = await restorePortfolio(app, 'h3', p.version, {
      actor: 'cli:bob@host',
      dryRun: false,
    });
    expect(again.changed).toBe(false);
    expect((await app.store.require('h3')).version).toBe(now.version);
    await expect(restorePortfolio(app, 'h3', 99, { actor: 'x', dryRun: false })).rejects.toThrow(
      `portfolio h3 has no version 99: its current version is ${now.version}`,
    );
  });

  it('reverts a run exactly; a second revert changes nothing; a racing operator edit is never lost', async () => {
    source.set(wire('x1', 800, 10), wire('x2', 100, 10), wire('x3', 100, 10));
    const p = await seed('h4', ['x1', 'x2', 'x3']);
    await run('h4', 'manual-h4-1');
    const ran = await app.store.require('h4');
    expect(ran.version).toBe(p.version + 1);
    // The revert and an operator's priority edit race: compare-and-set lets both land, in some order.
    const [result] = await Promise.all([
      revertRun(app, 'manual-h4-1', { actor: 'cli:carol@host', dryRun: false, force: false }),
      app.store.update('h4', (x) => setAllocation(x, 'x2', { priority: 9 }, T), ALICE),
    ]);
    const after = await app.store.require('h4');
    expect(after.allocations.find((a) => a.businessId === 'x2')!.priority).toBe(9);
    if (result.reverted.length === 1) {
      expect(weights(after)).toEqual(weights(p));
    } else {
      // The edit landed first: the revert is a conflict naming it, and --force takes back the run's moves.
      expect(result.conflicts[0]).toMatchObject({
        portfolio_id: 'h4',
        changed_since: { actor: 'cli:alice@host' },
      });
      const forced = await revertRun(app, 'manual-h4-1', {
        actor: 'cli:carol@host',
        dryRun: false,
        force: true,
      });
      expect(forced.reverted).toEqual(['h4']);
      const final = await app.store.require('h4');
      expect(weights(final)).toEqual(weights(p));
      expect(final.allocations.find((a) => a.businessId === 'x2')!.priority).toBe(9);
    }
    const twice = await revertRun(app, 'manual-h4-1', {
      actor: 'cli:carol@host',
      dryRun: false,
      force: false,
    });
    expect(twice).toMatchObject({ reverted: [], already_reverted: ['h4'], conflicts: [] });
    await expect(revertRun(app, 'manual-nope', { actor: 'x', dryRun: false, force: false })).rejects.toThrow(
      'run manual-nope not found',
    );
  });

  it('refuses to revert a run while one of its jobs is still waiting', async () => {
    const runId = 'manual-h5-pending';
    // Delayed a minute: still waiting when the revert asks, whatever the worker does.
    const job = await app.queue.queue.add(
      'recalculate',
      { portfolioId: 'h4', runId, trigger: 'manual' },
      {
        jobId: recalculateJobId(runId, 'h4'),
        delay: 60_000,
      },
    );
    try {
      await expect(revertRun(app, runId, { actor: 'x', dryRun: false, force: false })).rejects.toThrow(
        `run ${runId} is still running`,
      );
    } finally {
      await job.remove();
    }
    await expect(revertRun(app, runId, { actor: 'x', dryRun: false, force: false })).rejects.toThrow(
      `run ${runId} not found`,
    );
  });
});

describe('retention', () => {
  it('keeps the newest BALLAST_RETENTION_PER_PORTFOLIO records, and trims by age on the injected clock; the newest always stays', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const small = testApp(`${fixture.prefix}-ret`, {
      metricsSource: source,
      clock: () => now,
      env: {
        BALLAST_RETENTION_PER_PORTFOLIO: '3',
        BALLAST_RETENTION_DAYS: '10',
        BALLAST_RETENTION_GLOBAL: '4',
      },
    });
    try {
      let p = createPortfolio({ id: 'ret', name: 'ret', ownerId: 'o' }, T);
      p = addBusiness(addBusiness(p, 'a', {}, T), 'b', {}, T);
      await small.store.create(p, TEST_EDIT);
      for (const w of [0.1, 0.2, 0.3, 0.4]) {
        await small.store.update('ret', (x) => setAllocation(x, 'a', { weight: w }, T), TEST_EDIT);
      }
      const kept = await portfolioHistory(small, 'ret', 100);
      expect(kept.history.map((r) => r.version)).toEqual([p.version + 4, p.version + 3, p.version + 2]);
      expect(kept.kept).toEqual({ oldest: p.version + 2, newest: p.version + 4, count: 3 });
      expect(await small.redis.xlen(small.keys.audit)).toBe(4);
      await expect(restorePortfolio(small, 'ret', p.version, { actor: 'x', dryRun: false })).rejects.toThrow(
        `version ${p.version} of portfolio ret is no longer kept: versions ${p.version + 2} to ${p.version + 4} are kept`,
      );
      // 30 days later, one more change: everything older than 10 days goes, the new record stays.
      now = new Date('2026-01-31T00:00:00Z');
      await small.store.update('ret', (x) => setAllocation(x, 'a', { weight: 0.5 }, T), TEST_EDIT);
      expect((await portfolioHistory(small, 'ret', 100)).history.map((r) => r.version)).toEqual([
        p.version + 5,
      ]);
    } finally {
      await small.close();
    }
  });
});
