/**
 * Guardrails, pure: each metric check at and around its boundary, the hold decision, the circuit
 * breaker's count, and runPortfolio's held, advisory and flagged reports.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approveProposal,
  type BusinessMetrics,
  circuitTrips,
  DEFAULT_GUARDS,
  decideApply,
  type GuardSettings,
  isJump,
  metricJumps,
  metricProblem,
  metricsFromWire,
  type Portfolio,
  proposalFromReport,
  proposalFromWire,
  proposalToWire,
  runPortfolio,
  StaleVersionError,
  screenMetrics,
} from '../../src/domain/index.js';
import { expectWeightsValid, T0, weightsOf, wirePortfolio } from './fixtures.js';
import { check, SEED } from './property-checks.js';

const NOW = Date.parse(T0);
const HOUR = 3600_000;

function metrics(id: string, fields: Record<string, unknown> = {}): BusinessMetrics {
  return metricsFromWire({
    business_id: id,
    revenue: 1000,
    expenses: 600,
    customers: 10,
    growth_rate: 5,
    health_score: 80,
    ...fields,
  });
}

describe('metricProblem: inconsistent figures', () => {
  it('accepts profit within 1% of revenue - expenses and refuses it just beyond', () => {
    // revenue 1000, expenses 600: profit should be 400, tolerance 1% of 1000 = 10.
    expect(metricProblem(metrics('a', { profit: 410, margin: 41 }), NOW, DEFAULT_GUARDS)).toBeNull();
    expect(metricProblem(metrics('a', { profit: 390, margin: 39 }), NOW, DEFAULT_GUARDS)).toBeNull();
    const off = metricProblem(metrics('a', { profit: 411, margin: 41.1 }), NOW, DEFAULT_GUARDS);
    expect(off).toMatchObject({ guard: 'invalid-metrics', businessId: 'a' });
    expect(off!.detail).toBe('profit 411 is not revenue 1000 - expenses 600 = 400 (tolerance 1%)');
  });

  it('scales the tolerance with at least 1 for tiny figures', () => {
    expect(
      metricProblem(metrics('a', { revenue: 0, expenses: 0, profit: 0.01 }), NOW, DEFAULT_GUARDS),
    ).toBeNull();
    expect(
      metricProblem(metrics('a', { revenue: 0, expenses: 0, profit: 0.02 }), NOW, DEFAULT_GUARDS),
    ).toMatchObject({ guard: 'invalid-metrics' });
  });

  it('accepts a margin within 1 point of profit / revenue and refuses it beyond', () => {
    expect(metricProblem(metrics('a', { margin: 41 }), NOW, DEFAULT_GUARDS)).toBeNull();
    expect(metricProblem(metrics('a', { margin: 39 }), NOW, DEFAULT_GUARDS)).toBeNull();
    const off = metricProblem(metrics('a', { margin: 41.5 }), NOW, DEFAULT_GUARDS);
    expect(off!.detail).toBe('margin 41.5% is not profit 400 / revenue 1000 = 40% (tolerance 1 point)');
    // Without revenue there is no margin to check.
    expect(
      metricProblem(metrics('a', { revenue: 0, expenses: 0, margin: 50 }), NOW, DEFAULT_GUARDS),
    ).toBeNull();
  });

  it('derives profit and margin when they are left out, which are then consistent', () => {
    expect(metricProblem(metrics('a'), NOW, DEFAULT_GUARDS)).toBeNull();
  });
});

describe('metricProblem: stale metrics', () => {
  const at = (ms: number) => new Date(NOW - ms).toISOString();
  it('is stale only past the age limit; without as_of never', () => {
    expect(metricProblem(metrics('a', { as_of: at(48 * HOUR) }), NOW, DEFAULT_GUARDS)).toBeNull();
    const stale = metricProblem(metrics('a', { as_of: at(48 * HOUR + 1000) }), NOW, DEFAULT_GUARDS);
    expect(stale).toMatchObject({ guard: 'stale-metrics', businessId: 'a' });
    expect(stale!.detail).toMatch(/are 48 h old \(limit 48 h\)$/);
    const older = metricProblem(metrics('a', { as_of: at(10 * 24 * HOUR) }), NOW, DEFAULT_GUARDS);
    expect(older!.detail).toMatch(/are 10 days old \(limit 48 h\)$/);
    expect(metricProblem(metrics('a'), NOW + 1e12, DEFAULT_GUARDS)).toBeNull();
    // A limit of its own.
    expect(
      metricProblem(metrics('a', { as_of: at(2 * HOUR) }), NOW, { maxMetricsAgeMs: HOUR }),
    ).toMatchObject({
      guard: 'stale-metrics',
    });
  });
});

describe('metricProblem: as_of in the future', () => {
  it('accepts an hour of clock skew and flags beyond it', () => {
    const ahead = (ms: number) => new Date(NOW + ms).toISOString();
    expect(metricProblem(metrics('a', { as_of: ahead(HOUR) }), NOW, DEFAULT_GUARDS)).toBeNull();
    expect(metricProblem(metrics('a', { as_of: ahead(HOUR + 1000) }), NOW, DEFAULT_GUARDS)).toMatchObject({
      guard: 'invalid-metrics',
      detail: expect.stringMatching(/is 1 h in the future/),
    });
  });
});

describe('screenMetrics', () => {
  it('sets aside only the flagged businesses, and returns the same map when none is', () => {
    const clean = new Map([['a', metrics('a')]]);
    expect(screenMetrics(clean, NOW, DEFAULT_GUARDS).usable).toBe(clean);
    const mixed = new Map([
      ['a', metrics('a')],
      ['b', metrics('b', { profit: 999 })],
      ['c', metrics('c', { as_of: '2020-01-01T00:00:00Z' })],
    ]);
    const screened = screenMetrics(mixed, NOW, DEFAULT_GUARDS);
    expect([...screened.usable.keys()]).toEqual(['a']);
    expect(screened.flags.map((f) => [f.businessId, f.guard])).toEqual([
      ['b', 'invalid-metrics'],
      ['c', 'stale-metrics'],
    ]);
    expect(mixed.size).toBe(3);
  });
});

describe('isJump', () => {
  it('is a jump beyond the factor either way, at the factor not', () => {
    expect(isJump(100, 500, 5)).toBe(false);
    expect(isJump(100, 501, 5)).toBe(true);
    expect(isJump(500, 100, 5)).toBe(false);
    expect(isJump(501, 100, 5)).toBe(true);
    // Magnitudes floored at 1: 0 -> 5 is no jump, 0 -> 6 is.
    expect(isJump(0, 5, 5)).toBe(false);
    expect(isJump(0, 6, 5)).toBe(true);
    // A change of sign alone is not one.
    expect(isJump(-1000, 1000, 5)).toBe(false);
  });

  it('is symmetric and never a jump within the factor (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        (a, b, factor) => {
          check(isJump(a, b, factor) === isJump(b, a, factor), () => `asymmetric for ${a}, ${b}, ${factor}`);
          const ratio = Math.max(Math.abs(a), 1) / Math.max(Math.abs(b), 1);
          if (ratio <= factor && ratio >= 1 / factor) {
            check(!isJump(a, b, factor), () => `${a} -> ${b} within x${factor} called a jump`);
          }
          if (ratio > factor * 1.000001 || ratio < 1 / (factor * 1.000001)) {
            check(isJump(a, b, factor), () => `${a} -> ${b} beyond x${factor} not called a jump`);
          }
        },
      ),
      { numRuns: 1000, seed: SEED },
    );
  });
});

describe('metricJumps', () => {
  it('names the business, the field and old -> new, for businesses the baseline knows', () => {
    const baseline = new Map([['a', { revenue: 1000, profit: 400, customers: 10 }]]);
    const now = new Map([
      ['a', metrics('a', { revenue: 100_000, expenses: 99_600 })],
      ['new', metrics('new', { revenue: 1e9, expenses: 0 })],
    ]);
    const jumps = metricJumps(baseline, now, 5);
    expect(jumps).toEqual([
      {
        guard: 'metric-jump',
        businessId: 'a',
        detail: 'revenue 1000 -> 100000 (x100, limit x5)',
      },
    ]);
    const drop = metricJumps(baseline, new Map([['a', metrics('a', { customers: 1 })]]), 5);
    expect(drop[0]!.detail).toBe('customers 10 -> 1 (x1/10, limit x5)');
  });

  it('floors a profit near zero at 1% of the revenue: break-even swings are no jump, real ones are', () => {
    const near = new Map([['a', { revenue: 800_000, profit: 50, customers: 10 }]]);
    // 50 -> 2,000 on a revenue of 800,000: both under the floor of 8,000.
    const swing = metrics('a', { revenue: 800_000, expenses: 798_000 });
    expect(metricJumps(near, new Map([['a', swing]]), 5)).toEqual([]);
    // 50 -> 48,000: 6x the floor.
    const real = metrics('a', { revenue: 800_000, expenses: 752_000 });
    expect(metricJumps(near, new Map([['a', real]]), 5)).toEqual([
      { guard: 'metric-jump', businessId: 'a', detail: 'profit 50 -> 48000 (x6, limit x5)' },
    ]);
  });
});

const settings: GuardSettings = DEFAULT_GUARDS;
const base = wirePortfolio({
  strategy: 'revenue',
  allocations: { a: { weight: 0.5 }, b: { weight: 0.5 } },
});

describe('decideApply', () => {
  const input = {
    portfolio: base,
    settings,
    changes: 2,
    turnover: 0.1,
    unlockedWeight: 1,
    missingWeight: 0,
    jumps: [],
    circuitOpen: null,
  };

  it('applies a normal recommendation and never holds one that moves nothing', () => {
    expect(decideApply(input)).toEqual({ kind: 'apply' });
    expect(decideApply({ ...input, changes: 0, turnover: 0.9, circuitOpen: 'open' })).toEqual({
      kind: 'apply',
    });
  });

  it('holds above max_auto_turnover (the setting, else the default), at it not', () => {
    expect(decideApply({ ...input, turnover: 0.25 })).toEqual({ kind: 'apply' });
    const held = decideApply({ ...input, turnover: 0.2501 });
    expect(held).toMatchObject({ kind: 'hold', byGuard: true, reasons: [{ guard: 'turnover' }] });
    const own = { ...base, maxAutoTurnover: 0.5 };
    expect(decideApply({ ...input, portfolio: own, turnover: 0.4 })).toEqual({ kind: 'apply' });
    expect(decideApply({ ...input, portfolio: own, turnover: 0.51 })).toMatchObject({ kind: 'hold' });
  });

  it('holds when more than the share of the unlocked weight has no usable metrics', () => {
    expect(decideApply({ ...input, unlockedWeight: 0.8, missingWeight: 0.4 })).toEqual({ kind: 'apply' });
    expect(decideApply({ ...input, unlockedWeight: 0.8, missingWeight: 0.41 })).toMatchObject({
      kind: 'hold',
      reasons: [
        {
          guard: 'missing-metrics',
          detail: '51.3% of the unlocked weight has no usable metrics (limit 50%)',
        },
      ],
    });
  });

  it('holds on a jump, on an open breaker (not counted as a guard hold), and in approve mode', () => {
    const jump = { guard: 'metric-jump' as const, businessId: 'a', detail: 'x' };
    expect(decideApply({ ...input, jumps: [jump] })).toMatchObject({ kind: 'hold', byGuard: true });
    expect(decideApply({ ...input, circuitOpen: 'open' })).toMatchObject({
      kind: 'hold',
      byGuard: false,
      reasons: [{ guard: 'run-circuit-open', detail: 'open' }],
    });
    expect(decideApply({ ...input, portfolio: { ...base, applyMode: 'approve' } })).toMatchObject({
      kind: 'hold',
      byGuard: false,
      reasons: [{ guard: 'approval-required' }],
    });
  });

  it('with guards off, only the apply mode decides', () => {
    const off = { ...settings, enabled: false };
    const wild = { ...input, settings: off, turnover: 1, missingWeight: 1, circuitOpen: 'open' };
    expect(decideApply(wild)).toEqual({ kind: 'apply' });
    expect(decideApply({ ...wild, portfolio: { ...base, applyMode: 'approve' } })).toMatchObject({
      kind: 'hold',
    });
    expect(decideApply({ ...wild, portfolio: { ...base, applyMode: 'advisory' } })).toEqual({
      kind: 'advisory',
    });
  });
});

describe('circuitTrips', () => {
  it('counts once 20 are decided, or at the end of a smaller run; more than the share trips it', () => {
    expect(circuitTrips({ decided: 19, held: 19 }, settings, false)).toBe(false);
    expect(circuitTrips({ decided: 20, held: 4 }, settings, false)).toBe(false);
    expect(circuitTrips({ decided: 20, held: 5 }, settings, false)).toBe(true);
    expect(circuitTrips({ decided: 10, held: 2 }, settings, true)).toBe(false);
    expect(circuitTrips({ decided: 10, held: 3 }, settings, true)).toBe(true);
    expect(circuitTrips({ decided: 0, held: 0 }, settings, true)).toBe(false);
    expect(circuitTrips({ decided: 20, held: 20 }, { ...settings, enabled: false }, true)).toBe(false);
  });
});

describe('runPortfolio with guards', () => {
  const portfolio = wirePortfolio({
    strategy: 'revenue',
    allocations: { a: { weight: 0.25 }, b: { weight: 0.25 }, c: { weight: 0.25 }, d: { weight: 0.25 } },
  });
  // Revenue 1000..1900: the revenue split moves a and d by 7.8 points (b and c stay within the
  // drift threshold), a turnover well under 25%.
  const sane = new Map(['a', 'b', 'c', 'd'].map((id, i) => [id, metrics(id, { revenue: 1000 + i * 300 })]));
  const run = (p: Portfolio, m: Map<string, BusinessMetrics>, baseline: Map<string, never> | null = null) =>
    runPortfolio({
      portfolio: p,
      metrics: m,
      runId: 'r1',
      reportId: 'r1.p1',
      trigger: 'cron',
      now: T0,
      dryRun: false,
      guards: { settings, baseline: baseline ?? null, circuitOpen: null },
    });

  it('applies a sane night', () => {
    const out = run(portfolio, sane);
    expect(out.decision).toEqual({ kind: 'apply' });
    expect(out.report).toMatchObject({ applied: true, held: null, flags: [], applyMode: 'auto' });
    expect(out.report.changes).toBeGreaterThan(0);
    expect(out.report.turnover).toBeLessThan(0.25);
    expect(out.portfolio.version).toBe(portfolio.version + 1);
  });

  it('holds an absurd night against the baseline, changes nothing, and its proposal approves exactly', () => {
    const first = run(portfolio, sane);
    const baseline = first.baseline();
    const absurd = new Map(sane);
    absurd.set('a', metrics('a', { revenue: 100_000, expenses: 600 }));
    const out = runPortfolio({
      portfolio,
      metrics: absurd,
      runId: 'r2',
      reportId: 'r2.p1',
      trigger: 'cron',
      now: T0,
      dryRun: false,
      guards: { settings, baseline, circuitOpen: null },
    });
    expect(out.portfolio).toBe(portfolio);
    expect(out.report.applied).toBe(false);
    expect(out.report.held!.reasons.map((r) => r.guard)).toEqual(['metric-jump', 'metric-jump', 'turnover']);
    expect(out.report.held!.reasons[0]!.detail).toBe('revenue 1000 -> 100000 (x100, limit x5)');
    const proposal = proposalFromWire(
      JSON.parse(JSON.stringify(proposalToWire(proposalFromReport(out.report, 7 * 24 * HOUR)))),
    );
    expect(proposal.expiresAt).toBe('2026-01-08T00:00:00.000Z');
    const approved = approveProposal(portfolio, proposal, T0);
    expect(approved.version).toBe(portfolio.version + 1);
    expect(weightsOf(approved)).toEqual(
      Object.fromEntries(out.report.actions.map((a) => [a.businessId, a.recommendedWeight])),
    );
    expectWeightsValid(approved);
    expect(approved.lastRun).toEqual({ runId: 'r2', reportId: 'r2.p1', at: T0 });
    // Not on another version.
    expect(() => approveProposal({ ...portfolio, version: portfolio.version + 1 }, proposal, T0)).toThrow(
      StaleVersionError,
    );
  });

  it('flags stale and inconsistent metrics per business and rebalances the rest', () => {
    const mixed = new Map(sane);
    mixed.set('c', metrics('c', { profit: 5 }));
    mixed.set('d', metrics('d', { as_of: '2025-12-01T00:00:00Z' }));
    const out = runPortfolio({
      portfolio: { ...portfolio, maxAutoTurnover: 1 },
      metrics: mixed,
      runId: 'r3',
      reportId: 'r3.p1',
      trigger: 'cron',
      now: T0,
      dryRun: false,
      guards: { settings: { ...settings, maxMissing: 0.5 }, baseline: null, circuitOpen: null },
    });
    expect(out.report.flags.map((f) => [f.businessId, f.guard])).toEqual([
      ['c', 'invalid-metrics'],
      ['d', 'stale-metrics'],
    ]);
    const byId = Object.fromEntries(out.report.actions.map((a) => [a.businessId, a]));
    expect(byId['c']!.action).toBe('no-metrics');
    expect(byId['c']!.reason).toContain('invalid-metrics: profit 5 is not revenue 1000');
    expect(byId['d']!.action).toBe('no-metrics');
    expect(out.report.applied).toBe(true);
    expect(out.report.metrics!.businessesWithoutMetrics).toBe(2);
  });

  it('a jump on a night that moves nothing is flagged, not held, and not taken into the baseline', () => {
    const locked = { ...portfolio, allocations: portfolio.allocations.map((a) => ({ ...a, locked: true })) };
    const baseline = run(portfolio, sane).baseline();
    const jumped = new Map(sane);
    jumped.set('a', metrics('a', { revenue: 100_000, expenses: 600 }));
    const out = runPortfolio({
      portfolio: locked,
      metrics: jumped,
      runId: 'r5',
      reportId: 'r5.p1',
      trigger: 'cron',
      now: T0,
      dryRun: false,
      guards: { settings, baseline, circuitOpen: null },
    });
    expect(out.decision).toEqual({ kind: 'apply' });
    expect(out.report.flags.map((f) => [f.businessId, f.guard])).toContainEqual(['a', 'metric-jump']);
    expect(out.baseline().get('a')).toEqual(baseline.get('a'));
    expect(out.baseline().get('b')).toEqual({ revenue: 1300, profit: 700, customers: 10 });
  });

  it('in advisory mode reports and never applies', () => {
    const out = run({ ...portfolio, applyMode: 'advisory' }, sane);
    expect(out.decision).toEqual({ kind: 'advisory' });
    expect(out.portfolio.version).toBe(portfolio.version);
    expect(out.report).toMatchObject({ applied: false, held: null, applyMode: 'advisory' });
  });

  it('a dry run says what a run would hold', () => {
    const out = runPortfolio({
      portfolio: { ...portfolio, applyMode: 'approve' },
      metrics: sane,
      runId: 'r4',
      reportId: 'r4.p1',
      trigger: 'manual',
      now: T0,
      dryRun: true,
      guards: { settings, baseline: null, circuitOpen: null },
    });
    expect(out.report.applied).toBe(false);
    expect(out.report.held!.reasons.map((r) => r.guard)).toEqual(['approval-required']);
  });
});
