import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AS_OF_MAX_MS,
  addBusinesses,
  applyRecommendation,
  createPortfolio,
  FROM_OPERATOR_FILES,
  FROM_OTHER_SYSTEMS,
  metricsFromWire,
  metricsToWire,
  type Portfolio,
  portfolioFromWire,
  portfolioToWire,
  recommend,
  reportToWire,
  runPortfolio,
  safeMetricsFromWire,
  setAllocation,
  ValidationError,
} from '../../src/domain/index.js';
import { expectWeightsValid, metricsMap, T0, T1, T2, T3, T4 } from './fixtures.js';
import { check, RUNS } from './property-checks.js';
import { wireMetricsArb, withoutNulls } from './wire-metrics-arb.js';

function built(): Portfolio {
  let p = createPortfolio(
    {
      id: 'p-1',
      name: 'Round trip',
      ownerId: 'owner_9',
      strategy: 'custom',
      totalBudget: 250_000,
      targetRoi: 12.5,
      driftThreshold: 0.02,
      attentionHoursPerWeek: 30,
      maxTurnover: 0.4,
    },
    T0,
  );
  p = addBusinesses(p, [{ businessId: 'alpha' }, { businessId: 'beta' }, { businessId: 'gamma' }], T1);
  p = setAllocation(p, 'alpha', { minWeight: 0.1, maxWeight: 0.6, targetWeight: 0.5, priority: 2 }, T2);
  p = setAllocation(p, 'gamma', { weight: 0.2, locked: true }, T3);
  const metrics = metricsMap({
    alpha: { revenue: 10, expenses: 5, growth_rate: 1, health_score: 50 },
    beta: { revenue: 10, expenses: 5, growth_rate: 1, health_score: 50 },
  });
  return applyRecommendation(p, recommend(p, metrics), { runId: 'run-7', reportId: 'rep-7', at: T4 });
}

const base = { id: 'p1', name: 'Test', owner_id: 'user_1' };

/** The ValidationError thrown for `input`, so that its message and details can be checked. */
function refusal(input: unknown): ValidationError {
  try {
    portfolioFromWire(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('portfolioFromWire accepted the input');
}

describe('portfolio wire format', () => {
  it('round-trips portfolioToWire -> portfolioFromWire, through JSON too', () => {
    const p = built();
    expect(p.lastRun).toBeDefined();
    expect(p.allocations.some((a) => a.locked && a.minWeight === undefined)).toBe(true);

    expect(portfolioFromWire(portfolioToWire(p))).toEqual(p);
    expect(portfolioFromWire(JSON.parse(JSON.stringify(portfolioToWire(p))))).toEqual(p);
    expect(portfolioToWire(portfolioFromWire(portfolioToWire(p)))).toEqual(portfolioToWire(p));
  });

  it('writes snake_case with the derived figures', () => {
    const wire = portfolioToWire(built());

    expect(wire).toMatchObject({
      id: 'p-1',
      owner_id: 'owner_9',
      strategy: 'custom',
      max_turnover: 0.4,
      business_count: 3,
      businesses: ['alpha', 'beta', 'gamma'],
      last_run: { run_id: 'run-7', report_id: 'rep-7', at: T4 },
    });
    expect(wire.allocations['gamma']).toEqual({
      weight: 0.2,
      budget_percent: 20,
      budget_amount: 50_000,
      attention_hours: 6,
      priority: 5,
      locked: true,
      min_weight: null,
      max_weight: null,
      target_weight: null,
    });
  });

  it('keeps the order of `businesses`, not of the allocation keys', () => {
    const p = portfolioFromWire({
      ...base,
      businesses: ['b', 'a'],
      allocations: { a: { weight: 0.25 }, b: { weight: 0.75 } },
    });
    expect(p.allocations.map((a) => a.businessId)).toEqual(['b', 'a']);
  });

  describe('refuses bad input with a ValidationError naming the field', () => {
    it('unknown strategy', () => {
      const err = refusal({ ...base, strategy: 'aggressive' });
      expect(err.message).toContain(
        'strategy: unknown strategy "aggressive": use one of equal, performance, growth, revenue, custom',
      );
    });

    it('weight 1.5', () => {
      const err = refusal({ ...base, allocations: { a: { weight: 1.5 } } });
      expect(err.message).toMatch(/^invalid portfolio: allocations\.a\.weight: /);
    });

    it('duplicate business id in businesses', () => {
      const err = refusal({
        ...base,
        businesses: ['a', 'b', 'a'],
        allocations: { a: { weight: 0.5 }, b: { weight: 0.5 } },
      });
      expect(err.message).toContain('businesses: duplicate business id a');
    });

    it('business ids with spaces or colons', () => {
      const spaced = refusal({ ...base, businesses: ['a b'], allocations: { 'a b': { weight: 1 } } });
      expect(spaced.message).toContain('businesses.0:');
      expect(spaced.message).toContain('"a b"');
      const colon = refusal({ ...base, allocations: { 'biz:1': { weight: 1 } } });
      expect(colon.message).toContain('allocations.biz:1: business id "biz:1" is not valid');
    });

    it('portfolio and owner ids with spaces or colons', () => {
      expect(refusal({ ...base, id: 'p 1' }).message).toMatch(/\bid: must be 1\.\.64 characters/);
      expect(refusal({ ...base, owner_id: 'user:1' }).message).toMatch(
        /owner_id: must be 1\.\.64 characters/,
      );
    });

    it('weights not summing to 1', () => {
      const err = refusal({ ...base, allocations: { a: { weight: 0.5 }, b: { weight: 0.4 } } });
      expect(err.message).toContain('allocations: weights add up to 0.9; they must add up to 1');
    });

    it('every problem at once, one detail each', () => {
      const err = refusal({
        ...base,
        strategy: 'nope',
        allocations: { a: { weight: 1.5 }, b: { weight: 0.1, priority: 0 } },
      });
      expect(err.details.length).toBeGreaterThanOrEqual(3);
      expect(err.details.some((d) => d.startsWith('strategy:'))).toBe(true);
      expect(err.details.some((d) => d.startsWith('allocations.a.weight:'))).toBe(true);
      expect(err.details.some((d) => d.startsWith('allocations.b.priority:'))).toBe(true);
    });

    it('min_weight above max_weight, an allocation missing from businesses, an unknown field', () => {
      expect(
        refusal({ ...base, allocations: { a: { weight: 1, min_weight: 0.9, max_weight: 0.5 } } }).message,
      ).toContain('allocations.a: min_weight is above max_weight');
      expect(
        refusal({ ...base, businesses: ['a'], allocations: { a: { weight: 0.5 }, b: { weight: 0.5 } } })
          .message,
      ).toContain('businesses: allocation b is not listed in businesses');
      expect(refusal({ ...base, colour: 'blue' }).message).toContain('colour');
    });
  });

  describe('refuses what the domain would refuse (weights outside bounds, names, timestamps)', () => {
    it('a weight outside its own bounds, locked or not, naming the business, weight and bounds', () => {
      // Invariant 3: before the fix only min <= max was checked, and such a portfolio was read.
      const err = refusal({
        ...base,
        allocations: {
          a: { weight: 0.6, max_weight: 0.5 },
          b: { weight: 0.3, min_weight: 0.35, locked: true },
          c: { weight: 0.1, min_weight: 0.1, max_weight: 0.1 },
        },
      });
      expect(err.details).toEqual([
        'allocations.a.weight: business a has weight 0.6, outside its bounds [0, 0.5]: change the weight or the bounds',
        'allocations.b.weight: business b has weight 0.3, outside its bounds [0.35, 1]: change the weight or the bounds',
      ]);
    });

    it('a name of only spaces or with control characters', () => {
      expect(refusal({ ...base, name: '   ' }).message).toContain('name: must not be empty or only spaces');
      expect(refusal({ ...base, name: '\u0000\u001b[31m' }).message).toContain(
        'name: must not contain control characters (such as terminal escapes)',
      );
      expect(refusal({ ...base, name: 'x'.repeat(201) }).message).toContain('name: must be at most 200');
    });

    it('created_at, updated_at and last_run.at that are not ISO-8601 timestamps', () => {
      const err = refusal({
        ...base,
        created_at: 'whenever',
        updated_at: '2026-02-30T00:00:00Z',
        last_run: { run_id: 'r', report_id: 'r', at: '2026-01-01T00:00:00' },
      });
      const message = 'must be an ISO-8601 timestamp with a time zone, such as 2026-01-31T02:00:00Z';
      expect(err.details).toEqual([
        `created_at: ${message}`,
        `updated_at: ${message}`,
        `last_run.at: ${message}`,
      ]);
      const p = portfolioFromWire({ ...base, created_at: '2026-01-01T02:00:00+02:00', updated_at: T1 });
      expect(p.createdAt).toBe('2026-01-01T02:00:00+02:00');
    });
  });

  describe('the order of the allocations', () => {
    const numeric = { '10': { weight: 0.5 }, '2': { weight: 0.3 }, x: { weight: 0.2 } };

    it('refuses ids that are array indices without `businesses`: JavaScript moves them first', () => {
      // JSON.parse('{"x":..,"10":..,"2":..}') lists "2", "10", "x": the file's order is lost.
      expect(refusal({ ...base, allocations: numeric }).message).toBe(
        'invalid portfolio: businesses: business ids "2", "10" are numbers, which JSON objects do not keep in order: list the order of the allocations in "businesses"',
      );
    });

    it('takes the order of `businesses`, numeric ids or not; a single allocation needs none', () => {
      const p = portfolioFromWire({ ...base, businesses: ['x', '10', '2'], allocations: numeric });
      expect(p.allocations.map((a) => a.businessId)).toEqual(['x', '10', '2']);
      expect(portfolioFromWire({ ...base, allocations: { '7': { weight: 1 } } }).allocations).toHaveLength(1);
      // Ids that merely start with digits are ordinary keys.
      const q = portfolioFromWire({
        ...base,
        allocations: { '10a': { weight: 0.5 }, '02': { weight: 0.5 } },
      });
      expect(q.allocations.map((a) => a.businessId)).toEqual(['10a', '02']);
    });
  });

  describe('business ids that are also names on Object.prototype', () => {
    it('round-trips "constructor" and "toString" like any other id', () => {
      let p = createPortfolio({ id: 'p1', name: 'Test', ownerId: 'user_1' }, T0);
      p = addBusinesses(p, [{ businessId: 'constructor' }, { businessId: 'toString' }], T1);

      expect(portfolioFromWire(JSON.parse(JSON.stringify(portfolioToWire(p))))).toEqual(p);
    });

    it('refuses a business listed without an allocation, even when Object.prototype has that name', () => {
      // Before the fix: accepted, with an allocation of weight NaN.
      const err = refusal({ ...base, businesses: ['constructor'], allocations: {} });
      expect(err.message).toContain('allocations: business constructor has no allocation');
    });

    it('refuses "__proto__", which cannot survive as a JSON object key', () => {
      expect(() => createPortfolio({ id: 'p1', name: 'Test', ownerId: '__proto__' }, T0)).toThrow(
        ValidationError,
      );
      const p = createPortfolio({ id: 'p1', name: 'Test', ownerId: 'user_1' }, T0);
      expect(() => addBusinesses(p, [{ businessId: '__proto__' }], T1)).toThrow(ValidationError);
      // Before the fix zod dropped the key without a word: an empty portfolio came out.
      const err = refusal(
        JSON.parse(`{"id":"p1","name":"Test","owner_id":"u1","allocations":{"__proto__":{"weight":1}}}`),
      );
      expect(err.message).toContain('allocations.__proto__');
    });
  });

  describe('keeps invariant 1 for hand-written weights', () => {
    it('re-normalises weights a little off 1 on the unlocked allocations', () => {
      const p = portfolioFromWire({
        ...base,
        allocations: {
          a: { weight: 0.333333 },
          b: { weight: 0.333333 },
          c: { weight: 0.333334, locked: true },
        },
      });
      expectWeightsValid(p);
      expect(p.allocations[2]?.weight).toBe(0.333334);
    });

    it('normalises even when every allocation is locked', () => {
      const p = portfolioFromWire({
        ...base,
        allocations: { a: { weight: 0.5000005, locked: true }, b: { weight: 0.5, locked: true } },
      });
      expectWeightsValid(p);
    });

    it('never makes a weight negative when locked weights alone exceed 1 by a hair', () => {
      const p = portfolioFromWire({
        ...base,
        allocations: {
          a: { weight: 1, locked: true },
          b: { weight: 0.0000004 },
          c: { weight: 0.0000001, locked: true },
        },
      });
      expectWeightsValid(p);
    });
  });
});

describe('metrics wire format', () => {
  it('defaults profit to revenue - expenses and margin to profit / revenue', () => {
    const m = metricsFromWire({
      business_id: 'a',
      revenue: 200,
      expenses: 150,
      growth_rate: 3,
      health_score: 70,
    });
    expect(m).toMatchObject({ profit: 50, margin: 25, customers: 0, stage: 'unknown' });
  });

  it('gives margin 0 without positive revenue, and expenses from a reported profit', () => {
    const m = metricsFromWire({
      business_id: 'a',
      revenue: 0,
      profit: -20,
      growth_rate: 0,
      health_score: 10,
    });
    expect(m).toMatchObject({ expenses: 20, profit: -20, margin: 0 });
  });

  it('refuses metrics naming the field', () => {
    const base = { business_id: 'a', revenue: 1, expenses: 1, growth_rate: 1, health_score: 50 };
    expect(() => metricsFromWire({ ...base, expenses: undefined })).toThrow(
      /expenses: give expenses or profit/,
    );
    expect(() => metricsFromWire({ ...base, health_score: 101 })).toThrow(/health_score/);
    expect(() => metricsFromWire({ ...base, business_id: 'a:b' })).toThrow(/business_id/);
    expect(() => metricsFromWire({ ...base, revenue: Number.NaN })).toThrow(/revenue/);
    expect(() => metricsFromWire({ ...base, stage: 'teenage' })).toThrow(/stage/);
  });

  it('refuses a business name with control characters, and an as_of that is not a date', () => {
    const base = { business_id: 'a', revenue: 1, expenses: 1, growth_rate: 1, health_score: 50 };
    expect(() => metricsFromWire({ ...base, name: 'Acme\u001b]0;pwned\u0007' }, FROM_OPERATOR_FILES)).toThrow(
      'invalid metrics: name: must not contain control characters (such as terminal escapes)',
    );
    expect(() => metricsFromWire({ ...base, as_of: 'whenever' })).toThrow(
      'as_of: must be an ISO-8601 date or timestamp with a time zone (2026-01-31, 2026-01-31T02:00:00Z) or epoch milliseconds, from 1970-01-01 to 9999-12-31 (UTC); got "whenever"',
    );
    expect(metricsFromWire({ ...base, as_of: '2026-01-31' }).asOf).toBe('2026-01-31');
    expect(() => metricsFromWire({ ...base, as_of: '2026-02-30' })).toThrow(/as_of/);
  });

  it('reads as_of as an ISO string or epoch milliseconds, and refuses one no Date can hold', () => {
    const base = { business_id: 'a', revenue: 1, expenses: 1, growth_rate: 1, health_score: 50 };
    expect(metricsFromWire({ ...base, as_of: 0 }).asOf).toBe('1970-01-01T00:00:00.000Z');
    expect(metricsFromWire({ ...base, as_of: T1 }).asOf).toBe(T1);
    // Before the fix: a RangeError from toISOString(), even out of safeMetricsFromWire.
    expect(() => metricsFromWire({ ...base, as_of: 1e20 })).toThrow(ValidationError);
    expect(safeMetricsFromWire({ ...base, as_of: 1e20 })).toEqual({
      ok: false,
      error: expect.stringContaining('as_of'),
    });
  });

  describe('as_of: one rule for every source and path, an instant from 1970-01-01 to 9999-12-31 (UTC)', () => {
    const base = { business_id: 'a', revenue: 1, expenses: 1, growth_rate: 1, health_score: 50 };
    const modes = [
      ['operator files', FROM_OPERATOR_FILES],
      ['other systems', FROM_OTHER_SYSTEMS],
    ] as const;

    for (const [mode, options] of modes) {
      it(`accepts the ends of the range, in every form (${mode})`, () => {
        const asOf = (as_of: unknown) => metricsFromWire({ ...base, as_of }, options).asOf;
        expect(asOf(0)).toBe('1970-01-01T00:00:00.000Z');
        expect(asOf(AS_OF_MAX_MS)).toBe('9999-12-31T23:59:59.999Z');
        expect(asOf(1769824800000.5)).toBe('2026-01-31T02:00:00.000Z');
        expect(asOf('1970-01-01')).toBe('1970-01-01');
        expect(asOf('9999-12-31')).toBe('9999-12-31');
        expect(asOf('2026-01-31T04:00:00.123456+02:00')).toBe('2026-01-31T04:00:00.123456+02:00');
      });

      it(`refuses what lies outside, naming the rule (${mode})`, () => {
        // Before the fix, the numbers passed (up to 8.64e15) and became "+010000-01-01T...",
        // "-000001-01-01T..." or "+058053-07-07T...", which import and the redis source refused.
        const refusal = (as_of: unknown) => {
          const parsed = safeMetricsFromWire({ ...base, as_of }, options);
          return parsed.ok ? `accepted as ${parsed.metrics.asOf}` : parsed.error;
        };
        expect(refusal(1769824800000000)).toBe(
          'as_of: must be epoch milliseconds from 1970-01-01 to 9999-12-31 (UTC), 0 to 253402300799999; got 1769824800000000: microseconds or nanoseconds rather than milliseconds?',
        );
        expect(refusal(AS_OF_MAX_MS + 1)).toBe(
          'as_of: must be epoch milliseconds from 1970-01-01 to 9999-12-31 (UTC), 0 to 253402300799999; got 253402300800000',
        );
        expect(refusal(-1)).toBe(
          'as_of: must be epoch milliseconds from 1970-01-01 to 9999-12-31 (UTC), 0 to 253402300799999; got -1',
        );
        expect(refusal(-62198755200000)).toMatch(/^as_of: must be epoch milliseconds/);
        expect(refusal(1e15)).toMatch(/^as_of: must be epoch milliseconds/);
        expect(refusal('1969-12-31')).toBe(
          'as_of: must be from 1970-01-01 to 9999-12-31 (UTC); got "1969-12-31"',
        );
        expect(refusal('1970-01-01T00:30:00+01:00')).toMatch(/^as_of: must be from 1970-01-01/);
        expect(refusal('9999-12-31T23:00:00-02:00')).toMatch(/^as_of: must be from 1970-01-01/);
        expect(refusal('+010000-01-01T00:00:00.000Z')).toMatch(/^as_of: must be an ISO-8601 date/);
        expect(refusal(true)).toMatch(/^as_of: must be an ISO-8601 date/);
      });
    }
  });

  describe('other systems (http, redis): cosmetic fields are repaired, not a reason to drop the metrics', () => {
    const base = { business_id: 'acme-1', revenue: 100, expenses: 50, growth_rate: 5, health_score: 50 };

    it('reads a timestamp without a time zone as UTC', () => {
      // Python's datetime.isoformat() of a naive datetime, and str() of one.
      expect(metricsFromWire({ ...base, as_of: '2026-01-31T02:00:00' }).asOf).toBe('2026-01-31T02:00:00Z');
      expect(metricsFromWire({ ...base, as_of: '2026-01-31 02:00:00.123456' }).asOf).toBe(
        '2026-01-31T02:00:00.123456Z',
      );
      expect(metricsFromWire({ ...base, as_of: '2026-01-31T02:00' }, FROM_OTHER_SYSTEMS).asOf).toBe(
        '2026-01-31T02:00Z',
      );
      expect(() => metricsFromWire({ ...base, as_of: '2026-01-31T25:00:00' })).toThrow(/as_of/);
      expect(() => metricsFromWire({ ...base, as_of: '1969-12-31T23:00:00' })).toThrow(
        /as_of: must be from 1970/,
      );
    });

    it('makes a name printable; a blank one is no name (the business is shown by its id)', () => {
      const name = (value: string) => metricsFromWire({ ...base, name: value }).name;
      expect(name('')).toBeUndefined();
      expect(name('  \t ')).toBeUndefined();
      expect(name('Acme\tInc')).toBe('Acme Inc');
      expect(name('Acme\r\nInc\u0000')).toBe('Acme Inc');
      expect(name('\u001b[31mRed\u001b[0m')).toBe('[31mRed [0m');
      expect(name('x'.repeat(250))).toBe('x'.repeat(200));
      // Cut by code points: no half of a surrogate pair.
      expect(name('\u{1F600}'.repeat(101))).toBe('\u{1F600}'.repeat(100));
      // A valid name is left as it is, spaces and all.
      expect(name(' Acme  Inc ')).toBe(' Acme  Inc ');
    });

    it('never repairs a figure', () => {
      expect(safeMetricsFromWire({ ...base, name: '', health_score: 140 })).toEqual({
        ok: false,
        error: expect.stringMatching(/^health_score: /),
      });
    });

    it("refuses all of them in operators' files", () => {
      const refusal = (extra: Record<string, unknown>) => {
        const parsed = safeMetricsFromWire({ ...base, ...extra }, FROM_OPERATOR_FILES);
        return parsed.ok ? 'accepted' : parsed.error;
      };
      expect(refusal({ name: '' })).toBe('name: must not be empty or only spaces');
      expect(refusal({ name: 'Acme\tInc' })).toBe(
        'name: must not contain control characters (such as terminal escapes)',
      );
      expect(refusal({ as_of: '2026-01-31T02:00:00' })).toBe(
        'as_of: a timestamp needs a time zone ("Z" or "+02:00"); got "2026-01-31T02:00:00"',
      );
    });
  });

  it('reads back what it accepted, as an import re-validates it (property)', () => {
    // The import re-validates what a plan or a source accepted, strictly on cosmetic fields:
    // whatever one path accepts, the other must take back unchanged.
    fc.assert(
      fc.property(wireMetricsArb, (wire) => {
        const fromFile = safeMetricsFromWire(wire, FROM_OPERATOR_FILES);
        const fromOthers = safeMetricsFromWire(wire, FROM_OTHER_SYSTEMS);
        if (fromFile.ok) {
          check(fromOthers.ok, () => `other systems refused what a file may hold: ${JSON.stringify(wire)}`);
          expect(fromOthers.metrics).toEqual(fromFile.metrics);
        }
        if (!fromOthers.ok) return;
        const again = safeMetricsFromWire(withoutNulls(metricsToWire(fromOthers.metrics)), {
          cosmetic: 'refuse',
        });
        check(
          again.ok,
          () => `refused on the way back: ${again.ok ? '' : again.error}: ${JSON.stringify(wire)}`,
        );
        expect(again.metrics).toEqual(fromOthers.metrics);
      }),
      RUNS,
    );
  });
});

describe('report wire format', () => {
  it('writes a run report in snake_case', () => {
    const p = built();
    const metrics = metricsMap({ alpha: { revenue: 10, expenses: 5, growth_rate: 1, health_score: 50 } });
    const { report } = runPortfolio({
      portfolio: p,
      metrics,
      runId: 'run-8',
      reportId: 'rep-8',
      trigger: 'cron',
      now: T4,
      dryRun: true,
    });

    const wire = reportToWire(report);

    expect(wire).toMatchObject({
      report_id: 'rep-8',
      portfolio_id: 'p-1',
      run_id: 'run-8',
      trigger: 'cron',
      catch_up: false,
      applied: false,
      dry_run: true,
      version_before: p.version,
      version_after: p.version,
      metrics: {
        total_revenue: 10,
        businesses_with_metrics: 1,
        businesses_without_metrics: 2,
        best_performer: 'alpha',
      },
      skipped: null,
    });
    expect(wire.ranking[0]).toMatchObject({
      rank: 1,
      business_id: 'alpha',
      growth_rate: 1,
      health_score: 50,
    });
    expect(Object.keys(wire.actions[0] ?? {})).toEqual([
      'business_id',
      'action',
      'current_weight',
      'recommended_weight',
      'reason',
    ]);
  });
});

describe('metrics wire round trip', () => {
  it('reads back what metricsToWire writes, nulls included', async () => {
    const { metricsFromWire, metricsToWire } = await import('../../src/domain/index.js');
    const m = metricsFromWire({
      business_id: 'rt',
      revenue: 10,
      expenses: 4,
      growth_rate: 1,
      health_score: 50,
    });
    const wire = metricsToWire(m);
    expect(wire.name).toBeNull();
    expect(metricsFromWire(wire)).toEqual(m);
  });
});
