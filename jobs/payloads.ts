import { z } from 'zod';
import { idSchema } from '../src/domain/index.js';

export const runIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, { message: 'invalid run id' });
export const triggerSchema = z.enum(['cron', 'manual']);

export const recalculatePayload = z.strictObject({
  portfolioId: idSchema,
  runId: runIdSchema,
  trigger: triggerSchema,
  dryRun: z.boolean().default(false),
  catchUp: z.boolean().default(false),
  /** Part of a nightly run's fan-out: paused and archived portfolios are skipped, not refused. */
  fanOut: z.boolean().default(false),
});
export type RecalculatePayload = z.input<typeof recalculatePayload>;

export const nightlyPayload = z.strictObject({
  runId: runIdSchema,
  trigger: triggerSchema,
  catchUp: z.boolean().default(false),
});
export type NightlyPayload = z.input<typeof nightlyPayload>;

/** Job ids: the run id and the portfolio id cannot contain '.', so the pair is unambiguous. */
export const recalculateJobId = (runId: string, portfolioId: string): string => `${runId}.${portfolioId}`;
export const nightlyJobId = (runId: string): string => `nightly.${runId}`;
