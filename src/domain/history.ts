/**
 * Version history, pure: what changed between two versions of a portfolio, the record a write
 * appends, and what a restore or a revert writes. No clock: times come in as arguments.
 */
import { RefusedError } from './errors.js';
import { pct } from './format.js';
import type { Allocation, Portfolio } from './model.js';
import { spread } from './spread.js';

/** Why a portfolio changed. */
export type Cause =
  | { readonly type: 'run'; readonly runId: string; readonly reportId: string }
  /** An operator's edit: the CLI command (`portfolio set-allocation`) or the route (`PATCH /portfolios/{id}`). */
  | { readonly type: 'edit'; readonly command: string }
  | { readonly type: 'restore'; readonly version: number }
  | { readonly type: 'revert'; readonly runId: string; readonly forced: boolean }
  | { readonly type: 'approve'; readonly reportId: string }
  /** A held proposal discarded: in the audit stream only (the portfolio does not change). */
  | { readonly type: 'reject'; readonly reportId: string };

/** Who changed it, why, and when. */
export interface WriteMeta {
  readonly actor: string;
  readonly cause: Cause;
  readonly note?: string | undefined;
}

/** An allocation as a history record keeps it: everything an operator or a run can set. */
export interface AllocationSnapshot {
  readonly businessId: string;
  readonly weight: number;
  readonly priority: number;
  readonly locked: boolean;
  readonly minWeight: number | null;
  readonly maxWeight: number | null;
  readonly targetWeight: number | null;
}

export interface Change<T> {
  readonly old: T;
  readonly new: T;
}

export const ALLOCATION_FIELDS = [
  'weight',
  'priority',
  'locked',
  'minWeight',
  'maxWeight',
  'targetWeight',
] as const;
export type AllocationField = (typeof ALLOCATION_FIELDS)[number];

export interface AllocationChange {
  readonly businessId: string;
  /** 'added' and 'removed' carry every field (old or new null); 'changed' only those that changed. */
  readonly kind: 'added' | 'removed' | 'changed';
  readonly fields: Partial<Record<AllocationField, Change<number | boolean | null>>>;
}

export const SETTINGS = [
  'name',
  'ownerId',
  'status',
  'strategy',
  'totalBudget',
  'targetRoi',
  'driftThreshold',
  'attentionHoursPerWeek',
  'maxTurnover',
  'applyMode',
  'maxAutoTurnover',
  'rebalanceTrigger',
  'driftType',
  'minTrade',
] as const;
export type Setting = (typeof SETTINGS)[number];
export type SettingValue = string | number | null;

export interface PortfolioDiff {
  readonly allocations: readonly AllocationChange[];
  readonly settings: Partial<Record<Setting, Change<SettingValue>>>;
  /** The same businesses in another order. */
  readonly reordered: boolean;
}

export interface HistoryRecord {
  readonly portfolioId: string;
  readonly version: number;
  /** 0 for the record of a create. */
  readonly versionBefore: number;
  readonly at: string;
  readonly actor: string;
  readonly cause: Cause;
  readonly note: string | null;
  /** The allocations after the change, in portfolio order. */
  readonly allocations: readonly AllocationSnapshot[];
  readonly diff: PortfolioDiff;
}

export function snapshotAllocation(a: Allocation): AllocationSnapshot {
  return {
    businessId: a.businessId,
    weight: a.weight,
    priority: a.priority,
    locked: a.locked,
    minWeight: a.minWeight ?? null,
    maxWeight: a.maxWeight ?? null,
    targetWeight: a.targetWeight ?? null,
  };
}

function settingOf(p: Portfolio, s: Setting): SettingValue {
  // Documents written before apply modes existed are `auto`.
  if (s === 'applyMode') return p.applyMode ?? 'auto';
  // Likewise, documents written before the rebalancing options use today's rules.
  if (s === 'rebalanceTrigger') return p.rebalanceTrigger ?? 'allocation';
  if (s === 'driftType') return p.driftType ?? 'absolute';
  const value = p[s];
  return value === undefined ? null : value;
}

/** What changed from `before` (null: the portfolio is new) to `after`. */
export function diffPortfolios(before: Portfolio | null, after: Portfolio): PortfolioDiff {
  const settings: Partial<Record<Setting, Change<SettingValue>>> = {};
  for (const s of SETTINGS) {
    const old = before ? settingOf(before, s) : null;
    const now = settingOf(after, s);
    if (!Object.is(old, now)) settings[s] = { old, new: now };
  }
  const allocations: AllocationChange[] = [];
  const previous = new Map<string, AllocationSnapshot>();
  for (const a of before?.allocations ?? []) previous.set(a.businessId, snapshotAllocation(a));
  const kept: string[] = [];
  for (const a of after.allocations) {
    const now = snapshotAllocation(a);
    const old = previous.get(a.businessId);
    if (!old) {
      allocations.push({ businessId: a.businessId, kind: 'added', fields: fieldChanges(null, now) });
      continue;
    }
    kept.push(a.businessId);
    previous.delete(a.businessId);
    const fields = fieldChanges(old, now);
    if (Object.keys(fields).length > 0)
      allocations.push({ businessId: a.businessId, kind: 'changed', fields });
  }
  for (const old of previous.values()) {
    allocations.push({ businessId: old.businessId, kind: 'removed', fields: fieldChanges(old, null) });
  }
  const beforeOrder = (before?.allocations ?? []).map((a) => a.businessId).filter((id) => !previous.has(id));
  const reordered = kept.some((id, i) => beforeOrder[i] !== id);
  return { allocations, settings, reordered };
}

function fieldChanges(
  old: AllocationSnapshot | null,
  now: AllocationSnapshot | null,
): Partial<Record<AllocationField, Change<number | boolean | null>>> {
  const out: Partial<Record<AllocationField, Change<number | boolean | null>>> = {};
  for (const f of ALLOCATION_FIELDS) {
    const a = old ? old[f] : null;
    const b = now ? now[f] : null;
    if (!Object.is(a, b)) out[f] = { old: a, new: b };
  }
  return out;
}

export function isEmptyDiff(diff: PortfolioDiff): boolean {
  return diff.allocations.length === 0 && Object.keys(diff.settings).length === 0 && !diff.reordered;
}

/**
 * Whether writing `after` over `before` would change nothing a person can see (settings,
 * allocations, their order): such a write is no write, and the version stays.
 */
export function changesNothing(before: Portfolio, after: Portfolio): boolean {
  return after === before || isEmptyDiff(diffPortfolios(before, after));
}

/** The record a write appends to the portfolio's history, built from the two versions. */
export function historyRecord(
  before: Portfolio | null,
  after: Portfolio,
  meta: WriteMeta,
  at: string,
): HistoryRecord {
  return {
    portfolioId: after.id,
    version: after.version,
    versionBefore: before?.version ?? 0,
    at,
    actor: meta.actor,
    cause: meta.cause,
    note: meta.note ?? null,
    allocations: after.allocations.map(snapshotAllocation),
    diff: diffPortfolios(before, after),
  };
}

function allocationFrom(s: AllocationSnapshot): Allocation {
  const a: { -readonly [K in keyof Allocation]: Allocation[K] } = {
    businessId: s.businessId,
    weight: s.weight,
    priority: s.priority,
    locked: s.locked,
  };
  if (s.minWeight !== null) a.minWeight = s.minWeight;
  if (s.maxWeight !== null) a.maxWeight = s.maxWeight;
  if (s.targetWeight !== null) a.targetWeight = s.targetWeight;
  return a;
}

/**
 * The portfolio with the allocations of an earlier version (weights, locks, bounds, targets,
 * priorities, and their order), as a new version. Refused, naming the businesses, when the set
 * of businesses differs from that version's: a restore never adds or removes a business.
 */
export function restoreVersion(
  current: Portfolio,
  target: { readonly version: number; readonly allocations: readonly AllocationSnapshot[] },
  now: string,
): Portfolio {
  const then = new Set(target.allocations.map((a) => a.businessId));
  const present = new Set(current.allocations.map((a) => a.businessId));
  const gone = [...then].filter((id) => !present.has(id));
  const added = [...present].filter((id) => !then.has(id));
  if (gone.length > 0 || added.length > 0) {
    const parts: string[] = [];
    if (gone.length > 0)
      parts.push(`version ${target.version} had ${gone.join(', ')}, no longer in the portfolio`);
    if (added.length > 0)
      parts.push(`the portfolio now has ${added.join(', ')}, not in version ${target.version}`);
    throw new RefusedError(
      `cannot restore portfolio ${current.id} to version ${target.version}: ${parts.join('; ')}; add or remove those businesses first`,
    );
  }
  return {
    ...current,
    allocations: target.allocations.map(allocationFrom),
    version: current.version + 1,
    updatedAt: now,
  };
}

/** What a run did to one allocation, as its report tells it. */
export interface RunMove {
  readonly businessId: string;
  readonly before: number;
  readonly after: number;
}

/**
 * Takes back what a run moved. When the portfolio is still the version the run wrote (`forced`
 * false), every moved allocation gets its weight from before the run: exactly the weights before
 * it. Forced, over later changes: the moved allocations that are still there and unlocked get
 * their weight from before the run, and the other unlocked allocations absorb the difference in
 * proportion; refused (naming why) when bounds or locks make that impossible.
 */
export function revertMoves(
  current: Portfolio,
  moves: readonly RunMove[],
  forced: boolean,
  now: string,
): Portfolio {
  const byId = new Map(moves.map((m) => [m.businessId, m]));
  let touched = false;
  const restored: number[] = [];
  const allocations = current.allocations.map((a, i) => {
    const move = byId.get(a.businessId);
    if (!move || (forced && a.locked) || a.weight === move.before) return a;
    if (!forced && a.weight !== move.after) {
      throw new RefusedError(`portfolio ${current.id}: ${a.businessId} is not at the weight the run left`);
    }
    touched = true;
    restored.push(i);
    return { ...a, weight: move.before };
  });
  if (!touched) return current;
  if (forced) {
    for (const i of restored) {
      const a = allocations[i]!;
      if (
        (a.minWeight !== undefined && a.weight < a.minWeight) ||
        (a.maxWeight !== undefined && a.weight > a.maxWeight)
      ) {
        throw new RefusedError(
          `${a.businessId}'s weight before the run, ${pct(a.weight)}, is outside its bounds now`,
        );
      }
    }
    return rebalanceOthers({ ...current, allocations }, new Set(restored), now);
  }
  return { ...current, allocations, version: current.version + 1, updatedAt: now };
}

/** The unlocked allocations outside `fixed` absorb whatever keeps the sum from 1, in proportion. */
function rebalanceOthers(p: Portfolio, fixed: ReadonlySet<number>, now: string): Portfolio {
  let fixedSum = 0;
  const free: number[] = [];
  p.allocations.forEach((a, i) => {
    if (fixed.has(i) || a.locked) fixedSum += a.weight;
    else free.push(i);
  });
  const allocations = spread(
    p.allocations,
    free,
    1 - fixedSum,
    'proportional',
    `cannot revert portfolio ${p.id}`,
  );
  return { ...p, allocations, version: p.version + 1, updatedAt: now };
}

/** A diff as a person reads it: "b1 20% -> 35%, b2 30% -> 15%, +b3 (25%), strategy equal -> growth". */
export function describeDiff(diff: PortfolioDiff): string {
  const parts: string[] = [];
  for (const c of diff.allocations) {
    if (c.kind === 'added') {
      parts.push(`+${c.businessId} (${pct(Number(c.fields.weight?.new ?? 0))})`);
      continue;
    }
    if (c.kind === 'removed') {
      parts.push(`-${c.businessId}`);
      continue;
    }
    for (const [field, change] of Object.entries(c.fields) as [AllocationField, Change<unknown>][]) {
      parts.push(
        `${c.businessId}${field === 'weight' ? '' : ` ${FIELD_LABEL[field]}`} ${show(field, change.old)} -> ${show(field, change.new)}`,
      );
    }
  }
  for (const [setting, change] of Object.entries(diff.settings) as [Setting, Change<SettingValue>][]) {
    parts.push(
      `${SETTING_LABEL[setting]} ${String(change.old ?? 'none')} -> ${String(change.new ?? 'none')}`,
    );
  }
  if (diff.reordered) parts.push('order changed');
  return parts.length === 0 ? 'no change' : parts.join(', ');
}

const FIELD_LABEL: Record<AllocationField, string> = {
  weight: 'weight',
  priority: 'priority',
  locked: 'locked',
  minWeight: 'min',
  maxWeight: 'max',
  targetWeight: 'target',
};

const SETTING_LABEL: Record<Setting, string> = {
  name: 'name',
  ownerId: 'owner',
  status: 'status',
  strategy: 'strategy',
  totalBudget: 'budget',
  targetRoi: 'target ROI',
  driftThreshold: 'drift threshold',
  attentionHoursPerWeek: 'attention hours',
  maxTurnover: 'max turnover',
  applyMode: 'apply mode',
  maxAutoTurnover: 'max auto turnover',
  rebalanceTrigger: 'rebalance trigger',
  driftType: 'drift type',
  minTrade: 'min trade',
};

function show(field: AllocationField, value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (field === 'priority' || field === 'locked') return String(value);
  return pct(Number(value));
}

/** A cause as a person reads it: "run cron-20261204T020000Z", "edit (portfolio set-allocation)". */
export function describeCause(cause: Cause): string {
  switch (cause.type) {
    case 'run':
      return `run ${cause.runId}`;
    case 'edit':
      return `edit (${cause.command})`;
    case 'restore':
      return `restore of version ${cause.version}`;
    case 'revert':
      return `revert of run ${cause.runId}${cause.forced ? ' (forced)' : ''}`;
    case 'approve':
      return `approval of ${cause.reportId}`;
    case 'reject':
      return `rejection of ${cause.reportId}`;
  }
}
