/**
 * Guardrails on a real Redis with a real worker: a sane night applies, an absurd one is held as
 * proposals (nothing moves), approve applies exactly the proposal (and is refused after an edit),
 * reject keeps the weights, advisory never moves, and a run with too many held portfolios opens
 * its circuit breaker for the rest.
 */
import type { QueueEvents } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyJobId, recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import {
  addBusiness,
  ConflictError,
  createPortfolio,
  NotFoundError,
  type Portfolio,
  setAllocation,
  type WireReport,
} from '../../src/domain/index.js';
import { createPrometheus } from '../../src/observability/prometheus.js';
import { followRun } from '../../src/runtime/follow-run.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { readAudit } from '../../src/services/history.js';
import {
  approvePendingProposal,
  listProposals,
  rejectPendingProposal,
  showProposal,
} from '../../src/services/proposals.js';
import { runSummary } from '../../src/services/run-summary.js';
import { clusterApp, TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

const fixture = useRedisPrefix('guards');
const source = new MemoryMetricsSource();
const T = '2026-11-25T00:00:00.000Z';
const ALICE = {
  actor: 'cli:alice@host',
  cause: { type: 'edit' as const, command: 'portfolio set-allocation' },
};
let app: App;
let worker: RunningWorker;
let events: QueueEvents;

beforeAll(async () => {
  app = testApp(fixture.prefix, { metricsSource: source });
  worker = await startWorker(app);
  events = await app.queue.events(app.redis);
});

afterAll(async () => {
  await events?.close();
  await worker?.close();
  await app?.close();
});

/** Three businesses of revenue 1000, 1300, 1600 (a move of ~6 points each way) unless given. */
function sane(prefix: string, scale = 1) {
  return [
    wire(`${prefix}1`, 1000 * scale, 400),
    wire(`${prefix}2`, 1300 * scale, 500),
    wire(`${prefix}3`, 1600 * scale, 600),
  ];
}

async function seed(
  target: App,
  id: string,
  businesses: string[],
  extra: Partial<Portfolio> = {},
): Promise<Portfolio> {
  let p = createPortfolio({ id, name: id, ownerId: 'owner', strategy: 'revenue', driftThreshold: 0 }, T);
  for (const b of businesses) p = addBusiness(p, b, {}, T);
  return target.store.create({ ...p, ...extra }, TEST_EDIT);
}

async function recalc(portfolioId: string, runId: string, dryRun = false) {
  const jobId = recalculateJobId(runId, portfolioId);
  await app.queue.add({
    name: 'recalculate',
    data: { portfolioId, runId, trigger: 'manual', dryRun },
    jobId,
    priority: OPERATOR_PRIORITY,
  });
  await app.queue.waitFor(jobId, events, 20_000);
  return JSON.parse((await app.reports.runReport(portfolioId, runId))!) as WireReport;
}

const weights = (p: Portfolio) => Object.fromEntries(p.allocations.map((a) => [a.businessId, a.weight]));

describe('guards on a real run', () => {
  it('applies a sane run, holds an absurd one as a proposal with reasons, and approve applies exactly it', async () => {
    source.set(...sane('g'));
    const p = await seed(app, 'g1', ['g1', 'g2', 'g3']);
    const first = await recalc('g1', 'manual-g-1');
    expect(first).toMatchObject({ applied: true, held: null, apply_mode: 'auto' });
    const applied = await app.store.require('g1');
    expect(applied.version).toBe(p.version + 1);

    // 100x the revenue of one business: a jump against the baseline the first run wrote.
    source.set(wire('g2', 130_000, 500));
    const held = await recalc('g1', 'manual-g-2');
    expect(held.applied).toBe(false);
    expect(held.held!.reasons.map((r) => r.guard)).toContain('metric-jump');
    expect(held.held!.reasons.find((r) => r.guard === 'metric-jump')).toEqual({
      guard: 'metric-jump',
      business_id: 'g2',
      detail: 'revenue 1300 -> 130000 (x100, limit x5)',
    });
    const unchanged = await app.store.require('g1');
    expect(unchanged).toEqual(applied);

    const proposal = await showProposal(app, 'g1');
    expect(proposal).toMatchObject({
      portfolio_id: 'g1',
      report_id: 'manual-g-2.g1',
      run_id: 'manual-g-2',
      version: applied.version,
      supersedes: null,
    });
    expect(proposal.reasons).toEqual(held.held!.reasons);
    const listed = await listProposals(app);
    expect(listed.proposals.map((x) => x.portfolio_id)).toContain('g1');

    const approved = await approvePendingProposal(app, 'g1', {
      actor: 'cli:bob@host',
      note: 'checked with finance',
    });
    expect(approved).toMatchObject({ version_before: applied.version, version_after: applied.version + 1 });
    const after = await app.store.require('g1');
    expect(weights(after)).toEqual(
      Object.fromEntries(proposal.actions.map((a) => [a.business_id, a.recommended_weight])),
    );
    expect(after.lastRun).toMatchObject({ runId: 'manual-g-2', reportId: 'manual-g-2.g1' });
    await expect(showProposal(app, 'g1')).rejects.toThrow('portfolio g1 has no pending proposal');
    const [entry] = await readAudit(app, { portfolioId: 'g1', limit: 1 });
    expect(entry).toMatchObject({
      actor: 'cli:bob@host',
      cause: { type: 'approve', report_id: 'manual-g-2.g1' },
      note: 'checked with finance',
      version_after: applied.version + 1,
    });
    // Approval accepted the proposal's metrics: the same figures the next night are no jump.
    const next = await recalc('g1', 'manual-g-3');
    expect(next.held).toBeNull();
  });

  it('refuses an approval after an operator edit, saying what changed; a later run replaces the proposal', async () => {
    source.set(...sane('h'));
    await seed(app, 'h1', ['h1', 'h2', 'h3'], { maxAutoTurnover: 0.01 });
    const held = await recalc('h1', 'manual-h-1');
    expect(held.held!.reasons.map((r) => r.guard)).toEqual(['turnover']);
    await app.store.update('h1', (x) => setAllocation(x, 'h2', { priority: 9 }, T), ALICE);
    const refused = approvePendingProposal(app, 'h1', { actor: 'cli:bob@host' });
    await expect(refused).rejects.toThrow(ConflictError);
    await expect(refused).rejects.toThrow(
      /changed since proposal manual-h-1\.h1 .* by cli:alice@host: h2 priority 5 -> 9/,
    );
    // The next run holds again (its own proposal), recording the one it replaces.
    await recalc('h1', 'manual-h-2');
    const replaced = await showProposal(app, 'h1');
    expect(replaced).toMatchObject({
      report_id: 'manual-h-2.h1',
      supersedes: { report_id: 'manual-h-1.h1', run_id: 'manual-h-1' },
    });
  });

  it('reject leaves the weights and records the rejection in audit', async () => {
    source.set(...sane('r'));
    const p = await seed(app, 'r1', ['r1', 'r2', 'r3'], { applyMode: 'approve' });
    const held = await recalc('r1', 'manual-r-1');
    expect(held.held!.reasons.map((r) => r.guard)).toEqual(['approval-required']);
    const rejected = await rejectPendingProposal(app, 'r1', { actor: 'cli:carol@host', note: 'not now' });
    expect(rejected).toEqual({ portfolio_id: 'r1', report_id: 'manual-r-1.r1', version: p.version });
    expect(await app.store.require('r1')).toEqual(p);
    const [entry] = await readAudit(app, { portfolioId: 'r1', limit: 1 });
    expect(entry).toMatchObject({
      actor: 'cli:carol@host',
      cause: { type: 'reject', report_id: 'manual-r-1.r1' },
      note: 'not now',
      version_before: p.version,
      version_after: p.version,
    });
    await expect(rejectPendingProposal(app, 'r1', { actor: 'x' })).rejects.toThrow(NotFoundError);
  });

  it('drops the index entry of an expired proposal when listing, and keeps a live one', async () => {
    source.set(...sane('e'));
    for (const id of ['e1', 'e2']) {
      await seed(app, id, ['e1', 'e2', 'e3'], { applyMode: 'approve' });
      await recalc(id, `manual-${id}-1`);
    }
    // e1's proposal expires (its TTL, here by hand): the index still names it until a list.
    await app.redis.del(app.keys.proposal('e1'));
    const listed = (await listProposals(app)).proposals.map((p) => p.portfolio_id);
    expect(listed).toContain('e2');
    expect(listed).not.toContain('e1');
    expect(await app.redis.zscore(app.keys.proposals, 'e1')).toBeNull();
    expect(await app.redis.zscore(app.keys.proposals, 'e2')).not.toBeNull();
  });

  it('an advisory portfolio never moves and leaves no proposal; a dry run shows what would be held', async () => {
    source.set(...sane('a'));
    const p = await seed(app, 'a1', ['a1', 'a2', 'a3'], { applyMode: 'advisory' });
    const report = await recalc('a1', 'manual-a-1');
    expect(report).toMatchObject({ applied: false, held: null, apply_mode: 'advisory' });
    expect(report.changes).toBeGreaterThan(0);
    expect(await app.store.require('a1')).toEqual(p);
    await expect(showProposal(app, 'a1')).rejects.toThrow('has no pending proposal');

    await seed(app, 'a2', ['a1', 'a2', 'a3'], { maxAutoTurnover: 0 });
    const dry = await recalc('a2', 'manual-a-2', true);
    expect(dry).toMatchObject({ applied: false, dry_run: true });
    expect(dry.held!.reasons.map((r) => r.guard)).toEqual(['turnover']);
    await expect(showProposal(app, 'a2')).rejects.toThrow('has no pending proposal');
  });

  it('stale and inconsistent metrics are flagged per business and the rest still rebalances', async () => {
    source.set(
      wire('s1', 1000, 400),
      wire('s2', 2000, 400),
      wire('s3', 1300, 999, { expenses: 100 }),
      wire('s4', 1600, 600, { as_of: '2026-01-01T00:00:00Z' }),
    );
    await seed(app, 's1', ['s1', 's2', 's3', 's4'], { maxAutoTurnover: 1 });
    const report = await recalc('s1', 'manual-s-1');
    expect(report.applied).toBe(true);
    expect(report.flags.map((f) => [f.business_id, f.guard])).toEqual([
      ['s3', 'invalid-metrics'],
      ['s4', 'stale-metrics'],
    ]);
    const actions = Object.fromEntries(report.actions.map((a) => [a.business_id, a.action]));
    expect(actions).toEqual({ s1: 'decrease', s2: 'increase', s3: 'no-metrics', s4: 'no-metrics' });
  });
});

describe('the circuit breaker', () => {
  it('holds the rest of a nightly run once more than 20% of the first 20 were held: log line, counter, summary', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const prefix = `${fixture.prefix}-cb`;
    const cb = testApp(prefix, { metricsSource: source, log, env: { BALLAST_CONCURRENCY: '1' } });
    const prometheus = createPrometheus({ processMetrics: false });
    const cbWorker = await startWorker(cb, prometheus.observe);
    const cbEvents = await cb.queue.events(cb.redis);
    try {
      source.set(...sane('c'), wire('c9', 1000, 400));
      // 25 portfolios in id order (the fan-out's order): the first 8 are absurd (one business at
      // 100x: a turnover far above 25%), the other 17 sane.
      for (let i = 0; i < 25; i++) {
        const id = `c${String(i).padStart(2, '0')}`;
        await seed(cb, id, i < 8 ? ['c9', 'c2', 'c3'] : ['c1', 'c2', 'c3']);
      }
      source.set(wire('c9', 100_000, 400));
      const runId = 'manual-nightly-cb';
      const watching = followRun(cb, cbEvents, runId, () => {});
      await cb.queue.add({
        name: 'nightly',
        data: { runId, trigger: 'manual' },
        jobId: nightlyJobId(runId),
        priority: OPERATOR_PRIORITY,
      });
      const progress = await watching;
      expect(progress).toMatchObject({ total: 25, completed: 25, failed: 0 });

      const summary = await runSummary(cb, runId);
      expect(summary.circuitOpen).toBe(
        'circuit breaker open: 8 of the first 20 portfolios of this run were held (more than 20%); the rest of the run is held',
      );
      expect(summary.outcomes).toMatchObject({ changed: 12, held: 13 });
      for (const id of ['c20', 'c21', 'c24']) {
        const report = JSON.parse((await cb.reports.runReport(id, runId))!) as WireReport;
        expect(report.held!.reasons.map((r) => r.guard)).toEqual(['run-circuit-open']);
      }
      const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0].msg).toBe(summary.circuitOpen);
      const metrics = (await prometheus.scrape()).body;
      expect(metrics).toContain('ballast_run_circuit_open_total 1');
      expect(metrics).toContain('ballast_portfolios_held_total{guard="run-circuit-open"} 5');
      expect(metrics).toContain('ballast_portfolios_held_total{guard="turnover"} 8');
      expect((await listProposals(cb)).total).toBe(13);
    } finally {
      await cbEvents.close();
      await cbWorker.close();
      await cb.close();
    }
  });
});

describe('with BALLAST_REDIS_CLUSTER (the index, tally and audit follow the commit in a second round trip)', () => {
  it('lists, approves and rejects proposals, and counts the run', async () => {
    const cl = clusterApp(`${fixture.prefix}-cl`, { metricsSource: source });
    const clWorker = await startWorker(cl);
    const clEvents = await cl.queue.events(cl.redis);
    try {
      source.set(...sane('k'));
      for (const id of ['k1', 'k2']) await seed(cl, id, ['k1', 'k2', 'k3'], { applyMode: 'approve' });
      const runId = 'manual-nightly-cl';
      const watching = followRun(cl, clEvents, runId, () => {});
      await cl.queue.add({
        name: 'nightly',
        data: { runId, trigger: 'manual' },
        jobId: nightlyJobId(runId),
        priority: OPERATOR_PRIORITY,
      });
      expect(await watching).toMatchObject({ total: 2, completed: 2, failed: 0 });
      expect((await runSummary(cl, runId)).outcomes).toMatchObject({ held: 2 });
      // The second round trip publishes summaries too, with the full report's stream id.
      const global = await cl.redis.xrange(cl.keys.reports, '-', '+');
      expect(global).toHaveLength(2);
      for (const [, fields] of global) {
        expect(fields[0]).toBe('summary');
        expect(JSON.parse(fields[1]!)).toMatchObject({
          run_id: runId,
          held: { guards: ['approval-required'] },
        });
        expect(JSON.parse(fields[1]!).stream_id).toMatch(/^\d+-\d+$/);
      }
      expect(await cl.reports.runTally(runId)).toMatchObject({ decided: 2, held: 0 });
      const listed = await listProposals(cl);
      expect(listed.proposals.map((x) => x.portfolio_id).sort()).toEqual(['k1', 'k2']);
      const before = await cl.store.require('k1');
      await approvePendingProposal(cl, 'k1', { actor: 'cli:bob@host' });
      expect((await cl.store.require('k1')).version).toBe(before.version + 1);
      await rejectPendingProposal(cl, 'k2', { actor: 'cli:bob@host' });
      expect((await listProposals(cl)).total).toBe(0);
      const audit = await readAudit(cl, { actor: 'cli:bob@host', limit: 10 });
      expect(audit.map((e) => [e.portfolio_id, e.cause.type])).toEqual([
        ['k2', 'reject'],
        ['k1', 'approve'],
      ]);
    } finally {
      await clEvents.close();
      await clWorker.close();
      await cl.close();
    }
  });
});
