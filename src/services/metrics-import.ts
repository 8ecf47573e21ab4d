/**
 * `metrics import` with warnings: before a file's metrics are written, each business is checked
 * against the portfolios (is it in any?), the guards' metric rules (inconsistent figures, an old
 * `as_of`) and the metrics stored for it now (a figure that jumped). The rules are the guards'
 * own (src/domain/guards.ts), so an import warns about exactly what a run would flag. Warnings
 * do not refuse the file unless `strict`; then nothing is written.
 */
import { createRedisMetricsSource, importMetrics } from '../adapters/metrics/redis-metrics-source.js';
import type { App } from '../app.js';
import {
  type BusinessMetrics,
  type Guard,
  type MetricFigures,
  metricJumps,
  metricProblem,
  ValidationError,
} from '../domain/index.js';

type Deps = Pick<App, 'config' | 'store' | 'redis' | 'keys' | 'clock'>;

export type ImportCheck = 'not-in-portfolio' | 'stale-metrics' | 'invalid-metrics' | 'metric-jump';

export interface ImportWarning {
  readonly business_id: string;
  readonly check: ImportCheck;
  readonly detail: string;
}

export interface ImportResult {
  readonly imported: number;
  readonly business_ids: string[];
  readonly warnings: ImportWarning[];
}

/** An import refused by `strict`: nothing was written. Carries every warning for the caller to show. */
export class ImportRefusedError extends ValidationError {
  readonly warnings: readonly ImportWarning[];
  constructor(warnings: readonly ImportWarning[]) {
    const lines = warnings.map(describeWarning);
    const shown = lines.slice(0, QUOTED_WARNINGS).join('; ');
    const more = lines.length > QUOTED_WARNINGS ? ` (and ${lines.length - QUOTED_WARNINGS} more)` : '';
    const count = `${warnings.length} ${warnings.length === 1 ? 'warning' : 'warnings'}`;
    super(`refused: ${count}, nothing imported: ${shown}${more}`, lines);
    this.warnings = warnings;
  }
}

/** Portfolios read per round trip while looking for the file's businesses. */
const PORTFOLIO_CHUNK = 500;
/** Businesses whose stored metrics are read per round trip. */
const STORED_CHUNK = 500;
/** Warnings quoted in a refusal before "and N more". */
const QUOTED_WARNINGS = 5;

/** `b7: stale-metrics: metrics as of ... are 3 days old (limit 48 h)` */
export function describeWarning(w: ImportWarning): string {
  return `${w.business_id}: ${w.check}: ${w.detail}`;
}

/**
 * Every warning about importing `metrics`, in the file's order of businesses. With guards off
 * (BALLAST_GUARDS=off) only the portfolio check runs: the metric rules are the guards'.
 */
export async function checkMetricsImport(
  deps: Deps,
  metrics: ReadonlyMap<string, BusinessMetrics>,
): Promise<ImportWarning[]> {
  const byBusiness = new Map<string, ImportWarning[]>();
  const add = (w: ImportWarning) => {
    const list = byBusiness.get(w.business_id);
    if (list) list.push(w);
    else byBusiness.set(w.business_id, [w]);
  };

  for (const id of await notInPortfolio(deps, metrics.keys())) {
    add({ business_id: id, check: 'not-in-portfolio', detail: 'no portfolio holds this business' });
  }

  const guards = deps.config.guards;
  if (guards.enabled) {
    const nowMs = deps.clock().getTime();
    for (const m of metrics.values()) {
      const problem = metricProblem(m, nowMs, guards);
      if (problem) add({ business_id: m.businessId, check: checkOf(problem.guard), detail: problem.detail });
    }
    for (const jump of metricJumps(await storedBaseline(deps, metrics.keys()), metrics, guards.maxJump)) {
      add({ business_id: jump.businessId!, check: 'metric-jump', detail: jump.detail });
    }
  }

  const out: ImportWarning[] = [];
  for (const id of metrics.keys()) out.push(...(byBusiness.get(id) ?? []));
  return out;
}

/**
 * Checks, then writes unless `strict` found warnings (ImportRefusedError, nothing written). The
 * stored metrics are read before they are replaced; an import running at the same time for the
 * same businesses may change them in between (the jump check is advice, not a lock).
 */
export async function importMetricsChecked(
  deps: Deps,
  metrics: ReadonlyMap<string, BusinessMetrics>,
  options: { readonly strict: boolean },
): Promise<ImportResult> {
  const warnings = await checkMetricsImport(deps, metrics);
  if (options.strict && warnings.length > 0) throw new ImportRefusedError(warnings);
  const imported = await importMetrics(deps.redis, deps.keys, metrics.values());
  return { imported, business_ids: [...metrics.keys()], warnings };
}

/**
 * The ids of `ids` that no portfolio's allocations list, walking the portfolios a chunk at a
 * time (never all documents at once); stops early once every id has been found.
 */
async function notInPortfolio(deps: Pick<Deps, 'store'>, ids: Iterable<string>): Promise<Set<string>> {
  const pending = new Set(ids);
  if (pending.size === 0) return pending;
  for await (const chunk of deps.store.idChunks(PORTFOLIO_CHUNK)) {
    for (const p of await deps.store.getMany(chunk)) {
      for (const a of p.allocations) pending.delete(a.businessId);
    }
    if (pending.size === 0) break;
  }
  return pending;
}

/** The figures stored in Redis now, for the businesses that have readable metrics there. */
async function storedBaseline(
  deps: Pick<Deps, 'redis' | 'keys'>,
  ids: Iterable<string>,
): Promise<Map<string, MetricFigures>> {
  const source = createRedisMetricsSource(deps.redis, deps.keys);
  const all = [...ids];
  const baseline = new Map<string, MetricFigures>();
  for (let i = 0; i < all.length; i += STORED_CHUNK) {
    // Unreadable stored metrics are in `missing`: nothing to compare against, so no jump.
    const { metrics } = await source.fetch(all.slice(i, i + STORED_CHUNK));
    for (const [id, m] of metrics) {
      baseline.set(id, { revenue: m.revenue, profit: m.profit, customers: m.customers });
    }
  }
  return baseline;
}

/** metricProblem flags only these two. */
function checkOf(guard: Guard): ImportCheck {
  return guard === 'invalid-metrics' ? 'invalid-metrics' : 'stale-metrics';
}
