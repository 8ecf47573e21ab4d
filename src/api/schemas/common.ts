/** Schemas shared by every route: errors, path ids, small helpers. */
import { z } from 'zod';
import { idSchema } from '../../domain/index.js';
import { showName } from '../http/log-request.js';

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
  400: errorSchema.describe(
    'Invalid input: a bad or unknown field, query parameter or id, a body where none is taken',
  ),
  401: errorSchema.describe('Missing or wrong bearer token'),
  404: errorSchema.describe('Unknown portfolio, business or job'),
  409: errorSchema.describe('Refused by the portfolio (locks, bounds, archived) or changed meanwhile'),
  415: errorSchema.describe('A body that is not JSON'),
} as const;

/** 413, with the server's own limit (ApiServerOptions.bodyLimit). */
export function tooLargeResponse(bodyLimit: number) {
  return errorSchema.describe(`Body over the limit (${describeBytes(bodyLimit)})`);
}

function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * 503 by what the route does: only a write can have happened before a deadline's 503, so only a
 * write route says so (see request-deadline.ts).
 */
export const unavailableResponses = {
  read: errorSchema.describe(
    'Redis is unreachable, or did not answer within the request deadline; this is a read: nothing was changed',
  ),
  write: errorSchema.describe(
    'Redis is unreachable (nothing was done), or did not answer within the request deadline: then a change may or may not have been made before it passed; read it back before retrying',
  ),
  metrics: errorSchema.describe(
    'Redis is unreachable or did not answer within the request deadline, the metrics source failed, or the API shut down before the metrics arrived; this is a read: nothing was changed',
  ),
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

/**
 * A query string with only these parameters: an unknown one is a 400 that names it, never
 * ignored (`?dryrun=true` must not run for real). Every route without a query schema of its
 * own gets `strictQuery({})` (see server.ts).
 */
export function strictQuery<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownParameters(issue.keys, known) : undefined),
  });
}

function unknownParameters(keys: readonly string[], known: readonly string[]): string {
  // A name that could be a pasted token is not repeated (messages are logged).
  const names = keys.map(showName).join(', ');
  const takes = known.length === 0 ? 'this route takes none' : `this route takes only ${known.join(', ')}`;
  const hints: string[] = [];
  const squash = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, '');
  for (const key of keys) {
    const near = known.find((k) => squash(k) === squash(key));
    if (near) hints.push(`did you mean ${near}?`);
    else if (squash(key) === 'dryrun')
      hints.push(
        'a dry run is GET /portfolios/{id}/rebalance (a preview) or POST /portfolios/{id}/recalculate?dry_run=true',
      );
    else if (/token|auth|key/i.test(key))
      hints.push('the token goes in the Authorization header (Bearer), never in the URL');
  }
  const plural = keys.length > 1 ? 's' : '';
  return [`unknown query parameter${plural} ${names}: ${takes}`, ...new Set(hints)].join('; ');
}

/** `?dry_run=true`: query strings carry text, so booleans are spelled out. */
export const queryBoolean = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

/** The sketch's optional fields accepted null as "not given" (pydantic Optional). */
export function nullAsAbsent<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((v) => (v === null ? undefined : v));
}

/**
 * `?limit=N`: a whole number from 1 to `max` (query strings carry text), optional; `describe`
 * says what the list is and its default.
 */
export function limitParam(max: number, describe: string) {
  const message = `must be a whole number from 1 to ${max}`;
  return z
    .string()
    .regex(new RegExp(`^\\d{1,${String(max).length}}$`), { message })
    .transform(Number)
    .pipe(z.number().int().min(1, message).max(max, message))
    .optional()
    .describe(describe);
}
