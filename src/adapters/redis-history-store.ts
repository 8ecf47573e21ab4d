import {
  type HistoryRecord,
  historyRecordFromWire,
  type WireAuditEntry,
  type WireHistoryRecord,
} from '../domain/index.js';
import type { Keys } from './keys.js';
import type { RedisClient } from './redis.js';

/** The versions a portfolio's history still keeps (retention trims the oldest). */
export interface KeptVersions {
  readonly oldest: number;
  readonly newest: number;
  readonly count: number;
}

export interface AuditQuery {
  readonly portfolioId?: string | undefined;
  readonly actor?: string | undefined;
  /** Entries at or after this instant (epoch ms). */
  readonly sinceMs?: number | undefined;
  readonly limit: number;
}

/** Entries read per round trip when a search walks a stream. */
const PAGE = 200;

/**
 * Reads the history and audit streams that the portfolio and report scripts append to. Newest
 * first everywhere; a walk (a version, the audit filters) reads a page at a time and stops as
 * soon as it has its answer, so no read holds a whole stream.
 */
export class RedisHistoryStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** The newest `limit` records of a portfolio's history. */
  async list(portfolioId: string, limit: number): Promise<WireHistoryRecord[]> {
    const entries = await this.redis.xrevrange(this.keys.history(portfolioId), '+', '-', 'COUNT', limit);
    return entries.map(([, fields]) => parseRecord<WireHistoryRecord>(fields));
  }

  async kept(portfolioId: string): Promise<KeptVersions | null> {
    const key = this.keys.history(portfolioId);
    const results = await this.redis
      .pipeline()
      .xrange(key, '-', '+', 'COUNT', 1)
      .xrevrange(key, '+', '-', 'COUNT', 1)
      .xlen(key)
      .exec();
    const [first, last, length] = (results ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    }) as [[string, string[]][], [string, string[]][], number];
    if (!first?.[0] || !last?.[0]) return null;
    return {
      oldest: parseRecord<WireHistoryRecord>(first[0][1]).version,
      newest: parseRecord<WireHistoryRecord>(last[0][1]).version,
      count: length,
    };
  }

  /** The record of version `version`, or null when the history no longer keeps it (or never had it). */
  async find(portfolioId: string, version: number): Promise<HistoryRecord | null> {
    for await (const record of this.walk(this.keys.history(portfolioId))) {
      const r = record as WireHistoryRecord;
      if (r.version === version) return historyRecordFromWire(r);
      if (r.version < version) return null;
    }
    return null;
  }

  /** The records newer than `version`, newest first. */
  async newerThan(portfolioId: string, version: number): Promise<WireHistoryRecord[]> {
    const out: WireHistoryRecord[] = [];
    for await (const record of this.walk(this.keys.history(portfolioId))) {
      const r = record as WireHistoryRecord;
      if (r.version <= version) break;
      out.push(r);
    }
    return out;
  }

  /** Audit entries, newest first, filtered by portfolio, actor and time. */
  async audit(query: AuditQuery): Promise<WireAuditEntry[]> {
    const out: WireAuditEntry[] = [];
    if (query.limit <= 0) return out;
    const end = query.sinceMs === undefined ? '-' : String(Math.max(0, Math.floor(query.sinceMs)));
    for await (const record of this.walk(this.keys.audit, end)) {
      const e = record as WireAuditEntry;
      if (query.portfolioId !== undefined && e.portfolio_id !== query.portfolioId) continue;
      if (query.actor !== undefined && e.actor !== query.actor) continue;
      out.push(e);
      if (out.length >= query.limit) break;
    }
    return out;
  }

  /** A stream's `record`s from the newest back to `end`, a page at a time. */
  private async *walk(key: string, end = '-'): AsyncGenerator<unknown> {
    let start = '+';
    for (;;) {
      const entries = await this.redis.xrevrange(key, start, end, 'COUNT', PAGE);
      for (const [, fields] of entries) yield parseRecord(fields);
      if (entries.length < PAGE) return;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }
}

function parseRecord<T>(fields: string[]): T {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'record') return JSON.parse(fields[i + 1]!) as T;
  }
  throw new Error('history entry without a record field');
}
