/**
 * Business metrics in the snake_case wire shape (HTTP metrics source, redis hashes, metrics
 * files), validated and translated to BusinessMetrics.
 *
 * Every figure, given or derived, stays within documented limits. Not for realism (nobody earns
 * 1e15) but so that the arithmetic after it cannot overflow: sums over a portfolio, the growth
 * score, revenue-weighted growth, min-max spans. Before the limits, a growth rate of 1.5e308 was
 * valid input and turned into NaN weights. Derived figures obey the same limits as given ones,
 * so that what metricsToWire writes is always read back (the redis source stores it that way).
 */
import { z } from 'zod';
import { idSchema } from './ids.js';
import { type BusinessMetrics, STAGES } from './model.js';
import { isIsoDateOrTimestamp, nameProblem, repairName, zonelessAsUtc } from './validate.js';

/** Revenue, expenses and profit, in currency units: |x| <= 1e15. */
export const MONEY_LIMIT = 1e15;
/** Growth rate and margin, in percent: |x| <= 1e12 (a margin of -1e10% is a $1 revenue on $100M costs). */
export const PERCENT_LIMIT = 1e12;
/** Customers: an integer from 0 to 1e15. */
export const COUNT_LIMIT = 1e15;

const MONEY_MESSAGE = 'must be a finite number between -1e15 and 1e15';
const PERCENT_MESSAGE = 'must be a finite number (percent) between -1e12 and 1e12';

// Not a number at all (a string, NaN, Infinity): zod's own message says what was received.
const money = z.number().min(-MONEY_LIMIT, MONEY_MESSAGE).max(MONEY_LIMIT, MONEY_MESSAGE);
const percent = z.number().min(-PERCENT_LIMIT, PERCENT_MESSAGE).max(PERCENT_LIMIT, PERCENT_MESSAGE);

/**
 * as_of, in whatever form, is an instant from 1970-01-01 to 9999-12-31 (UTC): one rule for every
 * source and path, so that what one accepts the others read back. Before it, epoch milliseconds
 * up to 8.64e15 were taken, and so were microseconds (1769824800000000 as the year 58053):
 * plan accepted such a file, `metrics import` refused it and the redis source its hash.
 */
export const AS_OF_MIN_MS = 0;
export const AS_OF_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const AS_OF_RANGE = 'from 1970-01-01 to 9999-12-31 (UTC)';
const AS_OF_FORMS = `must be an ISO-8601 date or timestamp with a time zone (2026-01-31, 2026-01-31T02:00:00Z) or epoch milliseconds, ${AS_OF_RANGE}`;

/** A value quoted in a message: short, and with its control characters escaped. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

/** as_of as an ISO string, or why it cannot be one. `repair`: a zoneless timestamp is UTC. */
export function readAsOf(
  value: string | number,
  repair: boolean,
): { ok: true; value: string } | { ok: false; message: string } {
  if (typeof value === 'number') {
    if (value >= AS_OF_MIN_MS && value <= AS_OF_MAX_MS)
      return { ok: true, value: new Date(value).toISOString() };
    // 1e15 microseconds is 2001: beyond that a value is more likely micro- or nanoseconds.
    const hint = value >= 1e15 ? ': microseconds or nanoseconds rather than milliseconds?' : '';
    return {
      ok: false,
      message: `must be epoch milliseconds ${AS_OF_RANGE}, 0 to ${AS_OF_MAX_MS}; got ${value}${hint}`,
    };
  }
  const zoneless = zonelessAsUtc(value);
  const iso = zoneless !== undefined && repair ? zoneless : value;
  if (!isIsoDateOrTimestamp(iso)) {
    return {
      ok: false,
      message:
        zoneless !== undefined
          ? `a timestamp needs a time zone ("Z" or "+02:00"); got ${quote(value)}`
          : `${AS_OF_FORMS}; got ${quote(value)}`,
    };
  }
  const time = Date.parse(iso);
  if (!(time >= AS_OF_MIN_MS && time <= AS_OF_MAX_MS)) {
    return { ok: false, message: `must be ${AS_OF_RANGE}; got ${quote(value)}` };
  }
  return { ok: true, value: iso };
}

/**
 * The fields that other systems get wrong without the figures being wrong: a blank name, one
 * with a tab, a zoneless timestamp. 'refuse' for operators' files and imports; 'repair' for the
 * http and redis sources, where refusing would make a business no-metrics over its name.
 */
function cosmeticFields(repair: boolean) {
  const name = repair
    ? z
        .string()
        .nullish()
        .transform((value) => (typeof value === 'string' ? repairName(value) : value))
    : z
        .string()
        .superRefine((value, ctx) => {
          const problem = nameProblem(value);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        })
        // One spelling per name, as every other name (and repairName) is stored: NFC.
        .transform((value) => value.normalize('NFC'))
        .nullish();
  const asOf = z
    .union([z.string(), z.number()], { error: AS_OF_FORMS })
    .transform((value, ctx) => {
      const read = readAsOf(value, repair);
      if (read.ok) return read.value;
      ctx.issues.push({ code: 'custom', message: read.message, input: value });
      return z.NEVER;
    })
    .nullish();
  return { name, as_of: asOf };
}

const figures = {
  business_id: idSchema,
  revenue: money,
  expenses: money.optional(),
  profit: money.optional(),
  margin: percent.optional(),
  customers: z
    .number()
    .int('must be a whole number from 0 to 1e15')
    .min(0, 'must be a whole number from 0 to 1e15')
    .max(COUNT_LIMIT, 'must be a whole number from 0 to 1e15')
    .optional(),
  growth_rate: percent,
  health_score: z.number().min(0).max(100),
  stage: z.enum(STAGES).default('unknown'),
};

const metricsShape = { ...figures, ...cosmeticFields(false) };
const repairedShape = { ...figures, ...cosmeticFields(true) };

export type ParsedMetrics = z.output<z.ZodObject<typeof metricsShape>>;

interface Derived {
  readonly profit: number;
  readonly expenses: number;
  readonly margin: number;
}

/** profit defaults to revenue - expenses; margin to profit/revenue*100 (0 when revenue <= 0). */
export function derive(m: ParsedMetrics): Derived {
  const profit = m.profit ?? m.revenue - (m.expenses ?? 0);
  const expenses = m.expenses ?? m.revenue - profit;
  const margin = m.margin ?? (m.revenue > 0 ? (profit / m.revenue) * 100 : 0);
  return { profit, expenses, margin };
}

function checkDerived(m: ParsedMetrics, ctx: z.core.$RefinementCtx<ParsedMetrics>): void {
  if (m.expenses === undefined && m.profit === undefined) {
    ctx.addIssue({ code: 'custom', path: ['expenses'], message: 'give expenses or profit (or both)' });
    return;
  }
  const d = derive(m);
  if (m.profit === undefined && !(Math.abs(d.profit) <= MONEY_LIMIT)) {
    ctx.addIssue({
      code: 'custom',
      path: ['profit'],
      message: `revenue - expenses is ${d.profit}, beyond the limit of 1e15: give profit`,
    });
  }
  if (m.expenses === undefined && !(Math.abs(d.expenses) <= MONEY_LIMIT)) {
    ctx.addIssue({
      code: 'custom',
      path: ['expenses'],
      message: `revenue - profit is ${d.expenses}, beyond the limit of 1e15: give expenses`,
    });
  }
  if (m.margin === undefined && !(Math.abs(d.margin) <= PERCENT_LIMIT)) {
    ctx.addIssue({
      code: 'custom',
      path: ['margin'],
      message: `profit / revenue is ${d.margin}%, beyond the limit of 1e12%: revenue ${m.revenue} is too small to divide by; give margin`,
    });
  }
}

/**
 * Tolerant of fields it does not know (other systems' metrics may carry more than Ballast reads),
 * strict on the cosmetic ones: for imports.
 */
export const wireMetricsSchema = z.object(metricsShape).superRefine(checkDerived);

const unknownFieldsError = (issue: z.core.$ZodRawIssue) =>
  issue.code === 'unrecognized_keys'
    ? `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
    : undefined;

/**
 * For files an operator writes (`plan --metrics`, `metrics import`, the file source): an unknown
 * field there is a typo ("customer", "expense") that would otherwise be ignored without a word.
 */
export const strictWireMetricsSchema = z
  .strictObject(metricsShape, { error: unknownFieldsError })
  .superRefine(checkDerived);

/** For the http and redis sources: unknown fields ignored, cosmetic ones repaired. */
const repairingWireMetricsSchema = z.object(repairedShape).superRefine(checkDerived);
const strictRepairingWireMetricsSchema = z
  .strictObject(repairedShape, { error: unknownFieldsError })
  .superRefine(checkDerived);

export type WireMetrics = z.input<typeof wireMetricsSchema>;

export interface MetricsReadOptions {
  /** 'ignore' (default, for sources fed by other systems) or 'refuse' (for operators' files). */
  readonly unknownFields?: 'ignore' | 'refuse';
  /**
   * 'repair' (default, for sources fed by other systems) or 'refuse' (for operators' files and
   * imports): a name that is blank or holds control characters is made printable (see
   * repairName), and a timestamp without a time zone is read as UTC. Figures are never repaired.
   */
  readonly cosmetic?: 'repair' | 'refuse';
}

/** How the http and redis sources read: what other systems send. */
export const FROM_OTHER_SYSTEMS: MetricsReadOptions = { unknownFields: 'ignore', cosmetic: 'repair' };
/** How files are read (`plan --metrics`, `metrics import`, the file source): what operators write. */
export const FROM_OPERATOR_FILES: MetricsReadOptions = { unknownFields: 'refuse', cosmetic: 'refuse' };

export function metricsSchema(options: MetricsReadOptions = {}) {
  const strict = options.unknownFields === 'refuse';
  if (options.cosmetic === 'refuse') return strict ? strictWireMetricsSchema : wireMetricsSchema;
  return strict ? strictRepairingWireMetricsSchema : repairingWireMetricsSchema;
}

export function toMetrics(m: ParsedMetrics): BusinessMetrics {
  const { profit, expenses, margin } = derive(m);
  return {
    businessId: m.business_id,
    name: m.name ?? undefined,
    revenue: m.revenue,
    expenses,
    profit,
    margin,
    customers: m.customers ?? 0,
    growthRate: m.growth_rate,
    healthScore: m.health_score,
    stage: m.stage,
    // Already an ISO string: epoch milliseconds and zoneless timestamps were turned into one.
    asOf: m.as_of ?? undefined,
  };
}

export function metricsToWire(m: BusinessMetrics) {
  return {
    business_id: m.businessId,
    name: m.name ?? null,
    revenue: m.revenue,
    expenses: m.expenses,
    profit: m.profit,
    margin: m.margin,
    customers: m.customers,
    growth_rate: m.growthRate,
    health_score: m.healthScore,
    stage: m.stage,
    as_of: m.asOf ?? null,
  };
}
