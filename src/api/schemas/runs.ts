/** Bodies of the routes SPEC section 6 adds: runs, jobs, reports, health. */
import { z } from 'zod';
import { limitParam, queryBoolean, strictQuery } from './common.js';

export const recalculateQuery = strictQuery({
  dry_run: queryBoolean.optional().describe('compute and publish the report without applying it'),
});

export const enqueuedResponse = z.object({ job_id: z.string(), run_id: z.string() });

export const jobResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    state: z
      .string()
      .describe('waiting | prioritized | active | delayed | completed | failed | waiting-children | unknown'),
    progress: z.unknown(),
    data: z.unknown(),
    result: z.unknown().describe('the return value of a completed job (snake_case)'),
    failed_reason: z.string().nullable(),
    attempts_made: z.number(),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: 'Job' });

export const reportsQuery = strictQuery({
  limit: limitParam(1000, 'newest first; default 20, at most 1000'),
});

export const reportWire = z
  .looseObject({
    report_id: z.string(),
    portfolio_id: z.string(),
    run_id: z.string(),
    trigger: z.string(),
    strategy: z.string(),
    applied: z.boolean(),
    dry_run: z.boolean(),
    held: z
      .object({ reasons: z.array(z.looseObject({ guard: z.string(), detail: z.string() })) })
      .nullable()
      .optional()
      .describe('why the recommendation was not applied; absent in reports written before guards'),
    created_at: z.string(),
    version_before: z.number(),
    version_after: z.number(),
    turnover: z.number(),
    changes: z.number(),
    metrics: z.unknown(),
    ranking: z.array(z.unknown()),
    actions: z.array(z.unknown()),
    skipped: z.object({ reason: z.string() }).nullable(),
  })
  .meta({ id: 'Report' });

export const reportsResponse = z.object({ portfolio_id: z.string(), reports: z.array(reportWire) });

export const healthResponse = z.object({ status: z.literal('ok') });

export const readyResponse = z.object({
  status: z.enum(['ready', 'degraded', 'unavailable']),
  redis: z.enum(['ok', 'down']),
  queue: z.enum(['ok', 'down']),
  memory: z
    .object({
      used: z.number().describe('used_memory, bytes'),
      max: z.number().describe('maxmemory, bytes'),
      ratio: z.number().describe('used / max'),
    })
    .optional()
    .describe('Redis memory, present when Redis has a maxmemory and answered INFO'),
});
