/**
 * Every Redis key Ballast uses, in one place. Keys of one portfolio share the hash tag
 * `{<portfolio_id>}` so that one Lua script may touch them all on Redis Cluster; the BullMQ
 * prefix is `{<prefix>}` so that all queue keys share one slot.
 */
export interface Keys {
  readonly prefix: string;
  /** BullMQ's `prefix` option. */
  readonly bullPrefix: string;
  /** Hash: doc (portfolio JSON), version. */
  portfolio(portfolioId: string): string;
  /** Per-portfolio report stream (public: SPEC section 6). */
  portfolioReports(portfolioId: string): string;
  /** Latest report JSON of a portfolio (public). */
  latestReport(portfolioId: string): string;
  /** Hash marking that a run has been committed for a portfolio: report, published. */
  runMarker(portfolioId: string, runId: string): string;
  /** Sorted set (all scores 0) of every portfolio id, paged by ZRANGE BYLEX. */
  readonly portfolioIndex: string;
  /** Set of an owner's portfolio ids. */
  ownerIndex(ownerId: string): string;
  /**
   * Hash of one nightly run: total (portfolios fanned out) and fanned_out_at, written when its
   * fan-out ends; decided and held (the guards' tally, counted as portfolios commit) and
   * circuit_open (why the breaker opened), written as the run goes.
   */
  run(runId: string): string;
  /**
   * Set of the portfolio ids a nightly run fanned out whose document was gone (a dangling index
   * entry): they count as done, skipped, with no report. Expires with the run markers.
   */
  runGone(runId: string): string;
  /**
   * Set-like hash of one run's portfolios: portfolio id -> outcome (changed | unchanged | skipped |
   * dry-run), written when the run commits each one. Expires with the run markers.
   */
  runPortfolios(runId: string): string;
  /**
   * Sorted set of nightly runs, scored by when each was queued (ms): `ballast runs list`. Entries
   * older than the run markers' life are dropped by the write that adds one.
   */
  readonly runs: string;
  /**
   * Hash of the portfolios of a run whose job failed for good: portfolio id -> the error. Expires
   * with the run markers.
   */
  runFailed(runId: string): string;
  /** Stream of a portfolio's versions: one `record` (history record JSON) per change. */
  history(portfolioId: string): string;
  /** Stream of every change to every portfolio: one `record` (audit entry JSON) each. */
  readonly audit: string;
  /**
   * Hash of a portfolio's pending proposal (its held recommendation): report_id, run_id, proposal
   * (JSON), baseline (the metrics approval accepts), supersedes_report/_run. Expires
   * (BALLAST_PROPOSAL_TTL).
   */
  proposal(portfolioId: string): string;
  /** Sorted set of the portfolios with a pending proposal, scored by its expiry (ms). */
  readonly proposals: string;
  /**
   * JSON of the figures a portfolio's weights were last set from, `{business_id: [revenue,
   * profit, customers]}`: what the metric-jump guard compares against.
   */
  metricsBaseline(portfolioId: string): string;
  /** Global report stream (public). */
  readonly reports: string;
  /** Pub/sub channel, one message per report (public). */
  readonly reportsChannel: string;
  /** Hash of one business's metrics, for the redis metrics source. */
  businessMetrics(businessId: string): string;
  /** Scheduler state (cron slots, pause flag). */
  schedule(name: string): string;
  /** String (the pid, PX ttl) a role process refreshes while it runs, for `ballast health`. */
  heartbeat(role: string, host: string): string;
}

export function createKeys(prefix: string): Keys {
  return {
    prefix,
    bullPrefix: `{${prefix}}`,
    portfolio: (id) => `${prefix}:{${id}}:portfolio`,
    portfolioReports: (id) => `${prefix}:{${id}}:reports`,
    latestReport: (id) => `${prefix}:{${id}}:report:latest`,
    runMarker: (id, runId) => `${prefix}:{${id}}:run:${runId}`,
    portfolioIndex: `${prefix}:portfolios`,
    ownerIndex: (ownerId) => `${prefix}:owner:{${ownerId}}:portfolios`,
    run: (runId) => `${prefix}:run:${runId}`,
    runGone: (runId) => `${prefix}:run:${runId}:gone`,
    runPortfolios: (runId) => `${prefix}:run:${runId}:portfolios`,
    runs: `${prefix}:runs`,
    runFailed: (runId) => `${prefix}:run:${runId}:failed`,
    history: (id) => `${prefix}:{${id}}:history`,
    audit: `${prefix}:audit`,
    proposal: (id) => `${prefix}:{${id}}:proposal`,
    proposals: `${prefix}:proposals`,
    metricsBaseline: (id) => `${prefix}:{${id}}:metrics:baseline`,
    reports: `${prefix}:reports`,
    reportsChannel: `${prefix}:reports:live`,
    businessMetrics: (businessId) => `${prefix}:metrics:${businessId}`,
    schedule: (name) => `${prefix}:schedule:${name}`,
    heartbeat: (role, host) => `${prefix}:heartbeat:${role}:${host}`,
  };
}
