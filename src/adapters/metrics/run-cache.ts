import { getMaxListeners, setMaxListeners } from 'node:events';
import type { BusinessMetrics } from '../../domain/index.js';
import type { MetricsResult, MetricsSource } from './metrics-source.js';

export interface RunCacheOptions {
  /** Cached businesses over all runs kept; default 100,000. */
  maxEntries?: number;
}

export interface RunCacheStats {
  /** Runs whose answers are held (at most 2 fan-out runs and 4 single-portfolio runs). */
  runs: number;
  entries: number;
  /** Businesses answered from the cache or from a request already in flight. */
  hits: number;
  /** Businesses asked of the underlying source. */
  misses: number;
}

export interface RunKind {
  /**
   * A nightly run's fan-out (many portfolios, one run id): its answers are kept apart from
   * single-portfolio runs, which can then never evict them.
   */
  readonly fanOut?: boolean;
}

export interface RunCachedSource {
  /** The source as seen by one run: each business is asked of the real source once per run. */
  forRun(runId: string, kind?: RunKind): MetricsSource;
  stats(): RunCacheStats;
}

type Entry = { metrics: BusinessMetrics } | { missing: string };

/** One request to the underlying source, shared by every fetch that waits on one of its ids. */
class SharedRequest {
  readonly controller = new AbortController();
  private waiters = 0;
  settled = false;
  /** Called when the request is aborted, so that no later fetch joins it. */
  onAbandon: () => void = () => {};

  /**
   * Counts one more fetch waiting on this request; returns what to call when it stops waiting
   * normally. When every waiter has been aborted (every job cancelled), the request itself is.
   */
  join(signal: AbortSignal | undefined): () => void {
    this.waiters++;
    let left = false;
    const leave = (aborted: boolean) => {
      if (left) return;
      left = true;
      signal?.removeEventListener('abort', onAbort);
      this.waiters--;
      if (aborted && this.waiters === 0 && !this.settled) {
        this.onAbandon();
        this.controller.abort(signal?.reason);
      }
    };
    const onAbort = () => leave(true);
    signal?.addEventListener('abort', onAbort, { once: true });
    return () => leave(false);
  }
}

interface Cell {
  readonly promise: Promise<Entry>;
  readonly request: SharedRequest;
  /** The answer, once it has arrived: later fetches read it without waiting on anything. */
  value?: Entry;
}

/**
 * How many runs are kept, in two pools. Every operator run (a manual recalculate, a preview) has
 * its own run id and jumps ahead of a nightly run's queued children, so sharing one pool let two
 * operator runs evict the nightly run's answers mid-run, and every business shared by the
 * remaining portfolios was fetched again. Fan-out runs: the current nightly run and the one
 * before (a catch-up or an operator's nightly next to the scheduled one). Single-portfolio runs:
 * a few, for a run's own recomputes after a concurrent edit; they cost one portfolio's businesses.
 */
const FAN_OUT_RUNS_KEPT = 2;
const SINGLE_RUNS_KEPT = 4;

/** One run's answers. `dropped` once evicted: answers arriving later are not counted. */
interface RunCells {
  readonly cells: Map<string, Cell>;
  dropped: boolean;
}

/**
 * Within one run, a business shared by many portfolios is fetched at most once per process:
 * requests in flight are shared and answers (metrics or the reason they are missing) are kept
 * for the run. The two most recently used fan-out runs and the four most recently used
 * single-portfolio runs are kept, and at most `maxEntries` businesses in all: single-portfolio
 * runs go first, then the least recently used fan-out run.
 */
export function createRunCachedSource(source: MetricsSource, opts: RunCacheOptions = {}): RunCachedSource {
  const cache = new RunCache(source, Math.max(1, opts.maxEntries ?? 100_000));
  return {
    forRun: (runId, kind = {}) => ({
      kind: source.kind,
      fetch: (businessIds, signal) => cache.fetch(runId, kind.fanOut === true, businessIds, signal),
    }),
    stats: () => cache.stats(),
  };
}

class RunCache {
  /** Insertion order = least recently used first. */
  readonly #fanOutRuns = new Map<string, RunCells>();
  readonly #singleRuns = new Map<string, RunCells>();
  #entries = 0;
  #hits = 0;
  #misses = 0;

  constructor(
    private readonly source: MetricsSource,
    private readonly maxEntries: number,
  ) {}

  stats(): RunCacheStats {
    return {
      runs: this.#fanOutRuns.size + this.#singleRuns.size,
      entries: this.#entries,
      hits: this.#hits,
      misses: this.#misses,
    };
  }

  async fetch(
    runId: string,
    fanOut: boolean,
    businessIds: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<MetricsResult> {
    signal?.throwIfAborted();
    const ids = [...new Set(businessIds)];
    const run = this.#runCells(runId, fanOut);
    const found = new Map<string, Cell>();
    const toFetch: string[] = [];
    for (const id of ids) {
      const cell = run.cells.get(id);
      if (cell) found.set(id, cell);
      else toFetch.push(id);
    }
    this.#hits += found.size;
    this.#misses += toFetch.length;
    // Fast path: every answer is in already (most portfolios of a nightly run share businesses).
    if (toFetch.length === 0) {
      const entries = ids.map((id) => found.get(id)!.value);
      if (entries.every((e) => e !== undefined)) return collect(ids, entries as Entry[]);
    }
    const added = toFetch.length > 0 ? this.#request(run, toFetch) : new Map<string, Cell>();
    const waiting = ids.map((id) => found.get(id) ?? added.get(id)!);
    const requests = [...new Set(waiting.map((cell) => cell.request))];
    // One listener per shared request it waits on, and one more: a portfolio whose businesses
    // other portfolios' requests are fetching can wait on many (not a leak: all are removed).
    if (signal) setMaxListeners(Math.max(getMaxListeners(signal), requests.length + 10), signal);
    const leaves = requests.map((r) => r.join(signal));
    try {
      return collect(ids, await untilAborted(Promise.all(waiting.map((cell) => cell.promise)), signal));
    } finally {
      for (const leave of leaves) leave();
    }
  }

  #runCells(runId: string, fanOut: boolean): RunCells {
    const pool = fanOut ? this.#fanOutRuns : this.#singleRuns;
    let run = pool.get(runId);
    if (run) pool.delete(runId);
    else run = { cells: new Map(), dropped: false };
    pool.set(runId, run);
    const kept = fanOut ? FAN_OUT_RUNS_KEPT : SINGLE_RUNS_KEPT;
    while (pool.size > kept) this.#drop(pool, pool.keys().next().value!);
    return run;
  }

  #drop(pool: Map<string, RunCells>, runId: string): void {
    const run = pool.get(runId)!;
    run.dropped = true;
    this.#entries -= run.cells.size;
    pool.delete(runId);
  }

  #makeRoom(current: RunCells, needed: number): void {
    for (const pool of [this.#singleRuns, this.#fanOutRuns]) {
      for (const [runId, other] of pool) {
        if (this.#entries + needed <= this.maxEntries) return;
        if (other !== current) this.#drop(pool, runId);
      }
    }
    // The current run alone is too big: forget its oldest answers (fetches waiting keep theirs).
    for (const id of current.cells.keys()) {
      if (this.#entries + needed <= this.maxEntries) return;
      current.cells.delete(id);
      this.#entries--;
    }
  }

  /** Asks the source for `ids` once and files a cell per id; returns the new cells. */
  #request(run: RunCells, ids: string[]): Map<string, Cell> {
    const shared = new SharedRequest();
    const answer = this.source.fetch(ids, shared.controller.signal).finally(() => {
      shared.settled = true;
    });
    this.#makeRoom(run, ids.length);
    const added = new Map<string, Cell>();
    for (const id of ids) {
      const promise = answer.then(({ metrics, missing }): Entry => {
        const m = metrics.get(id);
        if (m) return { metrics: m };
        return { missing: missing.get(id) ?? `no answer from the ${this.source.kind} metrics source` };
      });
      const cell: Cell = { promise, request: shared };
      // A failed request is not an answer: forget it so that the next fetch asks again.
      promise.then(
        (entry) => {
          cell.value = entry;
        },
        () => this.#forget(run, id, cell),
      );
      run.cells.set(id, cell);
      added.set(id, cell);
      this.#entries++;
    }
    shared.onAbandon = () => {
      for (const [id, cell] of added) this.#forget(run, id, cell);
    };
    return added;
  }

  #forget(run: RunCells, id: string, cell: Cell): void {
    if (!run.dropped && run.cells.get(id) === cell) {
      run.cells.delete(id);
      this.#entries--;
    }
  }
}

/** The answers of `ids`, in order, as a fetch returns them. */
function collect(ids: readonly string[], entries: readonly Entry[]): MetricsResult {
  const metrics = new Map<string, BusinessMetrics>();
  const missing = new Map<string, string>();
  ids.forEach((id, i) => {
    const entry = entries[i]!;
    if ('metrics' in entry) metrics.set(id, entry.metrics);
    else missing.set(id, entry.missing);
  });
  return { metrics, missing };
}

/** The promise, or the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
