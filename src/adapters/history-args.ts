import {
  auditEntryToWire,
  historyRecord,
  historyRecordToWire,
  type Portfolio,
  type WriteMeta,
} from '../domain/index.js';

/** How long history and audit are kept (BALLAST_RETENTION_*): applied by the scripts that append. */
export interface Retention {
  /** Entries of each portfolio's history stream. */
  readonly perPortfolio: number;
  /** Entries of the audit stream. */
  readonly global: number;
  /** Age past which entries of both are trimmed; 0 keeps them by count only. */
  readonly maxAgeMs: number;
}

export const DEFAULT_RETENTION: Retention = { perPortfolio: 400, global: 100_000, maxAgeMs: 90 * 86_400_000 };

export function retentionOf(config: {
  readonly retention: { readonly days: number; readonly perPortfolio: number; readonly global: number };
}): Retention {
  const r = config.retention;
  return { perPortfolio: r.perPortfolio, global: r.global, maxAgeMs: r.days * 86_400_000 };
}

/** The history record and audit entry of one write, as the scripts take them. */
export interface RecordArgs {
  readonly record: string;
  readonly audit: string;
  /** ARGV tail shared by every appending script: nowMs, historyMaxLen, auditMaxLen, maxAgeMs. */
  readonly tail: readonly [string, string, string, string];
}

export function recordArgs(
  before: Portfolio | null,
  after: Portfolio,
  meta: WriteMeta,
  now: Date,
  retention: Retention,
): RecordArgs {
  const record = historyRecord(before, after, meta, now.toISOString());
  return {
    record: JSON.stringify(historyRecordToWire(record)),
    audit: JSON.stringify(auditEntryToWire(record)),
    tail: [
      String(now.getTime()),
      String(retention.perPortfolio),
      String(retention.global),
      String(retention.maxAgeMs),
    ],
  };
}
