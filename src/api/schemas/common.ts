/** Schemas shared by every route: errors, path ids, small helpers. */
import { z } from 'zod';
import { idSchema } from '../../domain/index.js';

/** Every 4xx and 5xx body: a short code, a sentence a person can act on, and one line per problem. */
export const errorSchema = z
  .object({
    error: z.string().describe('invalid | unauthorized | not-found | conflict | refused | too-large | ...'),
    message: z.string(),
    details: z.array(z.string()),
    /** The sketch (FastAPI) answered `{"detail": ...}`: kept for clients written against it. */
    detail: z.string().optional(),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof errorSchema>;

export const errorResponses = {
  400: errorSchema.describe('Invalid input'),
  401: errorSchema.describe('Missing or wrong bearer token'),
  404: errorSchema.describe('Unknown portfolio, business or job'),
  409: errorSchema.describe('Refused by the portfolio (locks, bounds, archived) or changed meanwhile'),
} as const;

export const portfolioParams = z.strictObject({ id: idSchema.describe('portfolio id') });
export const ownerParams = z.strictObject({ owner_id: idSchema.describe('owner id') });
export const businessParams = z.strictObject({
  id: idSchema.describe('portfolio id'),
  business_id: idSchema.describe('business id'),
});

/** A job id: `<run_id>.<portfolio_id>` or `nightly.<run_id>`. */
export const jobParams = z.strictObject({
  job_id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,200}$/, {
      message: 'must be 1..200 characters of letters, digits, ".", "_" or "-"',
    })
    .describe('job id'),
});

/** `?dry_run=true`: query strings carry text, so booleans are spelled out. */
export const queryBoolean = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

/** The sketch's optional fields accepted null as "not given" (pydantic Optional). */
export function nullAsAbsent<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((v) => (v === null ? undefined : v));
}
