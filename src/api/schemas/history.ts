/** Bodies of the history and undo routes: history, restore, revert, audit. */
import { z } from 'zod';
import { idSchema } from '../../domain/index.js';
import { DEFAULT_AUDIT_LIMIT, DEFAULT_HISTORY_LIMIT, MAX_LIMIT } from '../../services/history.js';
import { limitParam, strictQuery } from './common.js';

const limit = (fallback: number) =>
  limitParam(MAX_LIMIT, `newest first; default ${fallback}, at most ${MAX_LIMIT}`);

export const historyQuery = strictQuery({ limit: limit(DEFAULT_HISTORY_LIMIT) });

export const auditQuery = strictQuery({
  portfolio: idSchema.optional().describe('only this portfolio'),
  actor: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('only this actor (api:<name>, cli:<user>@<host>, run:<run_id>)'),
  since: z
    .string()
    .max(40)
    .optional()
    .describe('ISO date or timestamp with zone, or a duration back from now: 30m, 24h, 7d'),
  limit: limit(DEFAULT_AUDIT_LIMIT),
});

export const runParams = z.strictObject({
  run_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, { message: 'must be 1..100 characters of letters, digits, "_" or "-"' })
    .describe('run id'),
});

export const restoreBody = z.strictObject({
  version: z.number().int().min(1).describe('the version whose allocations come back'),
  dry_run: z.boolean().optional().describe('say what would change, write nothing'),
});

/** No body at all is a plain revert (the route reads a missing body as `{}`). */
export const revertBody = z
  .strictObject({
    dry_run: z.boolean().optional().describe('say what would be reverted, write nothing'),
    force: z
      .boolean()
      .optional()
      .describe('revert portfolios changed since the run too, only what the run moved'),
  })
  .optional();

const change = z.object({ old: z.unknown(), new: z.unknown() });
const diff = z.object({
  allocations: z.array(
    z.object({ business_id: z.string(), kind: z.string(), fields: z.record(z.string(), change) }),
  ),
  settings: z.record(z.string(), change),
  reordered: z.boolean(),
});
const cause = z
  .looseObject({ type: z.string() })
  .describe('run | edit | restore | revert | approve, with its ids');

export const historyRecordWire = z
  .object({
    portfolio_id: z.string(),
    version: z.number(),
    version_before: z.number(),
    at: z.string(),
    actor: z.string(),
    cause,
    note: z.string().nullable(),
    changes: z.string().describe('the diff as a person reads it'),
    diff,
    allocations: z.array(z.looseObject({ business_id: z.string(), weight: z.number() })),
  })
  .meta({ id: 'HistoryRecord' });

export const historyResponse = z.object({
  portfolio_id: z.string(),
  current_version: z.number(),
  kept: z.object({ oldest: z.number(), newest: z.number(), count: z.number() }).nullable(),
  history: z.array(historyRecordWire),
});

export const auditResponse = z.object({
  entries: z.array(
    z
      .object({
        at: z.string(),
        actor: z.string(),
        portfolio_id: z.string(),
        cause,
        note: z.string().nullable(),
        version_before: z.number(),
        version_after: z.number(),
        changes: z.string(),
        diff,
      })
      .meta({ id: 'AuditEntry' }),
  ),
});

export const restoreResponse = z.object({
  portfolio_id: z.string(),
  restored_version: z.number(),
  dry_run: z.boolean(),
  changed: z.boolean().describe('false when the portfolio has these allocations already: nothing written'),
  version_before: z.number(),
  version_after: z.number(),
  changes: z.string(),
  diff,
  portfolio: z.looseObject({ id: z.string(), version: z.number() }),
});

export const revertResponse = z.object({
  run_id: z.string(),
  dry_run: z.boolean(),
  force: z.boolean(),
  reverted: z.array(z.string()),
  conflicts: z.array(
    z.object({
      portfolio_id: z.string(),
      reason: z.string(),
      changed_since: z.object({ version: z.number(), actor: z.string(), cause, at: z.string() }).nullable(),
    }),
  ),
  already_reverted: z.array(z.string()),
  unchanged: z.array(z.string()),
});
