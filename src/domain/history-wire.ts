/**
 * History records and audit entries on the wire (snake_case, SPEC section 6): what the history
 * and audit streams hold, what `portfolio history --json`, `audit --json` and their routes print.
 */
import { z } from 'zod';
import {
  type AllocationChange,
  type AllocationField,
  type AllocationSnapshot,
  type Cause,
  type Change,
  describeDiff,
  type HistoryRecord,
  type PortfolioDiff,
  type Setting,
  type SettingValue,
} from './history.js';
import { SETTING_WIRE } from './portfolio-settings.js';

const FIELD_WIRE: Record<AllocationField, string> = {
  weight: 'weight',
  priority: 'priority',
  locked: 'locked',
  minWeight: 'min_weight',
  maxWeight: 'max_weight',
  targetWeight: 'target_weight',
};

const invert = <K extends string>(m: Record<K, string>): Record<string, K> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k])) as Record<string, K>;
const FIELD_FROM_WIRE = invert(FIELD_WIRE);
const SETTING_FROM_WIRE = invert(SETTING_WIRE);

export function causeToWire(c: Cause) {
  switch (c.type) {
    case 'run':
      return { type: c.type, run_id: c.runId, report_id: c.reportId };
    case 'edit':
      return { type: c.type, command: c.command };
    case 'restore':
      return { type: c.type, version: c.version };
    case 'revert':
      return { type: c.type, run_id: c.runId, forced: c.forced };
    case 'approve':
    case 'reject':
      return { type: c.type, report_id: c.reportId };
  }
}

export type WireCause = ReturnType<typeof causeToWire>;

/** A cause as the wire carries it, back in the domain's shape (unknown types are refused). */
export function causeFromWire(w: Readonly<Record<string, unknown>>): Cause {
  switch (w.type) {
    case 'run':
      return { type: 'run', runId: String(w.run_id), reportId: String(w.report_id) };
    case 'edit':
      return { type: 'edit', command: String(w.command) };
    case 'restore':
      return { type: 'restore', version: Number(w.version) };
    case 'revert':
      return { type: 'revert', runId: String(w.run_id), forced: w.forced === true };
    case 'approve':
    case 'reject':
      return { type: w.type, reportId: String(w.report_id) };
    default:
      throw new Error(`unknown cause ${String(w.type)}`);
  }
}

export function diffToWire(d: PortfolioDiff) {
  const settings: Record<string, Change<SettingValue>> = {};
  for (const [k, v] of Object.entries(d.settings)) settings[SETTING_WIRE[k as Setting]] = v;
  return {
    allocations: d.allocations.map((c) => {
      const fields: Record<string, Change<number | boolean | null>> = {};
      for (const [k, v] of Object.entries(c.fields)) fields[FIELD_WIRE[k as AllocationField]] = v;
      return { business_id: c.businessId, kind: c.kind, fields };
    }),
    settings,
    reordered: d.reordered,
  };
}

function diffFromWire(w: z.infer<typeof wireDiff>): PortfolioDiff {
  const settings: Partial<Record<Setting, Change<SettingValue>>> = {};
  for (const [k, v] of Object.entries(w.settings)) {
    const s = SETTING_FROM_WIRE[k];
    if (s) settings[s] = v as Change<SettingValue>;
  }
  return {
    allocations: w.allocations.map((c): AllocationChange => {
      const fields: AllocationChange['fields'] = {};
      for (const [k, v] of Object.entries(c.fields)) {
        const f = FIELD_FROM_WIRE[k];
        if (f) (fields as Record<string, unknown>)[f] = v;
      }
      return { businessId: c.business_id, kind: c.kind, fields };
    }),
    settings,
    reordered: w.reordered,
  };
}

function snapshotToWire(a: AllocationSnapshot) {
  return {
    business_id: a.businessId,
    weight: a.weight,
    priority: a.priority,
    locked: a.locked,
    min_weight: a.minWeight,
    max_weight: a.maxWeight,
    target_weight: a.targetWeight,
  };
}

/** A create is every setting from nothing: said in a word, not nine "none -> x" pairs. */
function changesOf(r: HistoryRecord): string {
  if (r.cause.type === 'reject') return `proposal ${r.cause.reportId} rejected; weights unchanged`;
  if (r.versionBefore > 0) return describeDiff(r.diff);
  const n = r.allocations.length;
  return `created (${n} business${n === 1 ? '' : 'es'})`;
}

/** The history stream's `record` field, and one element of `portfolio history --json`. */
export function historyRecordToWire(r: HistoryRecord) {
  return {
    portfolio_id: r.portfolioId,
    version: r.version,
    version_before: r.versionBefore,
    at: r.at,
    actor: r.actor,
    cause: causeToWire(r.cause),
    note: r.note,
    changes: changesOf(r),
    diff: diffToWire(r.diff),
    allocations: r.allocations.map(snapshotToWire),
  };
}

export type WireHistoryRecord = ReturnType<typeof historyRecordToWire>;

/**
 * The audit stream's `record` field: one change, without the full allocations (the portfolio's
 * history keeps those). `describe` is the same sentence the CLI prints.
 */
export function auditEntryToWire(r: HistoryRecord) {
  return {
    at: r.at,
    actor: r.actor,
    portfolio_id: r.portfolioId,
    cause: causeToWire(r.cause),
    note: r.note,
    version_before: r.versionBefore,
    version_after: r.version,
    changes: changesOf(r),
    diff: diffToWire(r.diff),
  };
}

export type WireAuditEntry = ReturnType<typeof auditEntryToWire>;

const change = z.object({ old: z.unknown(), new: z.unknown() });
const wireDiff = z.object({
  allocations: z.array(
    z.object({
      business_id: z.string(),
      kind: z.enum(['added', 'removed', 'changed']),
      fields: z.record(z.string(), change),
    }),
  ),
  settings: z.record(z.string(), change),
  reordered: z.boolean(),
});
const nullableNumber = z.number().nullable();
const wireRecord = z.object({
  portfolio_id: z.string(),
  version: z.number().int(),
  version_before: z.number().int(),
  at: z.string(),
  actor: z.string(),
  cause: z.record(z.string(), z.unknown()),
  note: z.string().nullable(),
  diff: wireDiff,
  allocations: z.array(
    z.object({
      business_id: z.string(),
      weight: z.number(),
      priority: z.number(),
      locked: z.boolean(),
      min_weight: nullableNumber,
      max_weight: nullableNumber,
      target_weight: nullableNumber,
    }),
  ),
});

/** Reads back a record this code wrote; a corrupt one throws (it is never silently skipped). */
export function historyRecordFromWire(input: unknown): HistoryRecord {
  const w = wireRecord.parse(input);
  return {
    portfolioId: w.portfolio_id,
    version: w.version,
    versionBefore: w.version_before,
    at: w.at,
    actor: w.actor,
    cause: causeFromWire(w.cause),
    note: w.note,
    diff: diffFromWire(w.diff),
    allocations: w.allocations.map((a) => ({
      businessId: a.business_id,
      weight: a.weight,
      priority: a.priority,
      locked: a.locked,
      minWeight: a.min_weight,
      maxWeight: a.max_weight,
      targetWeight: a.target_weight,
    })),
  };
}
