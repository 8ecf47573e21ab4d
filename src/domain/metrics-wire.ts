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
import { isIsoDateOrTimestamp, nameProblem } from './validate.js';

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

const AS_OF_MESSAGE =
  'must be an ISO-8601 date or timestamp (2026-01-31, 2026-01-31T02:00:00Z) or epoch milliseconds within the range of a Date';
const MAX_EPOCH_MS = 8.64e15;

const metricsShape = {
  business_id: idSchema,
  name: z
    .string()
    .superRefine((value, ctx) => {
      const problem = nameProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .nullish(),
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
  as_of: z
    .union([z.string(), z.number()], { error: AS_OF_MESSAGE })
    .superRefine((value, ctx) => {
      // Epoch milliseconds only within the range of a Date: toISOString() throws outside it.
      const ok = typeof value === 'string' ? isIsoDateOrTimestamp(value) : Math.abs(value) <= MAX_EPOCH_MS;
      if (!ok) ctx.addIssue({ code: 'custom', message: AS_OF_MESSAGE });
    })
    .nullish(),
};

type ParsedMetrics = z.output<z.ZodObject<typeof metricsShape>>;

interface Derived {
  readonly profit: number;
  readonly expenses: number;
  readonly margin: number;
}

/** profit defaults to revenue - expenses; margin to profit/revenue*100 (0 when revenue <= 0). */
function derive(m: ParsedMetrics): Derived {
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

/** Tolerant of fields it does not know: other systems' metrics may carry more than Ballast reads. */
export const wireMetricsSchema = z.object(metricsShape).superRefine(checkDerived);

/**
 * For files an operator writes (`plan --metrics`, `metrics import`, the file source): an unknown
 * field there is a typo ("customer", "expense") that would otherwise be ignored without a word.
 */
export const strictWireMetricsSchema = z
  .strictObject(metricsShape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : undefined,
  })
  .superRefine(checkDerived);

export type WireMetrics = z.input<typeof wireMetricsSchema>;

export interface MetricsReadOptions {
  /** 'ignore' (default, for sources fed by other systems) or 'refuse' (for operators' files). */
  readonly unknownFields?: 'ignore' | 'refuse';
}

export function metricsSchema(options: MetricsReadOptions = {}) {
  return options.unknownFields === 'refuse' ? strictWireMetricsSchema : wireMetricsSchema;
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
    asOf:
      m.as_of === undefined || m.as_of === null
        ? undefined
        : typeof m.as_of === 'number'
          ? new Date(m.as_of).toISOString()
          : m.as_of,
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
