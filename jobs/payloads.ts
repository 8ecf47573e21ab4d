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

/** A block of a nightly run's portfolios, run one after another by one job (BALLAST_FANOUT_BLOCK). */
export const recalculateBlockPayload = z.strictObject({
  runId: runIdSchema,
  trigger: triggerSchema,
  catchUp: z.boolean().default(false),
  portfolioIds: z.array(idSchema).min(1).max(500),
});
export type RecalculateBlockPayload = z.input<typeof recalculateBlockPayload>;

export const nightlyPayload = z.strictObject({
  runId: runIdSchema,
  trigger: triggerSchema,
  catchUp: z.boolean().default(false),
});
export type NightlyPayload = z.input<typeof nightlyPayload>;

/** Job ids: the run id and the portfolio id cannot contain '.', so the pair is unambiguous. */
export const recalculateJobId = (runId: string, portfolioId: string): string => `${runId}.${portfolioId}`;
export const nightlyJobId = (runId: string): string => `nightly.${runId}`;
/** A block is named by its run and its first portfolio ('block' is not a run id's '.'-free pair). */
export const recalculateBlockJobId = (runId: string, firstPortfolioId: string): string =>
  `block.${runId}.${firstPortfolioId}`;
export const recalculateBlockJobPrefix = (runId: string): string => `block.${runId}.`;

/** Longest id copied from a payload into a log line: a junk payload must not flood the logs. */
const LOGGED_ID_MAX = 100;

/** The run id and portfolio id of a job's payload (for log lines and job lists); whatever of them is a string. */
export function payloadIds(data: unknown): { runId?: string; portfolioId?: string } {
  if (typeof data !== 'object' || data === null) return {};
  const out: { runId?: string; portfolioId?: string } = {};
  for (const field of ['runId', 'portfolioId'] as const) {
    const value = (data as Record<string, unknown>)[field];
    if (typeof value === 'string') out[field] = value.slice(0, LOGGED_ID_MAX);
  }
  return out;
}
