/**
 * Reading history and audit, and restoring a version: the operations `portfolio history`,
 * `portfolio restore`, `audit` and their routes share. Front ends parse input and print output.
 */
import type { App } from '../app.js';
import {
  changesNothing,
  describeDiff,
  diffPortfolios,
  diffToWire,
  NotFoundError,
  type Portfolio,
  portfolioToWire,
  restoreVersion,
  ValidationError,
  type WireAuditEntry,
  type WireHistoryRecord,
} from '../domain/index.js';

type Deps = Pick<App, 'store' | 'history' | 'clock'>;

export const DEFAULT_HISTORY_LIMIT = 20;
export const DEFAULT_AUDIT_LIMIT = 50;
export const MAX_LIMIT = 1000;

export interface HistoryPage {
  readonly portfolio_id: string;
  readonly current_version: number;
  /** The oldest and newest versions the history keeps (retention trims the oldest). */
  readonly kept: { readonly oldest: number; readonly newest: number; readonly count: number } | null;
  readonly history: WireHistoryRecord[];
}

export async function portfolioHistory(app: Deps, portfolioId: string, limit: number): Promise<HistoryPage> {
  const current = await app.store.require(portfolioId);
  const [history, kept] = await Promise.all([
    app.history.list(portfolioId, limit),
    app.history.kept(portfolioId),
  ]);
  return { portfolio_id: portfolioId, current_version: current.version, kept, history };
}

export interface RestoreResult {
  readonly portfolio_id: string;
  readonly restored_version: number;
  readonly dry_run: boolean;
  /** False when the portfolio already has version N's allocations: nothing is written. */
  readonly changed: boolean;
  readonly version_before: number;
  readonly version_after: number;
  readonly changes: string;
  readonly diff: ReturnType<typeof diffToWire>;
  readonly portfolio: ReturnType<typeof portfolioToWire>;
}

/**
 * Weights, locks, bounds, targets and priorities become those of version `version`, as a new
 * version (compare-and-set; re-applied to the newest version on a conflict). Refused when the
 * businesses differ from that version's; not found when the history no longer keeps it.
 */
export async function restorePortfolio(
  app: Deps,
  portfolioId: string,
  version: number,
  options: { readonly actor: string; readonly dryRun: boolean },
): Promise<RestoreResult> {
  const current = await app.store.require(portfolioId);
  const record = await app.history.find(portfolioId, version);
  if (!record) throw await versionNotKept(app, current, version);
  const restore = (p: Portfolio) => restoreVersion(p, record, app.clock().toISOString());
  let before = current;
  let after: Portfolio;
  if (options.dryRun) {
    after = restore(current);
  } else {
    // The version the write starts from is the one `update` read: kept through the closure.
    after = await app.store.update(
      portfolioId,
      (p) => {
        before = p;
        return restore(p);
      },
      { actor: options.actor, cause: { type: 'restore', version } },
    );
  }
  const changed = !changesNothing(before, after);
  const diff = diffPortfolios(before, after);
  return {
    portfolio_id: portfolioId,
    restored_version: version,
    dry_run: options.dryRun,
    changed,
    version_before: before.version,
    version_after: changed ? before.version + 1 : before.version,
    changes: describeDiff(diff),
    diff: diffToWire(diff),
    portfolio: portfolioToWire(changed || options.dryRun ? after : before),
  };
}

async function versionNotKept(app: Deps, current: Portfolio, version: number): Promise<Error> {
  if (version > current.version) {
    return new NotFoundError(
      `portfolio ${current.id} has no version ${version}: its current version is ${current.version}`,
    );
  }
  const kept = await app.history.kept(current.id);
  const which = kept
    ? `versions ${kept.oldest} to ${kept.newest} are kept`
    : 'no versions are kept (history starts with the first change recorded)';
  return new NotFoundError(`version ${version} of portfolio ${current.id} is no longer kept: ${which}`);
}

export interface AuditFilters {
  readonly portfolioId?: string | undefined;
  readonly actor?: string | undefined;
  /** An ISO timestamp or a duration back from now: 30m, 24h, 7d. */
  readonly since?: string | undefined;
  readonly limit: number;
}

export async function readAudit(
  app: Pick<App, 'history' | 'clock'>,
  filters: AuditFilters,
): Promise<WireAuditEntry[]> {
  const sinceMs = filters.since === undefined ? undefined : parseSince(filters.since, app.clock());
  return app.history.audit({
    portfolioId: filters.portfolioId,
    actor: filters.actor,
    sinceMs,
    limit: filters.limit,
  });
}

const DURATION = /^(\d{1,6})(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `since` as epoch ms: an ISO date or timestamp with zone, or a duration back from `now`. */
export function parseSince(since: string, now: Date): number {
  const d = DURATION.exec(since);
  if (d) return now.getTime() - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  // Date.parse rolls an impossible day over (2026-02-30 is 2 March): the date part must read back.
  const ms = ISO.test(since) && sameDay(since) ? Date.parse(since) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(
      `since: "${since}" is neither an ISO date or timestamp with a zone (2026-12-01, 2026-12-01T02:00:00Z) nor a duration (30m, 24h, 7d)`,
      [`since: "${since}" is not a time`],
    );
  }
  return ms;
}

function sameDay(iso: string): boolean {
  const day = iso.slice(0, 10);
  return new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}
