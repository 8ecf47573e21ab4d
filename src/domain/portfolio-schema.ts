/**
 * The portfolio's wire shape (SPEC section 6: what `portfolio show --json` prints and `plan
 * --portfolio` reads) as zod schemas, and the schemas of its settings that other shapes reuse.
 */
import { z } from 'zod';
import { unknownChoice } from './did-you-mean.js';
import { idSchema } from './ids.js';
import { APPLY_MODES, DEFAULTS, STATUSES, STRATEGIES } from './model.js';
import { driftTypeSchema, minTradeSchema, rebalanceTriggerSchema } from './rebalance-options.js';
import { isIsoTimestamp, nameProblem } from './validate.js';

const fraction = z.number().min(0).max(1);
const finite = z.number();

const nameSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = nameProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  // One spelling per name, as createPortfolio stores it: NFC.
  .transform((value) => value.normalize('NFC'));

const timestampSchema = z
  .string()
  .refine(isIsoTimestamp, 'must be an ISO-8601 timestamp with a time zone, such as 2026-01-31T02:00:00Z');

/**
 * Keys such as "2" or "10" are array indices to JavaScript: every object lists them first, in
 * numeric order, whatever order the file wrote them in. Such ids are valid, but without a
 * `businesses` list the order of the allocations cannot be known.
 */
const ARRAY_INDEX = /^(0|[1-9][0-9]{0,9})$/;
export function isArrayIndex(key: string): boolean {
  return ARRAY_INDEX.test(key) && Number(key) < 2 ** 32 - 1;
}

export const strategySchema = z.enum(STRATEGIES, {
  error: (issue) => unknownChoice('strategy', issue.input, STRATEGIES),
});
export const applyModeSchema = z.enum(APPLY_MODES, {
  error: (issue) => unknownChoice('apply mode', issue.input, APPLY_MODES),
});
export { driftTypeSchema, minTradeSchema, rebalanceTriggerSchema };
export const statusSchema = z.enum(STATUSES, {
  error: (issue) => unknownChoice('status', issue.input, STATUSES),
});

export const wireAllocationSchema = z.strictObject({
  weight: fraction,
  priority: z.number().int().min(1).max(10).default(DEFAULTS.priority),
  locked: z.boolean().default(false),
  min_weight: fraction.nullish(),
  max_weight: fraction.nullish(),
  target_weight: fraction.nullish(),
  // Derived figures that `portfolio show --json` prints; accepted and recomputed.
  budget_percent: finite.optional(),
  budget_amount: finite.optional(),
  attention_hours: finite.optional(),
});

/** Weights written by people may drift a little from 1: accepted within this and re-normalised. */
export const INPUT_SUM_TOLERANCE = 1e-6;

/** The portfolio's fields, before the checks across them (wirePortfolioSchema). */
const wirePortfolioObject = z.strictObject({
  id: idSchema,
  name: nameSchema,
  owner_id: idSchema,
  status: statusSchema.default(DEFAULTS.status),
  strategy: strategySchema.default(DEFAULTS.strategy),
  total_budget: z.number().min(0).default(0),
  target_roi: finite.default(DEFAULTS.targetRoi),
  drift_threshold: fraction.default(DEFAULTS.driftThreshold),
  attention_hours_per_week: z.number().min(0).default(DEFAULTS.attentionHoursPerWeek),
  max_turnover: fraction.nullish(),
  apply_mode: applyModeSchema.default('auto'),
  max_auto_turnover: fraction.nullish(),
  rebalance_trigger: rebalanceTriggerSchema.default('allocation'),
  drift_type: driftTypeSchema.default('absolute'),
  min_trade: minTradeSchema.nullish(),
  version: z.number().int().min(0).default(1),
  business_count: z.number().int().min(0).optional(),
  businesses: z.array(idSchema).optional(),
  allocations: z.record(z.string(), wireAllocationSchema).default({}),
  created_at: timestampSchema.optional(),
  updated_at: timestampSchema.optional(),
  last_run: z.strictObject({ run_id: z.string(), report_id: z.string(), at: timestampSchema }).nullish(),
});

/**
 * The fields but `businesses` and `allocations`, for the typed check of portfolio-check.ts: zod
 * reads the few settings (defaults, the NFC name), the check the many allocations.
 */
export const wirePortfolioHeadSchema = wirePortfolioObject.omit({ businesses: true, allocations: true });
export type WirePortfolioHead = z.output<typeof wirePortfolioHeadSchema>;

export const wirePortfolioSchema = wirePortfolioObject.superRefine((p, ctx) => {
  const keys = Object.keys(p.allocations);
  for (const key of keys) {
    if (!idSchema.safeParse(key).success) {
      ctx.addIssue({
        code: 'custom',
        path: ['allocations', key],
        message: `business id ${JSON.stringify(key)} is not valid: use 1..64 characters of letters, digits, "_" or "-"`,
      });
    }
  }
  if (p.businesses === undefined && keys.length > 1) {
    const numeric = keys.filter(isArrayIndex);
    if (numeric.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['businesses'],
        message: `business ids ${numeric.map((k) => JSON.stringify(k)).join(', ')} are numbers, which JSON objects do not keep in order: list the order of the allocations in "businesses"`,
      });
    }
  }
  const order = p.businesses ?? keys;
  const seen = new Set<string>();
  for (const id of order) {
    if (seen.has(id))
      ctx.addIssue({ code: 'custom', path: ['businesses'], message: `duplicate business id ${id}` });
    seen.add(id);
    // Own keys only: "constructor" or "toString" are valid ids and must not match Object.prototype.
    if (!Object.hasOwn(p.allocations, id)) {
      ctx.addIssue({ code: 'custom', path: ['allocations'], message: `business ${id} has no allocation` });
    }
  }
  for (const key of keys) {
    if (!seen.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['businesses'],
        message: `allocation ${key} is not listed in businesses`,
      });
    }
  }
  if (p.business_count !== undefined && p.business_count !== order.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['business_count'],
      message: `business_count is ${p.business_count} but ${order.length} businesses are listed`,
    });
  }
  for (const key of keys) {
    const a = p.allocations[key]!;
    const min = a.min_weight ?? 0;
    const max = a.max_weight ?? 1;
    if (min > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['allocations', key],
        message: 'min_weight is above max_weight',
      });
    } else if (a.weight < min || a.weight > max) {
      // Invariant 3 holds from the moment a portfolio is read, like invariant 1.
      ctx.addIssue({
        code: 'custom',
        path: ['allocations', key, 'weight'],
        message: `business ${key} has weight ${a.weight}, outside its bounds [${min}, ${max}]: change the weight or the bounds`,
      });
    }
  }
  if (keys.length > 0) {
    const sum = keys.reduce((total, key) => total + p.allocations[key]!.weight, 0);
    if (Math.abs(sum - 1) > INPUT_SUM_TOLERANCE) {
      ctx.addIssue({
        code: 'custom',
        path: ['allocations'],
        message: `weights add up to ${sum}; they must add up to 1`,
      });
    }
  }
});

export type WirePortfolioInput = z.input<typeof wirePortfolioSchema>;
