/**
 * What state a nightly run is in, and the shape of its counts: pure, from what its record says
 * and (before its fan-out has ended) the state of its fan-out job.
 */

/** How many runs `runs list` shows by default, and at most. */
export const DEFAULT_RUNS_LIMIT = 20;
export const MAX_RUNS_LIMIT = 500;
/** How many of a run's portfolios `runs show` lists by default, and at most. */
export const DEFAULT_RUN_PORTFOLIOS = 200;
export const MAX_RUN_PORTFOLIOS = 10_000;

/** What a run did to one portfolio: its committed outcome, or gone (no document), or failed for good. */
export type PortfolioOutcome =
  | 'changed'
  | 'unchanged'
  | 'held'
  | 'advisory'
  | 'skipped'
  | 'dry-run'
  | 'cancelled'
  | 'gone'
  | 'failed';

export const PORTFOLIO_OUTCOMES: readonly PortfolioOutcome[] = [
  'failed',
  'held',
  'advisory',
  'changed',
  'cancelled',
  'skipped',
  'unchanged',
  'dry-run',
  'gone',
];

export type RunState =
  /** Queued, no worker has started its fan-out yet. */
  | 'queued'
  /** Its fan-out job is adding the portfolios' jobs. */
  | 'fanning-out'
  /** Fanned out; portfolios are being decided. */
  | 'running'
  /** Every portfolio is done: committed, gone, failed for good or cancelled. */
  | 'finished'
  /** Its fan-out failed for good: no portfolio of it runs. */
  | 'fan-out-failed'
  /** Cancelled by an operator before it ended. */
  | 'cancelled'
  /** Nothing tells: its fan-out job was trimmed or removed and it wrote no record. */
  | 'unknown';

export interface RunStateInput {
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly cancelledAt: string | null;
  readonly total: number | null;
  /** Portfolios done: committed (any outcome), gone, failed for good. */
  readonly done: number;
  /** BullMQ's state of the fan-out job, or null when BullMQ no longer has it. */
  readonly fanOutJob: string | null;
}

export function runState(run: RunStateInput): RunState {
  if (run.finishedAt !== null) return 'finished';
  if (run.total !== null && run.done >= run.total) return 'finished';
  if (run.cancelledAt !== null) return 'cancelled';
  if (run.total !== null) return 'running';
  if (run.fanOutJob === 'failed') return 'fan-out-failed';
  if (run.fanOutJob === 'active') return 'fanning-out';
  if (run.fanOutJob === null) return run.startedAt === null ? 'unknown' : 'fanning-out';
  if (run.fanOutJob === 'completed') return 'running';
  return 'queued';
}

/** Whether a run in this state may still change what it did (its counts are not final). */
export function runIsLive(state: RunState): boolean {
  return state === 'queued' || state === 'fanning-out' || state === 'running';
}

/** Turnover buckets of a run's distribution: the upper bound of each, as a share of the budget. */
export const TURNOVER_BUCKETS: readonly { readonly label: string; readonly upTo: number }[] = [
  { label: '0', upTo: 0 },
  { label: '<=1%', upTo: 0.01 },
  { label: '<=5%', upTo: 0.05 },
  { label: '<=10%', upTo: 0.1 },
  { label: '<=25%', upTo: 0.25 },
  { label: '>25%', upTo: Number.POSITIVE_INFINITY },
];

/** The index of the bucket a turnover falls in. */
export function turnoverBucket(turnover: number): number {
  const i = TURNOVER_BUCKETS.findIndex((b) => turnover <= b.upTo + 1e-12);
  return i < 0 ? TURNOVER_BUCKETS.length - 1 : i;
}
