/**
 * Listing portfolios: an owner's (the `/portfolios/owner/{owner_id}` route) and a filtered page of
 * all of them with what their last run did and whether a proposal waits (the console's overview).
 */
import type { App } from '../app.js';
import type { Portfolio, PortfolioStatus } from '../domain/index.js';

type Deps = Pick<App, 'store'>;

/** Portfolios read per round trip. */
const CHUNK = 200;
export const DEFAULT_PORTFOLIO_PAGE = 25;
export const MAX_PORTFOLIO_PAGE = 200;

/** Every portfolio of `owner`, in id order. */
export async function ownerPortfolios(app: Deps, owner: string): Promise<Portfolio[]> {
  const ids = await app.store.ownerIds(owner);
  const out: Portfolio[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    for (const p of await app.store.getMany(ids.slice(i, i + CHUNK))) {
      // The owner index is written before the portfolio and never pruned: trust the document.
      if (p.ownerId === owner) out.push(p);
    }
  }
  return out;
}

export interface PortfolioFilters {
  readonly owner?: string | undefined;
  readonly status?: PortfolioStatus | undefined;
  /** The last id of the previous page: this page starts after it (id order). */
  readonly after?: string | undefined;
  readonly limit?: number | undefined;
}

export interface PortfolioPage {
  readonly portfolios: Portfolio[];
  /** The `after` of the next page, or null when this is the last. */
  readonly next: string | null;
}

/** One page of portfolios in id order, filtered by owner and status. */
export async function listPortfolios(app: Deps, filters: PortfolioFilters): Promise<PortfolioPage> {
  const limit = Math.min(Math.max(1, filters.limit ?? DEFAULT_PORTFOLIO_PAGE), MAX_PORTFOLIO_PAGE);
  const keep = (p: Portfolio) =>
    (filters.status === undefined || p.status === filters.status) &&
    (filters.after === undefined || p.id > filters.after);
  const out: Portfolio[] = [];
  if (filters.owner !== undefined) {
    for (const p of await ownerPortfolios(app, filters.owner)) if (keep(p)) out.push(p);
  } else {
    // Status is not indexed: read chunks in id order until the page (and one more) is full.
    let after = filters.after;
    for (;;) {
      const ids = await app.store.listIds({ after, limit: CHUNK });
      for (const p of await app.store.getMany(ids)) if (keep(p)) out.push(p);
      if (ids.length < CHUNK || out.length > limit) break;
      after = ids[ids.length - 1];
    }
  }
  const page = out.slice(0, limit);
  return { portfolios: page, next: out.length > limit ? (page[page.length - 1]?.id ?? null) : null };
}

export type LastOutcome = 'changed' | 'unchanged' | 'held' | 'advisory' | 'skipped' | 'dry-run';

export interface LastReport {
  readonly report_id: string;
  readonly run_id: string;
  readonly at: string;
  readonly outcome: LastOutcome;
  readonly changes: number;
}

export interface PortfolioRow {
  readonly portfolio: Portfolio;
  /** What its newest report says; null when it has none. */
  readonly last: LastReport | null;
  readonly pendingProposal: boolean;
}

/** Each portfolio with its newest report's outcome and whether a proposal waits for it. */
export async function portfolioRows(
  app: Pick<App, 'reports' | 'proposals'>,
  portfolios: readonly Portfolio[],
): Promise<PortfolioRow[]> {
  return Promise.all(
    portfolios.map(async (portfolio) => {
      const [latest, proposal] = await Promise.all([
        app.reports.latest(portfolio.id),
        app.proposals.get(portfolio.id),
      ]);
      return { portfolio, last: lastReport(latest), pendingProposal: proposal !== null };
    }),
  );
}

interface ReportFields {
  report_id?: unknown;
  run_id?: unknown;
  created_at?: unknown;
  applied?: unknown;
  dry_run?: unknown;
  apply_mode?: unknown;
  held?: unknown;
  skipped?: unknown;
  changes?: unknown;
}

/** The outcome a stored report records, as a run's outcomes name it. */
export function lastReport(text: string | null): LastReport | null {
  if (text === null) return null;
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return null;
  }
  return reportOutcome(r);
}

/** The same from a report already parsed (anything JSON.parse returned). */
export function reportOutcome(parsed: unknown): LastReport | null {
  const r = parsed as ReportFields;
  if (typeof r !== 'object' || r === null || typeof r.report_id !== 'string') return null;
  const changes = typeof r.changes === 'number' ? r.changes : 0;
  let outcome: LastOutcome;
  if (r.skipped) outcome = 'skipped';
  else if (r.dry_run === true) outcome = 'dry-run';
  else if (r.held) outcome = 'held';
  else if (r.apply_mode === 'advisory' && r.applied !== true) outcome = 'advisory';
  else outcome = r.applied === true && changes > 0 ? 'changed' : 'unchanged';
  return {
    report_id: r.report_id,
    run_id: typeof r.run_id === 'string' ? r.run_id : '',
    at: typeof r.created_at === 'string' ? r.created_at : '',
    outcome,
    changes,
  };
}
