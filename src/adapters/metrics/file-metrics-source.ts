import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { BusinessMetrics } from '../../domain/index.js';
import { InputTooLargeError } from '../input-file.js';
import { describeProblem, readMetricsFile } from '../metrics-file.js';
import type { MetricsSource, MetricsSourceStats } from './metrics-source.js';

export interface FileMetricsSourceOptions {
  /** BALLAST_METRICS_FILE_MAX_BYTES: a larger file is not read, and its businesses are missing. */
  readonly maxBytes?: number;
}

export interface FileMetricsSource extends MetricsSource {
  readonly kind: 'file';
  /** calls: times the file was (re)read; errors: entries refused, and fetches that found the file unreadable. */
  stats(): MetricsSourceStats;
}

/** Reads of an unreadable file before its businesses are missing for the run, READ_RETRY_MS x n apart. */
const READ_ATTEMPTS = 3;
const READ_RETRY_MS = 100;

interface Snapshot {
  /** What the file looked like when read: a different one means read it again. */
  readonly signature: string;
  readonly metrics: ReadonlyMap<string, BusinessMetrics>;
  /** Business ids of refused entries, with why. */
  readonly invalid: ReadonlyMap<string, string>;
}

/**
 * Metrics from a JSON array or NDJSON file, for demos. The file is read again whenever its
 * modification time or size changes (one stat per fetch), so it can be edited while Ballast
 * runs. Invalid entries make their business missing; so does a file that cannot be read or
 * parsed at all (missing, truncated, caught mid-rewrite): every business asked for is missing,
 * with the reason, as with an HTTP source that stays down after its retries (a read is tried
 * READ_ATTEMPTS times, so that a file caught mid-rewrite is read once it is whole). Metrics that
 * do not arrive are no-metrics for the run, never a failed job; like every source's answers, they
 * are kept for the rest of the run by the run cache, so that every portfolio of a run sees the
 * same metrics. The next run reads the file again. A file over `maxBytes` is refused before it is
 * read, without the retries: waiting will not make it smaller.
 */
export function createFileMetricsSource(
  path: string,
  options: FileMetricsSourceOptions = {},
): FileMetricsSource {
  const counters: MetricsSourceStats = { calls: 0, businessesRequested: 0, errors: 0 };
  let current: Promise<Snapshot> | undefined;
  let currentSignature = '';

  async function load(signature: string): Promise<Snapshot> {
    const file = await readMetricsFile(path, {
      strict: false,
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    });
    const invalid = new Map<string, string>();
    for (const problem of file.problems) {
      if (problem.businessId !== null && !invalid.has(problem.businessId)) {
        invalid.set(problem.businessId, `invalid metrics in ${path} at ${describeProblem(problem)}`);
      }
    }
    counters.calls++;
    counters.errors += file.problems.length;
    return { signature, metrics: file.metrics, invalid };
  }

  async function snapshot(): Promise<Snapshot> {
    const s = await stat(path, { bigint: true }).catch(() => undefined);
    // A file that cannot be stat'ed is left to readMetricsFile to explain.
    const signature = s ? `${s.ino}:${s.size}:${s.mtimeNs}` : 'unreadable';
    if (!current || signature !== currentSignature || signature === 'unreadable') {
      currentSignature = signature;
      current = load(signature);
      // The next fetch tries again rather than replaying a failed read.
      current.catch(() => {
        currentSignature = '';
      });
    }
    return current;
  }

  return {
    kind: 'file',
    async fetch(businessIds, signal) {
      const ids = [...new Set(businessIds)];
      counters.businessesRequested += ids.length;
      let snap: Snapshot | undefined;
      for (let attempt = 1; !snap; attempt++) {
        try {
          snap = await snapshot();
        } catch (err) {
          counters.errors++;
          const tooLarge = err instanceof InputTooLargeError;
          if (tooLarge || attempt >= READ_ATTEMPTS || signal?.aborted) {
            const message = err instanceof Error ? err.message : String(err);
            const reason = tooLarge ? `metrics file ${message}` : `metrics file unreadable: ${message}`;
            return { metrics: new Map(), missing: new Map(ids.map((id) => [id, reason])) };
          }
          // An abort ends the wait; the next turn answers missing.
          await delay(READ_RETRY_MS * attempt, undefined, signal ? { signal } : {}).catch(() => undefined);
        }
      }
      const metrics = new Map<string, BusinessMetrics>();
      const missing = new Map<string, string>();
      for (const id of ids) {
        const m = snap.metrics.get(id);
        if (m) metrics.set(id, m);
        else missing.set(id, snap.invalid.get(id) ?? `not in ${path}`);
      }
      return { metrics, missing };
    },
    stats: () => ({ ...counters }),
  };
}
