import type { BusinessMetrics } from '../../domain/index.js';
import type { MetricsSource } from './metrics-source.js';

export interface RunCacheOptions {
  /** Cached businesses over all runs kept; default 100,000. */
  maxEntries?: number;
}

export interface RunCacheStats {
  /** Runs whose answers are held (at most 2). */
  runs: number;
  entries: number;
  /** Businesses answered from the cache or from a request already in flight. */
  hits: number;
  /** Businesses asked of the underlying source. */
  misses: number;
}

export interface RunCachedSource {
  /** The source as seen by one run: each business is asked of the real source once per run. */
  forRun(runId: string): MetricsSource;
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

/** How many runs are kept: the current one and the one before (a manual run next to a nightly). */
const RUNS_KEPT = 2;

/**
 * Within one run, a business shared by many portfolios is fetched at most once per process:
 * requests in flight are shared and answers (metrics or the reason they are missing) are kept
 * for the run. Only the two most recently used runs are kept, and at most `maxEntries`
 * businesses in all (the least recently used run goes first).
 */
export function createRunCachedSource(source: MetricsSource, opts: RunCacheOptions = {}): RunCachedSource {
  const maxEntries = Math.max(1, opts.maxEntries ?? 100_000);
  /** Insertion order = least recently used first. */
  const runs = new Map<string, Map<string, Cell>>();
  let entries = 0;
  let hits = 0;
  let misses = 0;

  function runCells(runId: string): Map<string, Cell> {
    let cells = runs.get(runId);
    if (cells) runs.delete(runId);
    else cells = new Map();
    runs.set(runId, cells);
    while (runs.size > RUNS_KEPT) dropOldestRun();
    return cells;
  }

  function dropOldestRun(): void {
    const [oldest, cells] = runs.entries().next().value!;
    entries -= cells.size;
    runs.delete(oldest);
  }

  function makeRoom(cells: Map<string, Cell>, needed: number): void {
    for (const [runId, other] of runs) {
      if (entries + needed <= maxEntries) return;
      if (other === cells) continue;
      runs.delete(runId);
      entries -= other.size;
    }
    // The current run alone is too big: forget its oldest answers (fetches waiting keep theirs).
    for (const id of cells.keys()) {
      if (entries + needed <= maxEntries) return;
      cells.delete(id);
      entries--;
    }
  }

  /** Asks the source for `ids` once and files a cell per id; returns the new cells. */
  function request(runId: string, cells: Map<string, Cell>, ids: string[]): Map<string, Cell> {
    const shared = new SharedRequest();
    const answer = source.fetch(ids, shared.controller.signal).finally(() => {
      shared.settled = true;
    });
    makeRoom(cells, ids.length);
    const added = new Map<string, Cell>();
    for (const id of ids) {
      const promise = answer.then(({ metrics, missing }): Entry => {
        const m = metrics.get(id);
        if (m) return { metrics: m };
        return { missing: missing.get(id) ?? `no answer from the ${source.kind} metrics source` };
      });
      const cell: Cell = { promise, request: shared };
      // A failed request is not an answer: forget it so that the next fetch asks again.
      promise.then(
        (entry) => {
          cell.value = entry;
        },
        () => forget(runId, id, cell),
      );
      cells.set(id, cell);
      added.set(id, cell);
      entries++;
    }
    shared.onAbandon = () => {
      for (const [id, cell] of added) forget(runId, id, cell);
    };
    return added;
  }

  function forget(runId: string, id: string, cell: Cell): void {
    const cells = runs.get(runId);
    if (cells?.get(id) === cell) {
      cells.delete(id);
      entries--;
    }
  }

  function forRun(runId: string): MetricsSource {
    return {
      kind: source.kind,
      async fetch(businessIds, signal) {
        signal?.throwIfAborted();
        const ids = [...new Set(businessIds)];
        const cells = runCells(runId);
        const found = new Map<string, Cell>();
        const toFetch: string[] = [];
        for (const id of ids) {
          const cell = cells.get(id);
          if (cell) found.set(id, cell);
          else toFetch.push(id);
        }
        hits += found.size;
        misses += toFetch.length;
        // Fast path: every answer is in already (most portfolios of a nightly run share businesses).
        if (toFetch.length === 0) {
          const metrics = new Map<string, BusinessMetrics>();
          const missing = new Map<string, string>();
          let complete = true;
          for (const id of ids) {
            const entry = found.get(id)!.value;
            if (!entry) {
              complete = false;
              break;
            }
            if ('metrics' in entry) metrics.set(id, entry.metrics);
            else missing.set(id, entry.missing);
          }
          if (complete) return { metrics, missing };
        }
        const added = toFetch.length > 0 ? request(runId, cells, toFetch) : new Map<string, Cell>();
        const waiting = ids.map((id) => found.get(id) ?? added.get(id)!);
        const leaves = [...new Set(waiting.map((cell) => cell.request))].map((r) => r.join(signal));
        try {
          const answers = await untilAborted(Promise.all(waiting.map((cell) => cell.promise)), signal);
          const metrics = new Map<string, BusinessMetrics>();
          const missing = new Map<string, string>();
          ids.forEach((id, i) => {
            const entry = answers[i]!;
            if ('metrics' in entry) metrics.set(id, entry.metrics);
            else missing.set(id, entry.missing);
          });
          return { metrics, missing };
        } finally {
          for (const leave of leaves) leave();
        }
      },
    };
  }

  return {
    forRun,
    stats: () => ({ runs: runs.size, entries, hits, misses }),
  };
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
