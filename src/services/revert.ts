/**
 * `runs revert`: every portfolio a run changed goes back to its weights before the run, one
 * compare-and-set per portfolio, as a new version (cause `revert`). The operation the CLI, the API
 * and the console share.
 */
import pLimit from 'p-limit';
import { nightlyJobId } from '../../jobs/payloads.js';
import type { App } from '../app.js';
import {
  changesNothing,
  isBallastError,
  NotFoundError,
  type Portfolio,
  RefusedError,
  type RunMove,
  revertMoves,
  StaleVersionError,
  type WireCause,
} from '../domain/index.js';

type Deps = Pick<App, 'store' | 'history' | 'reports' | 'queue' | 'clock'>;

export interface RevertConflict {
  readonly portfolio_id: string;
  readonly reason: string;
  /** The newest change since the run, when the history still keeps it. */
  readonly changed_since: {
    readonly version: number;
    readonly actor: string;
    readonly cause: WireCause;
    readonly at: string;
  } | null;
}

export interface RevertResult {
  readonly run_id: string;
  readonly dry_run: boolean;
  readonly force: boolean;
  /** Reverted now (with dry_run: would be reverted). */
  readonly reverted: string[];
  readonly conflicts: RevertConflict[];
  readonly already_reverted: string[];
  /** Portfolios the run committed without changing them (unchanged, skipped, dry run): nothing to take back. */
  readonly unchanged: string[];
}

export interface RevertOptions {
  readonly actor: string;
  readonly dryRun: boolean;
  readonly force: boolean;
}

/** Portfolios reverted at once. */
const CONCURRENCY = 8;
/** Compare-and-set attempts per portfolio when operators keep writing meanwhile. */
const TRIES = 10;

type Outcome =
  | { readonly kind: 'reverted' | 'already_reverted' | 'unchanged' }
  | { readonly kind: 'conflict'; readonly conflict: RevertConflict };

interface WireAction {
  business_id: string;
  action: string;
  current_weight: number;
  recommended_weight: number;
}

interface WireRunReport {
  applied: boolean;
  version_after: number;
  actions: WireAction[];
}

export async function revertRun(app: Deps, runId: string, options: RevertOptions): Promise<RevertResult> {
  if (await app.queue.hasUnfinished([`${runId}.`, nightlyJobId(runId)])) {
    throw new RefusedError(`run ${runId} is still running: revert it once its jobs have finished`);
  }
  const result: RevertResult = {
    run_id: runId,
    dry_run: options.dryRun,
    force: options.force,
    reverted: [],
    conflicts: [],
    already_reverted: [],
    unchanged: [],
  };
  const limit = pLimit(CONCURRENCY);
  let seen = 0;
  for await (const page of app.reports.runOutcomes(runId)) {
    seen += page.length;
    const changed = page.filter(([, outcome]) => outcome === 'changed').map(([id]) => id);
    for (const [id, outcome] of page) if (outcome !== 'changed') result.unchanged.push(id);
    const outcomes = await Promise.all(changed.map((id) => limit(() => revertOne(app, runId, id, options))));
    for (const [i, id] of changed.entries()) {
      const o = outcomes[i]!;
      if (o.kind === 'conflict') result.conflicts.push(o.conflict);
      else result[o.kind].push(id);
    }
  }
  if (seen === 0) {
    throw new NotFoundError(
      `run ${runId} not found: no portfolio has committed it, or its records have expired (run records are kept BALLAST_RUN_MARKER_TTL_S)`,
    );
  }
  for (const list of [result.reverted, result.already_reverted, result.unchanged]) list.sort();
  result.conflicts.sort((a, b) => (a.portfolio_id < b.portfolio_id ? -1 : 1));
  return result;
}

async function revertOne(
  app: Deps,
  runId: string,
  portfolioId: string,
  options: RevertOptions,
): Promise<Outcome> {
  const conflict = (reason: string, changedSince: RevertConflict['changed_since'] = null): Outcome => ({
    kind: 'conflict',
    conflict: { portfolio_id: portfolioId, reason, changed_since: changedSince },
  });
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const [current, reportJson] = await Promise.all([
      app.store.get(portfolioId),
      app.reports.runReport(portfolioId, runId),
    ]);
    if (!current) return conflict('the portfolio no longer exists');
    if (!reportJson) return conflict("the run's report of this portfolio is no longer kept");
    const report = JSON.parse(reportJson) as WireRunReport;
    if (!report.applied) return { kind: 'unchanged' };
    const moves: RunMove[] = report.actions
      .filter((a) => a.action === 'increase' || a.action === 'decrease')
      .map((a) => ({ businessId: a.business_id, before: a.current_weight, after: a.recommended_weight }));
    if (moves.length === 0) return { kind: 'unchanged' };
    const untouched = current.version === report.version_after;
    if (!untouched) {
      const newer = await app.history.newerThan(portfolioId, report.version_after);
      if (newer.some((r) => r.cause.type === 'revert' && r.cause.run_id === runId)) {
        return { kind: 'already_reverted' };
      }
      if (!options.force) {
        const last = newer[0];
        const since = last
          ? { version: last.version, actor: last.actor, cause: last.cause, at: last.at }
          : null;
        const by = last ? `: version ${last.version} by ${last.actor} (${last.cause.type})` : '';
        return conflict(
          `changed since the run (the run left version ${report.version_after}, it is at ${current.version}${by}); --force reverts only the allocations the run moved`,
          since,
        );
      }
    }
    let next: Portfolio;
    try {
      next = revertMoves(current, moves, !untouched, app.clock().toISOString());
    } catch (err) {
      if (err instanceof RefusedError) return conflict(err.message);
      throw err;
    }
    if (changesNothing(current, next)) return { kind: 'unchanged' };
    if (options.dryRun) return { kind: 'reverted' };
    try {
      await app.store.compareAndSet(current, next, {
        actor: options.actor,
        cause: { type: 'revert', runId, forced: !untouched },
      });
      return { kind: 'reverted' };
    } catch (err) {
      if (err instanceof StaleVersionError) continue; // someone wrote meanwhile: look again
      if (isBallastError(err)) return conflict(err.message);
      throw err;
    }
  }
  return conflict(`the portfolio kept changing: ${TRIES} attempts lost to other writers`);
}
