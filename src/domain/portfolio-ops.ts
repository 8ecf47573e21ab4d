import { NotFoundError, RefusedError, ValidationError } from './errors.js';
import { pct } from './format.js';
import { assertPortfolioIdFree } from './ids.js';
import {
  type Allocation,
  type ApplyMode,
  DEFAULTS,
  type DriftType,
  type Portfolio,
  type PortfolioStatus,
  type RebalanceTrigger,
  type Strategy,
} from './model.js';
import { createRebalanceOptions, updateRebalanceOptions } from './rebalance-options.js';
import { spread, sumWeights } from './spread.js';
import {
  assertApplyMode,
  assertAttentionHours,
  assertBoolean,
  assertBudget,
  assertFraction,
  assertId,
  assertName,
  assertPriority,
  assertStatus,
  assertStrategy,
  assertTargetRoi,
  optionalFraction,
} from './validate.js';

export interface CreatePortfolioInput {
  id: string;
  name: string;
  ownerId: string;
  status?: PortfolioStatus | undefined;
  strategy?: Strategy | undefined;
  totalBudget?: number | undefined;
  targetRoi?: number | undefined;
  driftThreshold?: number | undefined;
  attentionHoursPerWeek?: number | undefined;
  maxTurnover?: number | undefined;
  applyMode?: ApplyMode | undefined;
  maxAutoTurnover?: number | undefined;
  rebalanceTrigger?: RebalanceTrigger | undefined;
  driftType?: DriftType | undefined;
  minTrade?: number | undefined;
}

/** `now` is an ISO timestamp given by the caller: the domain has no clock. */
export function createPortfolio(input: CreatePortfolioInput, now: string): Portfolio {
  return {
    id: assertPortfolioIdFree(assertId('portfolio id', input.id)),
    name: assertName('name', input.name),
    ownerId: assertId('owner id', input.ownerId),
    status: input.status === undefined ? DEFAULTS.status : assertStatus(input.status),
    strategy: input.strategy === undefined ? DEFAULTS.strategy : assertStrategy(input.strategy),
    totalBudget: input.totalBudget === undefined ? 0 : assertBudget(input.totalBudget),
    targetRoi: input.targetRoi === undefined ? DEFAULTS.targetRoi : assertTargetRoi(input.targetRoi),
    driftThreshold:
      input.driftThreshold === undefined
        ? DEFAULTS.driftThreshold
        : assertFraction('drift_threshold', input.driftThreshold),
    attentionHoursPerWeek:
      input.attentionHoursPerWeek === undefined
        ? DEFAULTS.attentionHoursPerWeek
        : assertAttentionHours(input.attentionHoursPerWeek),
    maxTurnover:
      input.maxTurnover === undefined ? undefined : assertFraction('max_turnover', input.maxTurnover),
    applyMode: input.applyMode === undefined ? 'auto' : assertApplyMode(input.applyMode),
    maxAutoTurnover:
      input.maxAutoTurnover === undefined
        ? undefined
        : assertFraction('max_auto_turnover', input.maxAutoTurnover),
    ...createRebalanceOptions(input),
    allocations: [],
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

export interface UpdatePortfolioInput {
  name?: string | undefined;
  status?: PortfolioStatus | undefined;
  strategy?: Strategy | undefined;
  totalBudget?: number | undefined;
  targetRoi?: number | undefined;
  driftThreshold?: number | undefined;
  attentionHoursPerWeek?: number | undefined;
  /** null clears the limit. */
  maxTurnover?: number | null | undefined;
  applyMode?: ApplyMode | undefined;
  /** null goes back to the guard's default. */
  maxAutoTurnover?: number | null | undefined;
  rebalanceTrigger?: RebalanceTrigger | undefined;
  driftType?: DriftType | undefined;
  /** null: every move is made again. */
  minTrade?: number | null | undefined;
}

export function updatePortfolio(p: Portfolio, input: UpdatePortfolioInput, now: string): Portfolio {
  let maxTurnover = p.maxTurnover;
  if (input.maxTurnover === null) maxTurnover = undefined;
  else if (input.maxTurnover !== undefined) maxTurnover = assertFraction('max_turnover', input.maxTurnover);
  let maxAutoTurnover = p.maxAutoTurnover;
  if (input.maxAutoTurnover === null) maxAutoTurnover = undefined;
  else if (input.maxAutoTurnover !== undefined)
    maxAutoTurnover = assertFraction('max_auto_turnover', input.maxAutoTurnover);
  return touch(
    {
      ...p,
      name: input.name === undefined ? p.name : assertName('name', input.name),
      status: input.status === undefined ? p.status : assertStatus(input.status),
      strategy: input.strategy === undefined ? p.strategy : assertStrategy(input.strategy),
      totalBudget: input.totalBudget === undefined ? p.totalBudget : assertBudget(input.totalBudget),
      targetRoi: input.targetRoi === undefined ? p.targetRoi : assertTargetRoi(input.targetRoi),
      driftThreshold:
        input.driftThreshold === undefined
          ? p.driftThreshold
          : assertFraction('drift_threshold', input.driftThreshold),
      attentionHoursPerWeek:
        input.attentionHoursPerWeek === undefined
          ? p.attentionHoursPerWeek
          : assertAttentionHours(input.attentionHoursPerWeek),
      maxTurnover,
      applyMode: input.applyMode === undefined ? p.applyMode : assertApplyMode(input.applyMode),
      maxAutoTurnover,
      ...updateRebalanceOptions(p, input),
    },
    now,
  );
}

export function touch(p: Portfolio, now: string): Portfolio {
  return { ...p, version: p.version + 1, updatedAt: now };
}

/**
 * Which business ids an allocations array holds, at which position. Cached per array (arrays
 * are never changed in place), and carried forward to the array an add produces, which is the
 * same array with the new businesses at its end: so adding businesses one by one builds it once,
 * and each add checks membership in O(1) (SPEC defect 11). An index serves every array that it
 * was carried through, since a position is checked against the array itself; it is carried from
 * its newest array only, so that two adds to the same portfolio never write the same index.
 */
interface MembershipIndex {
  readonly positions: Map<string, number>;
  newest: readonly Allocation[];
}

const membership = new WeakMap<readonly Allocation[], MembershipIndex>();
let membershipBuilds = 0;

/** How many times a membership index was built from scratch (tests count them). */
export function membershipIndexBuilds(): number {
  return membershipBuilds;
}

function membershipOf(allocations: readonly Allocation[]): MembershipIndex {
  let index = membership.get(allocations);
  if (!index) {
    const positions = new Map<string, number>();
    for (let i = 0; i < allocations.length; i++) positions.set(allocations[i]!.businessId, i);
    index = { positions, newest: allocations };
    membership.set(allocations, index);
    membershipBuilds++;
  }
  return index;
}

function positionIn(index: MembershipIndex, allocations: readonly Allocation[], businessId: string): number {
  const i = index.positions.get(businessId);
  return i !== undefined && i < allocations.length && allocations[i]!.businessId === businessId ? i : -1;
}

/** `next` is `previous` with `added` appended (weights aside): it inherits the index if it can. */
function carryMembership(
  previous: readonly Allocation[],
  next: readonly Allocation[],
  added: readonly Allocation[],
): void {
  const index = membership.get(previous);
  if (!index || index.newest !== previous) return;
  for (let j = 0; j < added.length; j++) index.positions.set(added[j]!.businessId, previous.length + j);
  index.newest = next;
  membership.set(next, index);
}

function indexOfBusiness(p: Portfolio, businessId: string): number {
  // Remove and set are O(n) anyway: use an index that exists, build none.
  const index = membership.get(p.allocations);
  if (index) return positionIn(index, p.allocations, businessId);
  return p.allocations.findIndex((a) => a.businessId === businessId);
}

function unlockedIndices(allocations: readonly Allocation[], except = -1): number[] {
  const out: number[] = [];
  for (let i = 0; i < allocations.length; i++) if (i !== except && !allocations[i]!.locked) out.push(i);
  return out;
}

/**
 * Under equal, every unlocked allocation shares what the locked ones leave. Otherwise the new
 * business takes `weight` (default 1/n) and the other unlocked allocations shrink in proportion.
 *
 * Add and remove take no metrics: metrics belong to a run, and these are edits of the
 * portfolio. So their re-spread covers every unlocked allocation, whether or not it had metrics
 * in the last run (invariant 2 keeps metric-less allocations still during a run, not here).
 *
 * Under equal an explicit weight is refused: the strategy is "every unlocked allocation the
 * same", so the given weight would last until the next run's recommend split it equally again,
 * or would have to be ignored; either way the operator's number would not be kept. Change the
 * strategy first, or lock the allocation at that weight with set-allocation.
 */
export function addBusiness(
  p: Portfolio,
  businessId: string,
  options: { weight?: number | undefined },
  now: string,
): Portfolio {
  return addBusinesses(p, [{ businessId, weight: options.weight }], now);
}

/** Adds several businesses with a single re-spread: O(n + k) instead of k re-spreads. */
export function addBusinesses(
  p: Portfolio,
  entries: readonly { businessId: string; weight?: number | undefined }[],
  now: string,
): Portfolio {
  const present = membershipOf(p.allocations);
  // Ids of this batch: a business listed twice in one call is refused too.
  const batch = new Set<string>();
  const added: Allocation[] = [];
  const explicit: boolean[] = [];
  let explicitSum = 0;
  let explicitCount = 0;
  for (const entry of entries) {
    const id = assertId('business id', entry.businessId);
    if (positionIn(present, p.allocations, id) >= 0 || batch.has(id))
      throw new RefusedError(`business ${id} is already in portfolio ${p.id}`);
    batch.add(id);
    if (entry.weight !== undefined && entry.weight !== null) {
      assertFraction('weight', entry.weight);
      if (p.strategy === 'equal') {
        throw new ValidationError(
          `portfolio ${p.id} uses the equal strategy, which spreads weights equally: add ${id} without a weight, or change the strategy first`,
        );
      }
      explicitSum += entry.weight;
      explicitCount++;
    }
    explicit.push(entry.weight !== undefined && entry.weight !== null);
    added.push({ businessId: id, weight: entry.weight ?? 0, priority: DEFAULTS.priority, locked: false });
  }
  if (added.length === 0) return p;
  const n = p.allocations.length + added.length;
  const context = `cannot add ${added.map((a) => a.businessId).join(', ')}`;

  if (p.strategy === 'equal') {
    const all = [...p.allocations, ...added];
    const lockedSum = sumWeights(p.allocations, (a) => a.locked);
    const allocations = spread(all, unlockedIndices(all), 1 - lockedSum, 'equal', context);
    carryMembership(p.allocations, allocations, added);
    return touch({ ...p, allocations }, now);
  }

  // Businesses without an explicit weight get 1/n each.
  const defaultWeight = 1 / n;
  const placed = added.map((a, j) => (explicit[j] ? a : { ...a, weight: defaultWeight }));
  const newMass = explicitSum + (added.length - explicitCount) * defaultWeight;
  if (p.allocations.length === 0) {
    if (Math.abs(newMass - 1) > 1e-9) {
      throw new RefusedError(
        `${context}: the businesses of an empty portfolio must take the whole weight, but their weights add up to ${pct(newMass)}`,
      );
    }
    carryMembership(p.allocations, placed, placed);
    return touch({ ...p, allocations: placed }, now);
  }
  const lockedSum = sumWeights(p.allocations, (a) => a.locked);
  const rest = 1 - lockedSum - newMass;
  if (rest < -1e-9) {
    throw new RefusedError(
      `${context}: locked allocations hold ${pct(lockedSum)}, so ${pct(newMass)} more does not fit; give a smaller weight or unlock an allocation`,
    );
  }
  const shrunk = spread(
    p.allocations,
    unlockedIndices(p.allocations),
    Math.max(0, rest),
    'proportional',
    context,
  );
  // spread returns a new array: the added ones go on its end (no third copy of n allocations).
  const allocations = shrunk;
  for (const a of placed) allocations.push(a);
  carryMembership(p.allocations, allocations, placed);
  return touch({ ...p, allocations }, now);
}

/**
 * Its weight goes back to the unlocked allocations: equally under equal, in proportion otherwise.
 * Like add, over every unlocked allocation, with metrics or without (see addBusiness).
 */
export function removeBusiness(p: Portfolio, businessId: string, now: string): Portfolio {
  const index = indexOfBusiness(p, businessId);
  if (index < 0) throw new NotFoundError(`business ${businessId} is not in portfolio ${p.id}`);
  const rest = p.allocations.filter((_, i) => i !== index);
  if (rest.length === 0) return touch({ ...p, allocations: rest }, now);
  const lockedSum = sumWeights(rest, (a) => a.locked);
  const context = `cannot remove ${businessId}`;
  const mode = p.strategy === 'equal' ? 'equal' : 'proportional';
  return touch({ ...p, allocations: spread(rest, unlockedIndices(rest), 1 - lockedSum, mode, context) }, now);
}

export interface SetAllocationInput {
  weight?: number | undefined;
  priority?: number | undefined;
  locked?: boolean | undefined;
  /** null clears a bound or the target. */
  minWeight?: number | null | undefined;
  maxWeight?: number | null | undefined;
  targetWeight?: number | null | undefined;
}

/**
 * An explicit weight is the operator's: the other unlocked allocations absorb the difference in
 * proportion. New bounds move an unlocked weight to the nearest bound; a locked weight outside
 * its new bounds is refused.
 */
export function setAllocation(
  p: Portfolio,
  businessId: string,
  input: SetAllocationInput,
  now: string,
): Portfolio {
  const index = indexOfBusiness(p, businessId);
  if (index < 0) throw new NotFoundError(`business ${businessId} is not in portfolio ${p.id}`);
  const current = p.allocations[index]!;
  const next: Allocation = {
    ...current,
    priority: input.priority === undefined ? current.priority : assertPriority('priority', input.priority),
    locked: input.locked === undefined ? current.locked : assertBoolean('locked', input.locked),
    minWeight: optionalFraction('min_weight', input.minWeight, current.minWeight),
    maxWeight: optionalFraction('max_weight', input.maxWeight, current.maxWeight),
    targetWeight: optionalFraction('target_weight', input.targetWeight, current.targetWeight),
  };
  const min = next.minWeight ?? 0;
  const max = next.maxWeight ?? 1;
  if (min > max) {
    throw new ValidationError(`min_weight ${min} is above max_weight ${max} for business ${businessId}`);
  }
  let weight: number;
  if (input.weight !== undefined) {
    weight = assertFraction('weight', input.weight);
    if (weight < min || weight > max) {
      throw new ValidationError(
        `weight ${weight} is outside the bounds [${min}, ${max}] of business ${businessId}; change the bounds first`,
      );
    }
  } else if (current.weight < min || current.weight > max) {
    if (next.locked) {
      // Bounds left as they were can still exclude the weight: a portfolio stored before the
      // wire schema refused that, or one built in code.
      const which = input.minWeight !== undefined || input.maxWeight !== undefined ? 'the new' : 'its';
      throw new RefusedError(
        `business ${businessId} is locked at ${pct(current.weight)}, outside ${which} bounds [${pct(min)}, ${pct(max)}]; give a weight within them, change the bounds or unlock it`,
      );
    }
    weight = Math.min(Math.max(current.weight, min), max);
  } else {
    weight = current.weight;
  }

  const allocations = p.allocations.slice();
  allocations[index] = { ...next, weight };
  if (allocations.length === 1) {
    if (Math.abs(weight - 1) > 1e-9) {
      throw new RefusedError(
        `business ${businessId} is the only one in portfolio ${p.id}, so its weight must be 1`,
      );
    }
    return touch({ ...p, allocations }, now);
  }
  if (weight === current.weight) return touch({ ...p, allocations }, now);
  const lockedOthers = sumWeights(allocations, (a) => a.locked && a.businessId !== businessId);
  const context = `cannot set ${businessId} to ${pct(weight)}`;
  const others = unlockedIndices(allocations, index);
  return touch(
    { ...p, allocations: spread(allocations, others, 1 - lockedOthers - weight, 'proportional', context) },
    now,
  );
}
