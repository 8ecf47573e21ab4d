/**
 * A held recommendation waiting for an operator: one per portfolio. Approving it applies exactly
 * its weights to the version it was computed on (compare-and-set); a later run replaces it.
 */
import { z } from 'zod';
import { applyRecommendation } from './apply.js';
import { StaleVersionError } from './errors.js';
import { type Baseline, GUARDS, type GuardReason, type MetricFigures } from './guards.js';
import type { Portfolio, Strategy } from './model.js';
import { ACTION_KINDS, type Action } from './recommend.js';
import type { Report } from './run.js';
import { guardReasonToWire, parseWith, strategySchema } from './wire.js';

export interface Proposal {
  readonly portfolioId: string;
  readonly reportId: string;
  readonly runId: string;
  /** The portfolio version the recommendation was computed on: approval requires it. */
  readonly version: number;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly strategy: Strategy;
  readonly turnover: number;
  /** Allocations the proposal moves. */
  readonly changes: number;
  readonly reasons: readonly GuardReason[];
  /** One per business, in portfolio order, as the held report has them. */
  readonly actions: readonly Action[];
  /** The pending proposal this one replaced, if any. */
  readonly supersedes: { readonly reportId: string; readonly runId: string } | null;
}

/** The proposal a held report leaves; `ttlMs` from BALLAST_PROPOSAL_TTL. */
export function proposalFromReport(
  report: Report,
  ttlMs: number,
  supersedes: Proposal['supersedes'] = null,
): Proposal {
  if (!report.held) throw new Error(`report ${report.reportId} was not held`);
  return {
    portfolioId: report.portfolioId,
    reportId: report.reportId,
    runId: report.runId,
    version: report.versionBefore,
    createdAt: report.createdAt,
    expiresAt: new Date(Date.parse(report.createdAt) + ttlMs).toISOString(),
    strategy: report.strategy,
    turnover: report.turnover,
    changes: report.changes,
    reasons: report.held.reasons,
    actions: report.actions.map((a) => ({
      businessId: a.businessId,
      action: a.action,
      currentWeight: a.currentWeight,
      recommendedWeight: a.recommendedWeight,
      reason: a.reason,
    })),
    supersedes,
  };
}

/**
 * The portfolio with exactly the proposal's weights: a new version whose last run is the held
 * one. Refuses (StaleVersionError) when the portfolio is no longer the version it was computed on.
 */
export function approveProposal(portfolio: Portfolio, proposal: Proposal, now: string): Portfolio {
  if (portfolio.id !== proposal.portfolioId || portfolio.version !== proposal.version) {
    throw new StaleVersionError(proposal.version, portfolio.version);
  }
  return applyRecommendation(
    portfolio,
    {
      portfolioId: proposal.portfolioId,
      version: proposal.version,
      strategy: proposal.strategy,
      actions: proposal.actions,
      turnover: proposal.turnover,
      turnoverScale: null,
      unlockedWeight: 0,
      missingWeight: 0,
    },
    { runId: proposal.runId, reportId: proposal.reportId, at: now },
  );
}

export function proposalToWire(p: Proposal) {
  return {
    portfolio_id: p.portfolioId,
    report_id: p.reportId,
    run_id: p.runId,
    version: p.version,
    created_at: p.createdAt,
    expires_at: p.expiresAt,
    strategy: p.strategy,
    turnover: p.turnover,
    changes: p.changes,
    reasons: p.reasons.map(guardReasonToWire),
    actions: p.actions.map((a) => ({
      business_id: a.businessId,
      action: a.action,
      current_weight: a.currentWeight,
      recommended_weight: a.recommendedWeight,
      reason: a.reason,
    })),
    supersedes: p.supersedes ? { report_id: p.supersedes.reportId, run_id: p.supersedes.runId } : null,
  };
}

export type WireProposal = ReturnType<typeof proposalToWire>;

const reasonSchema = z.object({
  guard: z.enum(GUARDS),
  business_id: z.string().optional(),
  detail: z.string(),
});

const wireProposalSchema = z.object({
  portfolio_id: z.string(),
  report_id: z.string(),
  run_id: z.string(),
  version: z.number().int(),
  created_at: z.string(),
  expires_at: z.string(),
  strategy: strategySchema,
  turnover: z.number(),
  changes: z.number().int(),
  reasons: z.array(reasonSchema),
  actions: z.array(
    z.object({
      business_id: z.string(),
      action: z.enum(ACTION_KINDS),
      current_weight: z.number(),
      recommended_weight: z.number(),
      reason: z.string(),
    }),
  ),
  supersedes: z.object({ report_id: z.string(), run_id: z.string() }).nullable(),
});

/** A stored proposal, read back. */
export function proposalFromWire(input: unknown): Proposal {
  const p = parseWith(wireProposalSchema, input, 'stored proposal');
  return {
    portfolioId: p.portfolio_id,
    reportId: p.report_id,
    runId: p.run_id,
    version: p.version,
    createdAt: p.created_at,
    expiresAt: p.expires_at,
    strategy: p.strategy,
    turnover: p.turnover,
    changes: p.changes,
    reasons: p.reasons.map((r) => ({ guard: r.guard, businessId: r.business_id, detail: r.detail })),
    actions: p.actions.map((a) => ({
      businessId: a.business_id,
      action: a.action,
      currentWeight: a.current_weight,
      recommendedWeight: a.recommended_weight,
      reason: a.reason,
    })),
    supersedes: p.supersedes ? { reportId: p.supersedes.report_id, runId: p.supersedes.run_id } : null,
  };
}

/** Baseline figures as stored: `{business_id: [revenue, profit, customers]}`. */
export function baselineToJson(baseline: Baseline): string {
  const out: Record<string, [number, number, number]> = {};
  for (const [id, f] of baseline) out[id] = [f.revenue, f.profit, f.customers];
  return JSON.stringify(out);
}

export function baselineFromJson(json: string): Map<string, MetricFigures> {
  const parsed = JSON.parse(json) as Record<string, unknown>;
  const out = new Map<string, MetricFigures>();
  for (const [id, v] of Object.entries(parsed)) {
    if (Array.isArray(v) && v.length === 3) {
      const [revenue, profit, customers] = v as unknown[];
      if (typeof revenue === 'number' && typeof profit === 'number' && typeof customers === 'number')
        out.set(id, { revenue, profit, customers });
    }
  }
  return out;
}
