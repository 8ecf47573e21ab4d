/**
 * A typed check of a wire portfolio before zod (issue 15): zod built a copy, a result and a set of
 * checks per allocation, and re-ran the id pattern per key, which on a portfolio of 100,000
 * businesses took longer than the run itself.
 *
 * `checkWirePortfolio` answers only when the portfolio is certainly valid: the settings are read
 * by zod's own schema for them (defaults, the NFC name), the allocations by hand, with every check
 * of wirePortfolioSchema's refinement. On any doubt it returns undefined, and the caller runs the
 * whole schema, which accepts or explains; so the messages are zod's and never this file's.
 * test/domain/portfolio-check.test.ts holds the two to the same answers on random portfolios.
 */
import { isValidId } from './ids.js';
import { type Allocation, DEFAULTS } from './model.js';
import {
  INPUT_SUM_TOLERANCE,
  isArrayIndex,
  type WirePortfolioHead,
  wirePortfolioHeadSchema,
} from './portfolio-schema.js';

export interface CheckedPortfolio {
  readonly head: WirePortfolioHead;
  /** In the portfolio's order, as portfolioFromWire builds them (before re-normalising). */
  readonly allocations: Allocation[];
}

const ALLOCATION_FIELDS: ReadonlySet<string> = new Set([
  'weight',
  'priority',
  'locked',
  'min_weight',
  'max_weight',
  'target_weight',
  'budget_percent',
  'budget_amount',
  'attention_hours',
]);

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const isFraction = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

export function checkWirePortfolio(input: unknown): CheckedPortfolio | undefined {
  if (!isPlainObject(input)) return undefined;
  const allocations = input['allocations'] === undefined ? {} : input['allocations'];
  const businesses = input['businesses'];
  // zod's record reads symbol keys too (and refuses them).
  if (!isPlainObject(allocations) || Object.getOwnPropertySymbols(allocations).length > 0) return undefined;
  if (businesses !== undefined && !isIdList(businesses)) return undefined;
  const rest: Json = {};
  for (const key of Object.keys(input)) {
    if (key === '__proto__') return undefined;
    if (key !== 'allocations' && key !== 'businesses') rest[key] = input[key];
  }
  const head = wirePortfolioHeadSchema.safeParse(rest);
  if (!head.success) return undefined;

  const keys = Object.keys(allocations);
  // The allocations in the portfolio's order, and whether each must be looked for as an own key.
  let order: readonly string[] = keys;
  let listed = false;
  if (businesses === undefined) {
    for (const key of keys) if (!isValidId(key)) return undefined;
    // Numeric keys lose the file's order: wirePortfolioSchema asks for `businesses` then.
    if (keys.length > 1 && keys.some(isArrayIndex)) return undefined;
  } else if (businesses.length !== keys.length) {
    return undefined;
  } else if (!sameList(keys, businesses)) {
    // Not the keys in their own order (as `portfolio show --json` writes it): every listed id
    // has its own allocation (below), none twice, as many as there are allocations, so the
    // same ids again (and the keys valid ids, as the list's are).
    if (new Set(businesses).size !== businesses.length) return undefined;
    order = businesses;
    listed = true;
  }
  const { business_count: count } = head.data;
  if (count !== undefined && count !== order.length) return undefined;

  const out: Allocation[] = new Array(order.length);
  let sum = 0;
  for (let i = 0; i < order.length; i++) {
    const id = order[i]!;
    if (listed && !Object.hasOwn(allocations, id)) return undefined;
    const a = checkAllocation(id, allocations[id]);
    if (a === undefined) return undefined;
    out[i] = a;
    sum += a.weight;
  }
  // zod adds the weights in the keys' order: a sum this far inside the tolerance passes in any
  // order (the orders differ by far less than INPUT_SUM_TOLERANCE / 2); nearer its edge, zod judges.
  if (keys.length > 0 && !(Math.abs(sum - 1) <= INPUT_SUM_TOLERANCE / 2)) return undefined;
  return { head: head.data, allocations: out };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isIdList(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const id: unknown = value[i];
    if (typeof id !== 'string' || !isValidId(id)) return false;
  }
  return true;
}

/** One allocation as wireAllocationSchema and the bounds check read it, or undefined. */
function checkAllocation(businessId: string, raw: unknown): Allocation | undefined {
  if (!isPlainObject(raw)) return undefined;
  for (const key in raw) if (!ALLOCATION_FIELDS.has(key)) return undefined;
  const { weight } = raw;
  if (!isFraction(weight)) return undefined;
  const priority = raw['priority'] === undefined ? DEFAULTS.priority : raw['priority'];
  if (!(typeof priority === 'number' && Number.isInteger(priority) && priority >= 1 && priority <= 10))
    return undefined;
  const locked = raw['locked'] === undefined ? false : raw['locked'];
  if (typeof locked !== 'boolean') return undefined;
  const minWeight = optionalFraction(raw['min_weight']);
  const maxWeight = optionalFraction(raw['max_weight']);
  const targetWeight = optionalFraction(raw['target_weight']);
  if (minWeight === false || maxWeight === false || targetWeight === false) return undefined;
  if (!optionalFinite(raw['budget_percent']) || !optionalFinite(raw['budget_amount'])) return undefined;
  if (!optionalFinite(raw['attention_hours'])) return undefined;
  // Invariant 3 from the moment a portfolio is read: the weight within its bounds.
  const min = minWeight ?? 0;
  const max = maxWeight ?? 1;
  if (min > max || weight < min || weight > max) return undefined;
  return { businessId, weight, priority, locked, minWeight, maxWeight, targetWeight };
}

const optionalFinite = (v: unknown): boolean =>
  v === undefined || (typeof v === 'number' && Number.isFinite(v));

/** null or undefined as undefined (as portfolioFromWire reads them), a fraction, or false. */
function optionalFraction(value: unknown): number | undefined | false {
  if (value === undefined || value === null) return undefined;
  return isFraction(value) ? value : false;
}
