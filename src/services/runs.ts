/**
 * Runs as an operator sees them (`ballast runs list|show|cancel`, `GET /runs`, the console): who
 * asked for each, when it ran, what it did to each portfolio. Read from the run's records in Redis,
 * which outlive BullMQ's kept jobs (they expire with the run markers, BALLAST_RUN_MARKER_TTL_S).
 */
import {
  nightlyJobId,
  recalculateBlockJobPrefix,
  recalculateBlockPayload,
  recalculateJobId,
} from '../../jobs/payloads.js';
import { NIGHTLY_PRIORITY, OPERATOR_PRIORITY } from '../adapters/queue.js';
import type { RunRecord } from '../adapters/redis-run-store.js';
import type { App } from '../app.js';
import { NotFoundError, RefusedError } from '../domain/index.js';
import {
  DEFAULT_RUN_PORTFOLIOS,
  DEFAULT_RUNS_LIMIT,
  PORTFOLIO_OUTCOMES,
  type PortfolioOutcome,
  type RunState,
  runIsLive,
  runState,
  TURNOVER_BUCKETS,
  turnoverBucket,
} from '../domain/run-state.js';
import { cronRunId, manualRunId } from '../runtime/run-ids.js';
import { abortableSleep } from '../timing.js';
import {
  emptyCounts,
  emptyRecord,
  portfolioEntry,
  type RunCounts,
  type WireRunPortfolio,
} from './run-entries.js';

export type { RunCounts, WireRunPortfolio } from './run-entries.js';

type Deps = Pick<App, 'reports' | 'queue' | 'clock' | 'config'>;

const PAGE = 500;

export type { PortfolioOutcome } from '../domain/run-state.js';

export interface WireRun {
  readonly run_id: string;
  readonly trigger: string | null;
  readonly slot: string | null;
  readonly actor: string | null;
  readonly catch_up: boolean;
  readonly queued_at: string | null;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly cancelled_at: string | null;
  readonly cancelled_by: string | null;
  readonly state: RunState;
  /** Portfolios fanned out; null until the fan-out has ended. */
  readonly total: number | null;
  readonly done: number;
  readonly counts: RunCounts;
  readonly circuit_open: string | null;
}

export interface WireRunDetail extends WireRun {
  readonly turnover: { bucket: string; count: number }[];
  /** How many portfolios the run has a record of; `portfolios` lists the first `limit` of them. */
  readonly portfolios_total: number;
  readonly portfolios: WireRunPortfolio[];
}

interface Stats {
  readonly counts: RunCounts;
  readonly turnover: number[];
}

export interface EnqueueNightlyOptions {
  readonly trigger: 'cron' | 'manual';
  readonly actor: string;
  /** A scheduled (or backfilled) run's slot: its run id is the slot's. */
  readonly slot?: Date | undefined;
  readonly catchUp?: boolean | undefined;
  /** An operator's run id chosen beforehand (to follow the run before it is queued). */
  readonly runId?: string | undefined;
}

/**
 * Queues a nightly run and records it in the runs index first (so that `runs list` shows it while
 * it waits for a worker). The run id of a slot is the slot's: queueing a slot twice adds nothing.
 */
export async function enqueueNightly(
  app: Pick<App, 'reports' | 'queue' | 'clock'>,
  options: EnqueueNightlyOptions,
): Promise<{ runId: string; jobId: string }> {
  const now = app.clock();
  const runId = options.runId ?? (options.slot ? cronRunId(options.slot) : manualRunId(now, 'nightly'));
  const jobId = nightlyJobId(runId);
  const catchUp = options.catchUp === true;
  await app.reports.recordQueued(
    {
      runId,
      trigger: options.trigger,
      slot: options.slot?.toISOString() ?? null,
      actor: options.actor,
      catchUp,
    },
    now,
  );
  await app.queue.add({
    name: 'nightly',
    data: { runId, trigger: options.trigger, catchUp },
    jobId,
    priority: options.trigger === 'cron' ? NIGHTLY_PRIORITY : OPERATOR_PRIORITY,
  });
  return { runId, jobId };
}

/**
 * Whether a slot's run exists: its fan-out job, or a record of it having started, ended or been
 * cancelled (BullMQ trims the job long before). A record that only says "queued" does not count:
 * enqueueNightly writes it before adding the job, and an add that failed leaves the slot to retry.
 * What the schedulers and backfills check before they claim a slot.
 */
export async function runExists(app: Pick<App, 'reports' | 'queue'>, runId: string): Promise<boolean> {
  if ((await app.queue.getJob(nightlyJobId(runId))) !== null) return true;
  const [record] = await app.reports.runRecords([runId]);
  if (!record) return false;
  return (
    record.total !== null ||
    record.startedAt !== null ||
    record.finishedAt !== null ||
    record.cancelledAt !== null ||
    record.committed + record.gone + record.failed > 0
  );
}

/** The newest runs first (nightly runs: scheduled, backfilled and operators'). */
export async function listRuns(app: Deps, limit = DEFAULT_RUNS_LIMIT): Promise<WireRun[]> {
  const ids = await app.reports.recentRunIds(limit);
  const records = await app.reports.runRecords(ids);
  const out: WireRun[] = [];
  for (const record of records) {
    if (record) out.push(await describeRun(app, record));
  }
  return out;
}

/** One run: its counts, turnover distribution and its portfolios (those needing a look first). */
export async function showRun(
  app: Deps,
  runId: string,
  options: { readonly limit?: number; readonly outcome?: PortfolioOutcome } = {},
): Promise<WireRunDetail> {
  const record = await requireRun(app, runId);
  const run = await describeRun(app, record);
  const stats = await runStats(app, record, run.state, true);
  const all = await runPortfolios(app, runId, options.outcome);
  const limit = options.limit ?? DEFAULT_RUN_PORTFOLIOS;
  const page = all.slice(0, limit);
  const held = page.filter((p) => p.outcome === 'held' || p.outcome === 'advisory');
  const reports = await app.reports.runReports(
    held.map((p) => p.portfolio_id),
    runId,
  );
  const reasons = new Map<string, WireRunPortfolio['held']>();
  held.forEach((p, i) => {
    const text = reports[i];
    if (!text) return;
    const report = JSON.parse(text) as { held?: { reasons?: { guard: string; detail: string }[] } | null };
    reasons.set(
      p.portfolio_id,
      report.held?.reasons?.map((r) => ({ guard: r.guard, detail: r.detail })) ?? null,
    );
  });
  return {
    ...run,
    turnover: TURNOVER_BUCKETS.map((b, i) => ({ bucket: b.label, count: stats.turnover[i] ?? 0 })),
    portfolios_total: all.length,
    portfolios: page.map((p) =>
      reasons.has(p.portfolio_id) ? { ...p, held: reasons.get(p.portfolio_id)! } : p,
    ),
  };
}

export interface CancelResult {
  readonly run_id: string;
  /** Portfolios whose jobs were removed before they started. */
  readonly cancelled: number;
  /** Whether the fan-out itself was removed before it started (then no portfolio runs). */
  readonly fan_out_cancelled: boolean;
  readonly state: RunState;
}

/**
 * Cancels what of a run has not started: its fan-out if it is still queued (a running fan-out stops
 * at its next chunk), and every portfolio job still waiting. Jobs already running finish.
 */
export async function cancelRun(app: Deps, runId: string, actor: string): Promise<CancelResult> {
  const record = await requireRun(app, runId);
  const before = await describeRun(app, record);
  if (!runIsLive(before.state)) {
    throw new RefusedError(`run ${runId} is ${before.state}: only a queued or running run can be cancelled`);
  }
  await app.reports.recordCancelledRun(runId, app.clock().toISOString(), actor);
  const fanOutCancelled = (await app.queue.removePending(nightlyJobId(runId))) === null;
  // Read once, removed in pages; read once more for a chunk the fan-out added meanwhile (the
  // fan-out also takes back a chunk it added after the cancel: cancelPendingPortfolios).
  const cancelled = (await cancelPendingPortfolios(app, runId)) + (await cancelPendingPortfolios(app, runId));
  const progress = await app.reports.runProgress(runId);
  if (progress.total !== null && progress.done >= progress.total) {
    await app.reports.recordFinished(runId, app.clock().toISOString());
  }
  const [after] = await app.reports.runRecords([runId]);
  const state = after ? (await describeRun(app, after)).state : 'cancelled';
  return { run_id: runId, cancelled, fan_out_cancelled: fanOutCancelled, state };
}

/**
 * Waits until a run is no longer queued or running, reading its record every `pollMs` (a run's
 * record is one hash and three counts: cheap), and calling `onProgress` when its count moves.
 * Resolves with the run as it ended, or as it was when `signal` aborted.
 */
export async function waitForRun(
  app: Deps,
  runId: string,
  onProgress: (run: WireRun) => void,
  options: { readonly pollMs?: number; readonly signal?: AbortSignal } = {},
): Promise<WireRun> {
  let last = '';
  for (;;) {
    const run = await describeRun(app, await requireRun(app, runId));
    const seen = `${run.state} ${run.done} ${run.total}`;
    if (seen !== last) onProgress(run);
    last = seen;
    if (!runIsLive(run.state) || options.signal?.aborted) return run;
    await abortableSleep(options.pollMs ?? 1000, options.signal).catch(() => undefined);
  }
}

/**
 * Removes the run's portfolio jobs and blocks that have not started (all those waiting now, a page
 * at a time) and records their portfolios `cancelled`; how many portfolios it removed. A job a worker takes meanwhile runs.
 */
export async function cancelPendingPortfolios(
  app: Pick<App, 'queue' | 'reports'>,
  runId: string,
): Promise<number> {
  const prefix = recalculateJobId(runId, '');
  const ids = await app.queue.pendingJobIds(prefix);
  let cancelled = 0;
  for (let i = 0; i < ids.length; i += PAGE) {
    const removed: string[] = [];
    await Promise.all(
      ids.slice(i, i + PAGE).map(async (id) => {
        if ((await app.queue.removePending(id)) === null) removed.push(id.slice(prefix.length));
      }),
    );
    await app.reports.recordCancelled(runId, removed);
    cancelled += removed.length;
  }
  // Blocks of portfolios (BALLAST_FANOUT_BLOCK > 1): every portfolio of a block removed.
  const blocks = await app.queue.pendingJobIds(recalculateBlockJobPrefix(runId));
  for (let i = 0; i < blocks.length; i += PAGE) {
    const removed: string[] = [];
    await Promise.all(
      blocks.slice(i, i + PAGE).map(async (id) => {
        const block = recalculateBlockPayload.safeParse((await app.queue.getJob(id))?.data);
        if (block.success && (await app.queue.removePending(id)) === null)
          removed.push(...block.data.portfolioIds);
      }),
    );
    await app.reports.recordCancelled(runId, removed);
    cancelled += removed.length;
  }
  return cancelled;
}

async function requireRun(app: Deps, runId: string): Promise<RunRecord> {
  const [record] = await app.reports.runRecords([runId]);
  if (record) return record;
  if (await app.queue.getJob(nightlyJobId(runId))) {
    // Queued by a version that did not record runs: its fan-out job is all there is.
    return emptyRecord(runId);
  }
  throw new NotFoundError(
    `run ${runId} not found: runs are kept ${Math.round(app.config.runMarkerTtlSeconds / 86400)} days (BALLAST_RUN_MARKER_TTL_S); ballast runs list shows the recent ones`,
  );
}

async function describeRun(app: Deps, record: RunRecord): Promise<WireRun> {
  const done = record.committed + record.gone + record.failed;
  const fanOutJob =
    record.total === null && record.finishedAt === null
      ? ((await app.queue.getJob(nightlyJobId(record.runId)))?.state ?? null)
      : null;
  const state = runState({ ...record, done, fanOutJob });
  const stats = await runStats(app, record, state, false);
  return {
    run_id: record.runId,
    trigger: record.trigger,
    slot: record.slot,
    actor: record.actor,
    catch_up: record.catchUp,
    queued_at: record.queuedAt,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
    cancelled_at: record.cancelledAt,
    cancelled_by: record.cancelledBy,
    state,
    total: record.total,
    done,
    counts: stats.counts,
    circuit_open: record.circuitOpen,
  };
}

/**
 * A run's counts (and, when asked, its turnover distribution): from its kept stats once it has
 * finished, else counted from its records a page at a time; a finished run's are then kept.
 */
async function runStats(app: Deps, record: RunRecord, state: RunState, turnover: boolean): Promise<Stats> {
  if (record.stats) return JSON.parse(record.stats) as Stats;
  const counts = emptyCounts();
  const buckets = TURNOVER_BUCKETS.map(() => 0);
  const finished = state === 'finished' && record.total !== null;
  for await (const page of app.reports.runOutcomes(record.runId, PAGE)) {
    for (const [, outcome] of page) {
      const key = (outcome === 'dry-run' ? 'dry_run' : outcome) as keyof RunCounts;
      if (Object.hasOwn(counts, key)) counts[key]++;
    }
    if (!turnover && !finished) continue;
    const summaries = await app.reports.markerSummaries(
      page.map(([id]) => id),
      record.runId,
    );
    for (const summary of summaries) {
      if (summary) buckets[turnoverBucket((JSON.parse(summary) as { turnover: number }).turnover)]!++;
    }
  }
  counts.gone = record.gone;
  counts.failed = record.failed;
  const stats = { counts, turnover: buckets };
  if (finished) await app.reports.keepStats(record.runId, JSON.stringify(stats));
  return stats;
}

/** Every portfolio the run has a record of, those needing a look first (PORTFOLIO_OUTCOMES' order), then by id. */
async function runPortfolios(
  app: Deps,
  runId: string,
  only: PortfolioOutcome | undefined,
): Promise<WireRunPortfolio[]> {
  const out = new Map<string, WireRunPortfolio>();
  for await (const page of app.reports.runFailures(runId, PAGE)) {
    for (const [id, error] of page) out.set(id, portfolioEntry(id, 'failed', null, error));
  }
  for await (const page of app.reports.runOutcomes(runId, PAGE)) {
    const summaries = await app.reports.markerSummaries(
      page.map(([id]) => id),
      runId,
    );
    for (const [i, [id, outcome]] of page.entries()) {
      out.set(id, portfolioEntry(id, outcome, summaries[i] ?? null, null));
    }
  }
  for await (const ids of app.reports.goneIds(runId, PAGE)) {
    for (const id of ids) if (!out.has(id)) out.set(id, portfolioEntry(id, 'gone', null, null));
  }
  const rank = (o: PortfolioOutcome) => PORTFOLIO_OUTCOMES.indexOf(o);
  return [...out.values()]
    .filter((p) => only === undefined || p.outcome === only)
    .sort((a, b) => rank(a.outcome) - rank(b.outcome) || (a.portfolio_id < b.portfolio_id ? -1 : 1));
}
