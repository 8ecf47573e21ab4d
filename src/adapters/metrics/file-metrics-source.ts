import { stat } from 'node:fs/promises';
import type { BusinessMetrics } from '../../domain/index.js';
import { readInputText } from '../input-file.js';
import { describeProblem, parseMetricsText } from '../metrics-file.js';
import type { MetricsSource, MetricsSourceStats } from './metrics-source.js';

export interface FileMetricsSource extends MetricsSource {
  readonly kind: 'file';
  /** calls: times the file was (re)read; errors: entries refused, and fetches that found the file unreadable. */
  stats(): MetricsSourceStats;
}

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
 * with the reason, as with an HTTP source that stays down after its retries. Metrics that do not
 * arrive are no-metrics for the run, never a failed job. The next fetch reads the file again.
 */
export function createFileMetricsSource(path: string): FileMetricsSource {
  const counters: MetricsSourceStats = { calls: 0, businessesRequested: 0, errors: 0 };
  let current: Promise<Snapshot> | undefined;
  let currentSignature = '';

  async function load(signature: string): Promise<Snapshot> {
    const file = parseMetricsText(path, await readInputText(path), { strict: false });
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
    // A file that cannot be stat'ed is left to readInputText to explain.
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
    async fetch(businessIds) {
      const ids = [...new Set(businessIds)];
      counters.businessesRequested += ids.length;
      let snap: Snapshot;
      try {
        snap = await snapshot();
      } catch (err) {
        counters.errors++;
        const reason = `metrics file unreadable: ${err instanceof Error ? err.message : String(err)}`;
        return { metrics: new Map(), missing: new Map(ids.map((id) => [id, reason])) };
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
