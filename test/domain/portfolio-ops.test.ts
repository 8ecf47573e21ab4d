import { describe, expect, it } from 'vitest';
import {
  addBusiness,
  addBusinesses,
  createPortfolio,
  NotFoundError,
  RefusedError,
  removeBusiness,
  setAllocation,
  updatePortfolio,
  ValidationError,
  viewAllocation,
} from '../../src/domain/index.js';
import { expectWeightsValid, T0, T1, T2, weightsOf, wirePortfolio, withAllocations } from './fixtures.js';

describe('createPortfolio and updatePortfolio', () => {
  it('fills the defaults and starts at version 1', () => {
    const p = createPortfolio({ id: 'p1', name: 'Test', ownerId: 'user_1' }, T0);

    expect(p).toEqual({
      id: 'p1',
      name: 'Test',
      ownerId: 'user_1',
      status: 'active',
      strategy: 'equal',
      totalBudget: 0,
      targetRoi: 20,
      driftThreshold: 0.05,
      attentionHoursPerWeek: 40,
      maxTurnover: undefined,
      applyMode: 'auto',
      maxAutoTurnover: undefined,
      rebalanceTrigger: 'allocation',
      driftType: 'absolute',
      minTrade: undefined,
      allocations: [],
      version: 1,
      createdAt: T0,
      updatedAt: T0,
    });
  });

  it('refuses bad ids and numbers with a ValidationError naming the field', () => {
    const ok = { id: 'p1', name: 'Test', ownerId: 'user_1' };
    expect(() => createPortfolio({ ...ok, id: 'p:1' }, T0)).toThrow(/portfolio id "p:1" is not a valid id/);
    expect(() => createPortfolio({ ...ok, ownerId: 'a b' }, T0)).toThrow(/owner id "a b"/);
    expect(() => createPortfolio({ ...ok, id: 'x'.repeat(65) }, T0)).toThrow(ValidationError);
    expect(() => createPortfolio({ ...ok, totalBudget: -1 }, T0)).toThrow(/total_budget/);
    expect(() => createPortfolio({ ...ok, driftThreshold: 1.5 }, T0)).toThrow(/drift_threshold/);
    expect(() => createPortfolio({ ...ok, maxTurnover: Number.NaN }, T0)).toThrow(/max_turnover/);
    expect(() => createPortfolio({ ...ok, name: '  ' }, T0)).toThrow(/name/);
  });

  it('refuses names of only spaces or with control characters (terminal escapes), on create and update', () => {
    const ok = { id: 'p1', name: 'Test', ownerId: 'user_1' };
    expect(() => createPortfolio({ ...ok, name: '   ' }, T0)).toThrow(
      'name must not be empty or only spaces, got "   "',
    );
    // Printed on a terminal, "\u001b[31m" turns the rest of the output red (or worse).
    expect(() => createPortfolio({ ...ok, name: '\u0000\u001b[31m' }, T0)).toThrow(
      'name must not contain control characters (such as terminal escapes), got "\\u0000\\u001b[31m"',
    );
    const p = createPortfolio(ok, T0);
    expect(() => updatePortfolio(p, { name: 'North\u009bStar' }, T1)).toThrow(ValidationError);
    expect(() => updatePortfolio(p, { name: 'x'.repeat(201) }, T1)).toThrow(/at most 200 characters/);
    expect(updatePortfolio(p, { name: 'Nord Étoile ★' }, T1).name).toBe('Nord Étoile ★');
  });

  it('updates settings, bumps the version, and clears max turnover with null', () => {
    const p = createPortfolio({ id: 'p1', name: 'Test', ownerId: 'user_1', maxTurnover: 0.2 }, T0);

    const q = updatePortfolio(
      p,
      { status: 'paused', strategy: 'growth', maxTurnover: null, totalBudget: 5 },
      T1,
    );

    expect(q).toMatchObject({ status: 'paused', strategy: 'growth', maxTurnover: undefined, totalBudget: 5 });
    expect(q.version).toBe(2);
    expect(q.updatedAt).toBe(T1);
    expect(q.createdAt).toBe(T0);
    expect(() => updatePortfolio(p, { status: 'deleted' as never }, T1)).toThrow(/unknown status "deleted"/);
  });
});

describe('addBusiness / addBusinesses', () => {
  it('refuses an explicit weight under the equal strategy', () => {
    const p = wirePortfolio({ strategy: 'equal', allocations: { a: { weight: 1 } } });
    expect(() => addBusiness(p, 'b', { weight: 0.3 }, T1)).toThrow(ValidationError);
    expect(() => addBusiness(p, 'b', { weight: 0.3 }, T1)).toThrow(/equal strategy/);
  });

  it('refuses an invalid business id', () => {
    const p = wirePortfolio({ strategy: 'equal', allocations: { a: { weight: 1 } } });
    expect(() => addBusiness(p, 'b c', {}, T1)).toThrow(/business id "b c" is not a valid id/);
  });

  it('gives an empty portfolio 1/n each, and refuses weights that do not fill it', () => {
    const p = createPortfolio({ id: 'p1', name: 'Test', ownerId: 'user_1', strategy: 'revenue' }, T0);

    const three = addBusinesses(p, [{ businessId: 'a' }, { businessId: 'b' }, { businessId: 'c' }], T1);
    for (const a of three.allocations) expect(a.weight).toBeCloseTo(1 / 3, 15);
    expectWeightsValid(three);
    expect(() => addBusiness(p, 'a', { weight: 0.5 }, T1)).toThrow(RefusedError);
    expect(addBusiness(p, 'a', { weight: 1 }, T1).allocations[0]?.weight).toBe(1);
  });

  it('refuses a weight that the locked allocations leave no room for, saying so', () => {
    const p = wirePortfolio({
      strategy: 'revenue',
      allocations: { a: { weight: 0.8, locked: true }, b: { weight: 0.2 } },
    });
    expect(() => addBusiness(p, 'c', { weight: 0.3 }, T1)).toThrow(
      'cannot add c: locked allocations hold 80%, so 30% more does not fit; give a smaller weight or unlock an allocation',
    );
  });

  it('refuses when the minimum weights of the others cannot shrink enough', () => {
    const p = wirePortfolio({
      strategy: 'revenue',
      allocations: { a: { weight: 0.6, min_weight: 0.6 }, b: { weight: 0.4, min_weight: 0.3 } },
    });
    expect(() => addBusiness(p, 'c', {}, T1)).toThrow(
      /minimum weights of the unlocked allocations add up to 90%/,
    );
  });

  it('shrinks the others within their bounds', () => {
    const p = wirePortfolio({
      strategy: 'revenue',
      allocations: { a: { weight: 0.5, min_weight: 0.45 }, b: { weight: 0.5 } },
    });

    const q = addBusiness(p, 'c', { weight: 0.2 }, T1);

    expect(weightsOf(q)).toEqual({ a: 0.45, b: expect.closeTo(0.35, 12), c: 0.2 });
    expectWeightsValid(q);
  });
});

describe('removeBusiness', () => {
  it('under equal, the unlocked allocations share what the locked ones leave', () => {
    const p = wirePortfolio({
      strategy: 'equal',
      allocations: {
        a: { weight: 0.4, locked: true },
        b: { weight: 0.2 },
        c: { weight: 0.2 },
        d: { weight: 0.2 },
      },
    });

    const q = removeBusiness(p, 'd', T1);

    expect(weightsOf(q)).toEqual({ a: 0.4, b: 0.3, c: 0.3 });
  });

  it('refuses when only locked allocations remain to take the weight', () => {
    const p = wirePortfolio({
      strategy: 'revenue',
      allocations: { a: { weight: 0.7, locked: true }, b: { weight: 0.3 } },
    });
    expect(() => removeBusiness(p, 'b', T1)).toThrow(
      'cannot remove b: no unlocked allocation can take the remaining 30%; unlock an allocation first',
    );
  });

  it('removing the last business leaves an empty portfolio', () => {
    const p = wirePortfolio({ allocations: { a: { weight: 1, locked: true } } });
    expect(removeBusiness(p, 'a', T1).allocations).toEqual([]);
  });
});

describe('setAllocation', () => {
  const p = wirePortfolio({
    strategy: 'revenue',
    allocations: { a: { weight: 0.5 }, b: { weight: 0.3 }, c: { weight: 0.2 } },
  });

  it('an explicit weight is the operator’s: the other unlocked allocations absorb it in proportion', () => {
    const q = setAllocation(p, 'a', { weight: 0.2 }, T1);

    expect(q.allocations[0]?.weight).toBe(0.2);
    expect(q.allocations[1]?.weight).toBeCloseTo(0.48, 12);
    expect(q.allocations[2]?.weight).toBeCloseTo(0.32, 12);
    expectWeightsValid(q);
  });

  it('locked allocations do not absorb anything', () => {
    const locked = setAllocation(p, 'c', { locked: true }, T1);

    const q = setAllocation(locked, 'a', { weight: 0.6 }, T2);

    expect(weightsOf(q)).toEqual({ a: 0.6, b: expect.closeTo(0.2, 12), c: 0.2 });
  });

  it('new bounds move an unlocked weight to the nearest bound', () => {
    const q = setAllocation(p, 'b', { minWeight: 0.4 }, T1);

    expect(q.allocations[1]).toMatchObject({ weight: 0.4, minWeight: 0.4 });
    expect(q.allocations[0]?.weight).toBeCloseTo(0.6 * (5 / 7), 12);
    expectWeightsValid(q);
    expect(setAllocation(q, 'b', { minWeight: null }, T2).allocations[1]?.minWeight).toBeUndefined();
  });

  it('refuses bounds that a locked weight is outside of, bounds the wrong way round, a weight outside bounds', () => {
    const locked = setAllocation(p, 'b', { locked: true }, T1);
    expect(() => setAllocation(locked, 'b', { maxWeight: 0.1 }, T2)).toThrow(RefusedError);
    expect(() => setAllocation(locked, 'b', { maxWeight: 0.1 }, T2)).toThrow(/locked at 30%/);
    expect(() => setAllocation(p, 'b', { minWeight: 0.5, maxWeight: 0.4 }, T1)).toThrow(
      /min_weight 0.5 is above max_weight 0.4/,
    );
    const bounded = setAllocation(p, 'b', { maxWeight: 0.35 }, T1);
    expect(() => setAllocation(bounded, 'b', { weight: 0.4 }, T2)).toThrow(ValidationError);
  });

  it('says "its bounds", not "the new bounds", when only the priority of such an allocation changes', () => {
    // A locked weight outside bounds that did not change: a portfolio stored before the wire
    // schema refused it. Before the fix the message spoke of new bounds nobody had given.
    const stored = withAllocations(setAllocation(p, 'b', { locked: true }, T1), { b: { maxWeight: 0.2 } });

    expect(() => setAllocation(stored, 'b', { priority: 3 }, T2)).toThrow(
      'business b is locked at 30%, outside its bounds [0%, 20%]; give a weight within them, change the bounds or unlock it',
    );
    expect(() => setAllocation(stored, 'b', { maxWeight: 0.25 }, T2)).toThrow(/outside the new bounds/);
  });

  it('the only business of a portfolio must weigh 1', () => {
    const one = wirePortfolio({ allocations: { a: { weight: 1 } } });
    expect(() => setAllocation(one, 'a', { weight: 0.5 }, T1)).toThrow(/only one in portfolio p1/);
    expect(setAllocation(one, 'a', { priority: 9 }, T1).allocations[0]).toMatchObject({
      weight: 1,
      priority: 9,
    });
  });

  it('refuses a non-boolean lock and an unknown business', () => {
    expect(() => setAllocation(p, 'a', { locked: 'yes' as never }, T1)).toThrow(
      /locked must be true or false/,
    );
    expect(() => setAllocation(p, 'zz', { weight: 0.1 }, T1)).toThrow(NotFoundError);
  });
});

describe('derived figures', () => {
  it('budget percent, amount and attention hours come from the weight', () => {
    const p = wirePortfolio({
      total_budget: 80_000,
      attention_hours_per_week: 50,
      allocations: { a: { weight: 0.25 }, b: { weight: 0.75 } },
    });

    expect(viewAllocation(p, p.allocations[0]!)).toMatchObject({
      budgetPercent: 25,
      budgetAmount: 20_000,
      attentionHours: 12.5,
    });
  });
});
