/**
 * Pending proposals (recommendations the guards or the apply mode held): list, show, approve,
 * reject. The operations `ballast proposals`, the `/proposals` routes and the console share.
 */
import type { App } from '../app.js';
import {
  approveProposal,
  ConflictError,
  NotFoundError,
  type Portfolio,
  type Proposal,
  portfolioToWire,
  proposalToWire,
  type WireProposal,
} from '../domain/index.js';

type Deps = Pick<App, 'store' | 'history' | 'proposals' | 'clock'>;

export const DEFAULT_PROPOSALS_LIMIT = 100;
export const MAX_PROPOSALS_LIMIT = 1000;

export interface ProposalList {
  /** Pending proposals in all (the list shows at most `limit`). */
  readonly total: number;
  /** The longest-waiting first. */
  readonly proposals: WireProposal[];
}

export async function listProposals(app: Deps, limit = DEFAULT_PROPOSALS_LIMIT): Promise<ProposalList> {
  const [proposals, total] = await Promise.all([app.proposals.list(limit), app.proposals.count()]);
  return { total: Math.max(total, proposals.length), proposals: proposals.map(proposalToWire) };
}

/** The portfolio's pending proposal; not found when the portfolio or its proposal is not there. */
export async function showProposal(app: Deps, portfolioId: string): Promise<WireProposal> {
  return proposalToWire(await pending(app, portfolioId));
}

export interface ResolveOptions {
  readonly actor: string;
  readonly note?: string | undefined;
}

export interface ApproveResult {
  readonly portfolio_id: string;
  readonly report_id: string;
  readonly version_before: number;
  readonly version_after: number;
  readonly changes: number;
  readonly portfolio: ReturnType<typeof portfolioToWire>;
}

/**
 * Applies exactly the proposal's weights to the version it was computed on (compare-and-set),
 * with a history record and an audit entry (cause `approve`). Refused, saying what changed, when
 * the portfolio has moved since; not found when there is no proposal (or it was replaced or expired
 * meanwhile).
 */
export async function approvePendingProposal(
  app: Deps,
  portfolioId: string,
  options: ResolveOptions,
): Promise<ApproveResult> {
  const proposal = await pending(app, portfolioId);
  const current = await app.store.require(portfolioId);
  if (current.version !== proposal.version) throw await changedSince(app, current, proposal);
  const next = approveProposal(current, proposal, app.clock().toISOString());
  const records = app.store.records(current, next, {
    actor: options.actor,
    cause: { type: 'approve', reportId: proposal.reportId },
    note: options.note,
  });
  const result = await app.proposals.resolve({
    op: 'approve',
    reportId: proposal.reportId,
    before: current,
    next,
    records,
  });
  switch (result.status) {
    case 'ok':
      return {
        portfolio_id: portfolioId,
        report_id: proposal.reportId,
        version_before: current.version,
        version_after: next.version,
        changes: proposal.changes,
        portfolio: portfolioToWire(next),
      };
    case 'stale':
      throw await changedSince(app, (await app.store.get(portfolioId)) ?? current, proposal);
    case 'missing':
      throw new NotFoundError(`portfolio ${portfolioId} not found`);
    case 'gone':
      throw replaced(portfolioId, proposal);
  }
}

export interface RejectResult {
  readonly portfolio_id: string;
  readonly report_id: string;
  readonly version: number;
}

/** Discards the proposal; the weights stay. Recorded in the audit stream (cause `reject`). */
export async function rejectPendingProposal(
  app: Deps,
  portfolioId: string,
  options: ResolveOptions,
): Promise<RejectResult> {
  const proposal = await pending(app, portfolioId);
  const current = await app.store.require(portfolioId);
  const records = app.store.records(current, current, {
    actor: options.actor,
    cause: { type: 'reject', reportId: proposal.reportId },
    note: options.note,
  });
  const result = await app.proposals.resolve({
    op: 'reject',
    reportId: proposal.reportId,
    portfolioId,
    records,
  });
  if (result.status !== 'ok') throw replaced(portfolioId, proposal);
  return { portfolio_id: portfolioId, report_id: proposal.reportId, version: current.version };
}

async function pending(app: Deps, portfolioId: string): Promise<Proposal> {
  const [proposal, portfolio] = await Promise.all([
    app.proposals.get(portfolioId),
    app.store.get(portfolioId),
  ]);
  if (!portfolio) throw new NotFoundError(`portfolio ${portfolioId} not found`);
  if (!proposal) throw new NotFoundError(`portfolio ${portfolioId} has no pending proposal`);
  return proposal;
}

function replaced(portfolioId: string, proposal: Proposal): NotFoundError {
  return new NotFoundError(
    `the proposal ${proposal.reportId} of portfolio ${portfolioId} is no longer pending: a later run replaced it, it expired, or another operator resolved it`,
  );
}

/** The refusal of an approval whose portfolio moved on, with each change since (from history). */
async function changedSince(app: Deps, current: Portfolio, proposal: Proposal): Promise<ConflictError> {
  const since = await app.history.newerThan(current.id, proposal.version);
  const details = since.map(
    (r) => `version ${r.version} at ${r.at} by ${r.actor}: ${r.changes}${r.note ? ` (note: ${r.note})` : ''}`,
  );
  const what = details.length > 0 ? `: ${details.join('; ')}` : '';
  return new ConflictError(
    `portfolio ${current.id} changed since proposal ${proposal.reportId} was computed on version ${proposal.version} (now version ${current.version})${what}; run it again for a new recommendation, or reject this one`,
    details,
  );
}
