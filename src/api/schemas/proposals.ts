/** Bodies of the proposal routes: list, show, approve, reject. */
import { z } from 'zod';
import { GUARDS } from '../../domain/index.js';
import { DEFAULT_PROPOSALS_LIMIT, MAX_PROPOSALS_LIMIT } from '../../services/proposals.js';
import { limitParam, strictQuery } from './common.js';

export const proposalsQuery = strictQuery({
  limit: limitParam(
    MAX_PROPOSALS_LIMIT,
    `the longest-waiting first; default ${DEFAULT_PROPOSALS_LIMIT}, at most ${MAX_PROPOSALS_LIMIT}`,
  ),
});

const reason = z.object({
  guard: z.enum(GUARDS),
  business_id: z.string().optional(),
  detail: z.string().describe('what was found, with the numbers'),
});

export const proposalWire = z
  .object({
    portfolio_id: z.string(),
    report_id: z.string(),
    run_id: z.string(),
    version: z.number().describe('the portfolio version it was computed on: approval requires it'),
    created_at: z.string(),
    expires_at: z.string(),
    strategy: z.string(),
    turnover: z.number(),
    changes: z.number().describe('allocations it moves'),
    reasons: z.array(reason).describe('why it was held'),
    actions: z.array(
      z.object({
        business_id: z.string(),
        action: z.string(),
        current_weight: z.number(),
        recommended_weight: z.number(),
        reason: z.string(),
      }),
    ),
    supersedes: z
      .object({ report_id: z.string(), run_id: z.string() })
      .nullable()
      .describe('the pending proposal this one replaced'),
  })
  .meta({ id: 'Proposal' });

export const proposalsResponse = z.array(proposalWire);

/** No body at all is an approval (or rejection) without a note. */
export const resolveBody = z
  .strictObject({
    note: z
      .string()
      .min(1)
      .max(500)
      .regex(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' })
      .optional()
      .describe('why, kept in history and audit'),
  })
  .optional();

export const approveResponse = z.object({
  portfolio_id: z.string(),
  report_id: z.string(),
  version_before: z.number(),
  version_after: z.number(),
  changes: z.number(),
  portfolio: z.looseObject({ id: z.string(), version: z.number() }),
});

export const rejectResponse = z.object({
  portfolio_id: z.string(),
  report_id: z.string(),
  version: z.number().describe('the portfolio version, unchanged'),
});
