/**
 * History, restore and revert, pure: random sequences of operator edits and runs, each recorded
 * as history records; restore(N) must reproduce version N, revert must take back exactly what a
 * run moved, and every step keeps the invariants.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusiness,
  changesNothing,
  createPortfolio,
  describeDiff,
  diffPortfolios,
  type HistoryRecord,
  historyRecord,
  historyRecordFromWire,
  historyRecordToWire,
  isBallastError,
  type Portfolio,
  RefusedError,
  removeBusiness,
  restoreVersion,
  revertMoves,
  runPortfolio,
  type SetAllocationInput,
  setAllocation,
  snapshotAllocation,
  type WriteMeta,
} from '../../src/domain/index.js';
import { metricsMap, T0, T1 } from './fixtures.js';
import { check, checkWeights, SEED } from './property-checks.js';

const EDIT: WriteMeta = {
  actor: 'cli:test@host',
  cause: { type: 'edit', command: 'portfolio set-allocation' },
};
const IDS = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];

type Step =
  | { kind: 'add'; id: string }
  | { kind: 'remove'; id: string }
  | { kind: 'set'; id: string; input: SetAllocationInput }
  | { kind: 'run'; revenues: number[] };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), id: fc.constantFrom(...IDS) }),
  fc.record({ kind: fc.constant('remove' as const), id: fc.constantFrom(...IDS) }),
  fc.record({
    kind: fc.constant('set' as const),
    id: fc.constantFrom(...IDS),
    input: fc.oneof(
      fc.record({ weight: fc.double({ min: 0, max: 0.6, noNaN: true }) }),
      fc.record({ locked: fc.boolean() }),
      fc.record({ priority: fc.integer({ min: 1, max: 10 }) }),
      fc.record({ minWeight: fc.constantFrom(0, 0.01, null), maxWeight: fc.constantFrom(0.9, 1, null) }),
    ),
  }),
  fc.record({
    kind: fc.constant('run' as const),
    revenues: fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 6, maxLength: 6 }),
  }),
);

interface Version {
  readonly portfolio: Portfolio;
  readonly record: HistoryRecord;
}

/** Applies the steps the way the store does: a refused or empty change writes nothing. */
let runs = 0;

function play(steps: readonly Step[]): Version[] {
  let p = createPortfolio(
    { id: 'h', name: 'History', ownerId: 'o', strategy: 'revenue', driftThreshold: 0 },
    T0,
  );
  const versions: Version[] = [{ portfolio: p, record: historyRecord(null, p, EDIT, T0) }];
  for (const [i, step] of steps.entries()) {
    let next: Portfolio;
    let meta: WriteMeta = EDIT;
    try {
      if (step.kind === 'add') next = addBusiness(p, step.id, {}, T1);
      else if (step.kind === 'remove') next = removeBusiness(p, step.id, T1);
      else if (step.kind === 'set') next = setAllocation(p, step.id, step.input, T1);
      else {
        const metrics = revenueMetrics(IDS, step.revenues);
        const runId = `run-${i}`;
        next = runPortfolio({
          portfolio: p,
          metrics,
          runId,
          reportId: `${runId}.h`,
          trigger: 'cron',
          now: T1,
          dryRun: false,
        }).portfolio;
        meta = { actor: `run:${runId}`, cause: { type: 'run', runId, reportId: `${runId}.h` } };
        // Invariant 2: a run never moves a locked allocation.
        for (const [k, a] of next.allocations.entries()) {
          if (p.allocations[k]!.locked)
            check(a.weight === p.allocations[k]!.weight, () => `run moved locked ${a.businessId}`);
        }
      }
    } catch (err) {
      // A refused edit, or a run that bounds make impossible, writes nothing.
      if (step.kind === 'run' ? err instanceof RefusedError : isBallastError(err)) continue;
      throw err;
    }
    if (step.kind === 'run') runs++;
    if (changesNothing(p, next)) continue;
    next = { ...next, version: p.version + 1 };
    checkWeights(next, `step ${i} (${step.kind})`);
    versions.push({ portfolio: next, record: historyRecord(p, next, meta, T1) });
    p = next;
  }
  return versions;
}

/** Revenue-only metrics for these businesses, in this order. */
function revenueMetrics(ids: readonly string[], revenues: readonly number[]) {
  return metricsMap(
    Object.fromEntries(
      ids.map((id, k) => [id, { revenue: revenues[k] ?? 0, expenses: 0, growth_rate: 0, health_score: 50 }]),
    ),
  );
}

const sameAllocations = (a: Portfolio, b: Portfolio) =>
  expect(a.allocations.map(snapshotAllocation)).toEqual(b.allocations.map(snapshotAllocation));

describe('history records', () => {
  it('restore(N) reproduces version N exactly, as a new version; weights sum to 1 and locks hold after every step', () => {
    let restored = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 25 }), fc.nat(), (steps, pick) => {
        const versions = play(steps);
        const current = versions[versions.length - 1]!.portfolio;
        const target = versions[pick % versions.length]!;
        // What the stream holds is what restore reads: through the wire and back.
        const record = historyRecordFromWire(JSON.parse(JSON.stringify(historyRecordToWire(target.record))));
        expect(record).toEqual(target.record);
        const sameSet =
          [...target.portfolio.allocations.map((a) => a.businessId)].sort().join() ===
          [...current.allocations.map((a) => a.businessId)].sort().join();
        if (!sameSet) {
          expect(() => restoreVersion(current, record, T1)).toThrow(RefusedError);
          refused++;
          return;
        }
        const back = restoreVersion(current, record, T1);
        sameAllocations(back, target.portfolio);
        expect(back.version).toBe(current.version + 1);
        if (back.allocations.length > 0) checkWeights(back, 'restore');
        // Settings are not part of a restore.
        expect(back.strategy).toBe(current.strategy);
        restored++;
      }),
      { numRuns: 300, seed: SEED },
    );
    expect(restored).toBeGreaterThan(50);
    expect(runs).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(10);
  });

  it('each record diffs against the version before it, and describes it as a person reads it', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 15 }), (steps) => {
        const versions = play(steps);
        for (let i = 1; i < versions.length; i++) {
          const { record } = versions[i]!;
          expect(record.versionBefore).toBe(versions[i - 1]!.portfolio.version);
          expect(record.version).toBe(record.versionBefore + 1);
          expect(describeDiff(record.diff)).not.toBe('no change');
        }
      }),
      { numRuns: 200, seed: SEED },
    );
  });

  it('names the businesses a restore cannot bring back', () => {
    let p = createPortfolio({ id: 'r', name: 'R', ownerId: 'o' }, T0);
    p = addBusiness(addBusiness(p, 'b1', {}, T0), 'b2', {}, T0);
    const v = historyRecord(null, p, EDIT, T0);
    const now = addBusiness(removeBusiness(p, 'b2', T1), 'b9', {}, T1);
    expect(() => restoreVersion(now, v, T1)).toThrow(
      `cannot restore portfolio r to version ${p.version}: version ${p.version} had b2, no longer in the portfolio; the portfolio now has b9, not in version ${p.version}`,
    );
  });

  it('describes changes: weights, adds, removals, locks and settings', () => {
    let a = createPortfolio({ id: 'd', name: 'D', ownerId: 'o' }, T0);
    a = addBusiness(addBusiness(a, 'b1', {}, T0), 'b2', {}, T0);
    const b = { ...setAllocation(a, 'b1', { weight: 0.35, locked: true }, T1), strategy: 'growth' as const };
    expect(describeDiff(diffPortfolios(a, b))).toBe(
      'b1 50% -> 35%, b1 locked false -> true, b2 50% -> 65%, strategy equal -> growth',
    );
    expect(describeDiff(diffPortfolios(a, addBusiness(a, 'b3', {}, T1)))).toBe(
      'b1 50% -> 33.3%, b2 50% -> 33.3%, +b3 (33.3%)',
    );
    expect(changesNothing(a, { ...a, version: 9, updatedAt: T1 })).toBe(true);
  });
});

describe('reverting a run', () => {
  const runOn = (p: Portfolio, revenues: number[]) => {
    const metrics = revenueMetrics(
      p.allocations.map((a) => a.businessId),
      revenues,
    );
    return runPortfolio({
      portfolio: p,
      metrics,
      runId: 'r1',
      reportId: 'r1.x',
      trigger: 'cron',
      now: T1,
      dryRun: false,
    });
  };
  const movesOf = (report: ReturnType<typeof runOn>['report']) =>
    report.actions
      .filter((a) => a.action === 'increase' || a.action === 'decrease')
      .map((a) => ({ businessId: a.businessId, before: a.currentWeight, after: a.recommendedWeight }));

  it('untouched since the run: back to exactly the weights before it; forced over a later edit: only the moved allocations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 6 }),
        fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.nat(),
        (seedWeights, revenues, lockPick) => {
          let p = createPortfolio(
            { id: 'x', name: 'X', ownerId: 'o', strategy: 'revenue', driftThreshold: 0 },
            T0,
          );
          for (const [k] of seedWeights.entries()) p = addBusiness(p, `b${k}`, {}, T0);
          const { portfolio: after, report } = runOn(p, revenues);
          const moves = movesOf(report);
          if (after === p) return;
          const back = revertMoves(after, moves, false, T1);
          sameAllocations(back, p);
          expect(back.version).toBe(after.version + 1);
          // An operator locks one allocation the run did not move, or changes a setting, then a forced revert.
          const unmoved = after.allocations.filter((a) => !moves.some((m) => m.businessId === a.businessId));
          const edited =
            unmoved.length > 0
              ? setAllocation(after, unmoved[lockPick % unmoved.length]!.businessId, { locked: true }, T1)
              : { ...after, name: 'renamed', version: after.version + 1 };
          try {
            const forced = revertMoves(edited, moves, true, T1);
            checkWeights(forced, 'forced revert');
            for (const m of moves) {
              expect(forced.allocations.find((a) => a.businessId === m.businessId)!.weight).toBe(m.before);
            }
            for (const a of edited.allocations) {
              if (a.locked)
                expect(forced.allocations.find((b) => b.businessId === a.businessId)!.weight).toBe(a.weight);
            }
          } catch (err) {
            expect(err).toBeInstanceOf(RefusedError);
          }
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});
