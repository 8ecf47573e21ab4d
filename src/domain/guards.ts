/**
 * Guardrails: whether a run applies its recommendation or holds it for an operator. Every check
 * is a pure function returning reasons a person can read; times come in as arguments.
 *
 * - Metric checks, per business: inconsistent figures (`invalid-metrics`) and an old `as_of`
 *   (`stale-metrics`) make a business count as without metrics (kept where it is); a figure that
 *   jumped by more than a factor against the portfolio's baseline (`metric-jump`) holds the
 *   portfolio.
 * - Portfolio guards: turnover above `max_auto_turnover` (`turnover`), too much of the unlocked
 *   weight without usable metrics (`missing-metrics`), a nightly run whose circuit breaker is open
 *   (`run-circuit-open`).
 * - Apply modes: `approve` holds every recommendation that changes a weight
 *   (`approval-required`), `advisory` never applies and holds nothing.
 */
import { pct } from './format.js';
import type { BusinessMetrics, Portfolio } from './model.js';

export const GUARDS = [
  'invalid-metrics',
  'stale-metrics',
  'metric-jump',
  'turnover',
  'missing-metrics',
  'run-circuit-open',
  'approval-required',
] as const;
export type Guard = (typeof GUARDS)[number];

export interface GuardReason {
  readonly guard: Guard;
  /** The business a per-business check is about. */
  readonly businessId?: string | undefined;
  readonly detail: string;
}

export interface GuardSettings {
  /** BALLAST_GUARDS=off turns every check off; apply modes still hold. */
  readonly enabled: boolean;
  /** Metrics whose `as_of` is older than this are stale. */
  readonly maxMetricsAgeMs: number;
  /** A revenue, profit or customers figure that changes by more than this factor is a jump. */
  readonly maxJump: number;
  /** Default `max_auto_turnover` of a portfolio that sets none. */
  readonly maxTurnover: number;
  /** Share of the unlocked weight that may be without usable metrics. */
  readonly maxMissing: number;
  /** Share of a nightly run's portfolios that may be held before the rest of the run is held. */
  readonly runHoldShare: number;
  /** The breaker counts once this many portfolios are done (smaller runs: at their end). */
  readonly runMinCount: number;
}

export const DEFAULT_GUARDS: GuardSettings = {
  enabled: true,
  maxMetricsAgeMs: 48 * 3600_000,
  maxJump: 5,
  maxTurnover: 0.25,
  maxMissing: 0.5,
  runHoldShare: 0.2,
  runMinCount: 20,
};

/** Relative tolerance of profit against revenue - expenses. */
const PROFIT_TOLERANCE = 0.01;
/** Margin points of tolerance against profit / revenue. */
const MARGIN_TOLERANCE = 1;
const EPSILON = 1e-12;
/** How far ahead of the worker's clock an `as_of` may be (clocks of two systems differ a little). */
const FUTURE_SKEW_MS = 3600_000;

/**
 * Why a business's metrics cannot be used, or null. Inconsistent figures are checked first, then
 * the age. Metrics without `as_of` are never stale; an unparseable one is (it was checked at the
 * boundary, so this does not happen in practice).
 */
export function metricProblem(
  m: BusinessMetrics,
  nowMs: number,
  settings: Pick<GuardSettings, 'maxMetricsAgeMs'>,
): GuardReason | null {
  const derived = m.revenue - m.expenses;
  const scale = Math.max(Math.abs(m.revenue), Math.abs(m.expenses), 1);
  if (!(Math.abs(m.profit - derived) <= PROFIT_TOLERANCE * scale)) {
    return {
      guard: 'invalid-metrics',
      businessId: m.businessId,
      detail: `profit ${num(m.profit)} is not revenue ${num(m.revenue)} - expenses ${num(m.expenses)} = ${num(derived)} (tolerance 1%)`,
    };
  }
  if (m.revenue > 0) {
    const margin = (m.profit / m.revenue) * 100;
    if (!(Math.abs(m.margin - margin) <= MARGIN_TOLERANCE)) {
      return {
        guard: 'invalid-metrics',
        businessId: m.businessId,
        detail: `margin ${num(m.margin)}% is not profit ${num(m.profit)} / revenue ${num(m.revenue)} = ${num(margin)}% (tolerance 1 point)`,
      };
    }
  }
  if (m.asOf !== undefined) {
    const at = Date.parse(m.asOf);
    const age = nowMs - at;
    if (age < -FUTURE_SKEW_MS) {
      return {
        guard: 'invalid-metrics',
        businessId: m.businessId,
        detail: `as_of ${m.asOf} is ${duration(-age)} in the future (clocks may differ by ${duration(FUTURE_SKEW_MS)})`,
      };
    }
    if (!(age <= settings.maxMetricsAgeMs)) {
      return {
        guard: 'stale-metrics',
        businessId: m.businessId,
        detail: Number.isNaN(at)
          ? `as_of ${m.asOf} is not a time`
          : `metrics as of ${m.asOf} are ${duration(age)} old (limit ${duration(settings.maxMetricsAgeMs)})`,
      };
    }
  }
  return null;
}

export interface Screened {
  /** The metrics that may be used: the input map itself when none was flagged. */
  readonly usable: ReadonlyMap<string, BusinessMetrics>;
  /** One per flagged business, in the metrics' order. */
  readonly flags: readonly GuardReason[];
}

/** Drops the metrics that metricProblem flags; the map is copied only when one is flagged. */
export function screenMetrics(
  metrics: ReadonlyMap<string, BusinessMetrics>,
  nowMs: number,
  settings: Pick<GuardSettings, 'maxMetricsAgeMs'>,
): Screened {
  let flags: GuardReason[] | null = null;
  for (const m of metrics.values()) {
    const problem = metricProblem(m, nowMs, settings);
    if (!problem) continue;
    flags ??= [];
    flags.push(problem);
  }
  if (!flags) return { usable: metrics, flags: [] };
  const usable = new Map(metrics);
  for (const f of flags) usable.delete(f.businessId!);
  return { usable, flags };
}

/** The figures the jump check compares, per business. */
export interface MetricFigures {
  readonly revenue: number;
  readonly profit: number;
  readonly customers: number;
}

/** The figures a portfolio's weights were last set from (or confirmed by), per business. */
export type Baseline = ReadonlyMap<string, MetricFigures>;

const JUMP_FIELDS = ['revenue', 'profit', 'customers'] as const;

/**
 * Whether `next` differs from `previous` by more than `factor`: magnitudes are compared, each
 * floored at `floor` (default 1: so 0 -> 5 customers is no jump, 0 -> 6 is), and a change of sign
 * alone is not one.
 */
export function isJump(previous: number, next: number, factor: number, floor = 1): boolean {
  const a = Math.max(Math.abs(previous), floor);
  const b = Math.max(Math.abs(next), floor);
  return b > a * factor * (1 + EPSILON) || a > b * factor * (1 + EPSILON);
}

/**
 * A profit near zero swings by large factors on ordinary nights (50 -> 2,000 on a revenue of
 * 800,000): its magnitude is floored at 1% of the business's revenue (the larger of the two
 * nights'), the same scale as the consistency check's tolerance.
 */
function floorOf(field: (typeof JUMP_FIELDS)[number], before: MetricFigures, now: MetricFigures): number {
  if (field !== 'profit') return 1;
  return Math.max(1, PROFIT_TOLERANCE * Math.max(Math.abs(before.revenue), Math.abs(now.revenue)));
}

/** Every figure of `metrics` that jumped against the baseline (businesses new to it are not checked). */
export function metricJumps(
  baseline: Baseline,
  metrics: ReadonlyMap<string, BusinessMetrics>,
  factor: number,
): GuardReason[] {
  const out: GuardReason[] = [];
  if (baseline.size === 0) return out;
  for (const m of metrics.values()) {
    const before = baseline.get(m.businessId);
    if (!before) continue;
    for (const field of JUMP_FIELDS) {
      const floor = floorOf(field, before, m);
      if (!isJump(before[field], m[field], factor, floor)) continue;
      const ratio = Math.max(Math.abs(m[field]), floor) / Math.max(Math.abs(before[field]), floor);
      out.push({
        guard: 'metric-jump',
        businessId: m.businessId,
        detail: `${field} ${num(before[field])} -> ${num(m[field])} (x${ratio >= 1 ? round(ratio) : `1/${round(1 / ratio)}`}, limit x${factor})`,
      });
    }
  }
  return out;
}

/**
 * The baseline once a run's metrics are accepted: the old figures for businesses without usable
 * metrics, and for those in `keep` (businesses whose figures jumped on a night that moved nothing,
 * so was not held: a jump is accepted only through an approval, never by a quiet night).
 */
export function nextBaseline(
  portfolio: Portfolio,
  previous: Baseline | null,
  usable: ReadonlyMap<string, BusinessMetrics>,
  keep: ReadonlySet<string> | null = null,
): Map<string, MetricFigures> {
  const out = new Map<string, MetricFigures>();
  for (const a of portfolio.allocations) {
    const m = keep?.has(a.businessId) && previous?.has(a.businessId) ? undefined : usable.get(a.businessId);
    const figures = m
      ? { revenue: m.revenue, profit: m.profit, customers: m.customers }
      : previous?.get(a.businessId);
    if (figures) out.set(a.businessId, figures);
  }
  return out;
}

export interface ApplyInput {
  readonly portfolio: Portfolio;
  readonly settings: GuardSettings;
  /** Allocations the recommendation moves. */
  readonly changes: number;
  readonly turnover: number;
  /** Weight of the unlocked allocations, and of those among them without usable metrics. */
  readonly unlockedWeight: number;
  readonly missingWeight: number;
  readonly jumps: readonly GuardReason[];
  /** A description when the nightly run's circuit breaker is open, else null. */
  readonly circuitOpen: string | null;
}

export type ApplyDecision =
  | { readonly kind: 'apply' }
  | { readonly kind: 'advisory' }
  | {
      readonly kind: 'hold';
      readonly reasons: readonly GuardReason[];
      /** Held by a guard (not only by the apply mode or an open breaker): counts for the breaker. */
      readonly byGuard: boolean;
    };

/**
 * Apply, hold or only report. A recommendation that moves nothing is never held: there is nothing
 * to approve. With guards off, only the apply mode decides.
 */
export function decideApply(input: ApplyInput): ApplyDecision {
  const { portfolio, settings } = input;
  const mode = portfolio.applyMode ?? 'auto';
  if (mode === 'advisory') return { kind: 'advisory' };
  if (input.changes === 0) return { kind: 'apply' };
  const reasons: GuardReason[] = [];
  if (settings.enabled) {
    reasons.push(...input.jumps);
    const limit = portfolio.maxAutoTurnover ?? settings.maxTurnover;
    if (input.turnover > limit + 1e-9) {
      const source = portfolio.maxAutoTurnover === undefined ? ' (BALLAST_GUARD_MAX_TURNOVER)' : '';
      reasons.push({
        guard: 'turnover',
        detail: `turnover ${pct(input.turnover)} is above max_auto_turnover ${pct(limit)}${source}`,
      });
    }
    const missing = missingShare(input.unlockedWeight, input.missingWeight);
    if (missing > settings.maxMissing + 1e-9) {
      reasons.push({
        guard: 'missing-metrics',
        detail: `${pct(missing)} of the unlocked weight has no usable metrics (limit ${pct(settings.maxMissing)})`,
      });
    }
  }
  const byGuard = reasons.length > 0;
  if (settings.enabled && input.circuitOpen !== null) {
    reasons.push({ guard: 'run-circuit-open', detail: input.circuitOpen });
  }
  if (mode === 'approve') {
    reasons.push({
      guard: 'approval-required',
      detail: 'apply_mode is approve: every change waits for an operator',
    });
  }
  return reasons.length > 0 ? { kind: 'hold', reasons, byGuard } : { kind: 'apply' };
}

/** Share of the unlocked weight without usable metrics (0 when nothing is unlocked). */
export function missingShare(unlockedWeight: number, missingWeight: number): number {
  return unlockedWeight > EPSILON ? missingWeight / unlockedWeight : 0;
}

export interface RunTally {
  /** Portfolios of the run the guards decided on (applied, unchanged or held). */
  readonly decided: number;
  /** Of those, held by a guard. */
  readonly held: number;
}

/**
 * Whether a nightly run's circuit breaker opens: more than `runHoldShare` of the portfolios decided
 * so far were held by a guard, counted once `runMinCount` are decided, or at the end of the run.
 */
export function circuitTrips(
  tally: RunTally,
  settings: Pick<GuardSettings, 'enabled' | 'runHoldShare' | 'runMinCount'>,
  runEnded: boolean,
): boolean {
  if (!settings.enabled || tally.decided === 0) return false;
  if (tally.decided < settings.runMinCount && !runEnded) return false;
  return tally.held > settings.runHoldShare * tally.decided + 1e-9;
}

/** What the breaker's reason and log line say. */
export function describeCircuit(tally: RunTally, settings: Pick<GuardSettings, 'runHoldShare'>): string {
  return `circuit breaker open: ${tally.held} of the first ${tally.decided} portfolios of this run were held (more than ${pct(settings.runHoldShare)}); the rest of the run is held`;
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

function round(n: number): string {
  return n >= 10 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
}

function duration(ms: number): string {
  const hours = ms / 3600_000;
  if (hours < 72) return `${Math.round(hours * 10) / 10} h`;
  return `${Math.round(hours / 24)} days`;
}
