import type { Redis } from 'ioredis';
import type { Portfolio } from '../domain/index.js';
import type { RecordArgs } from './history-args.js';
import type { Keys } from './keys.js';
import { RedisPortfolioStore } from './redis-portfolio-store.js';
import { type ScriptedRedis, withScripts } from './redis-scripts.js';

export type CommitResult =
  /** Committed; `published` when the global stream and pub/sub were written in the same script. */
  | { readonly status: 'ok'; readonly published: boolean }
  /** This run was committed for this portfolio before: its report, and whether it reached the global stream. */
  | { readonly status: 'dup'; readonly report: string; readonly published: boolean }
  | { readonly status: 'stale'; readonly version: number }
  | { readonly status: 'gone' };

/** What a run did to one portfolio, as the run's hash of portfolios records it. */
export type RunOutcome = 'changed' | 'unchanged' | 'skipped' | 'dry-run';

export interface CommitInput {
  readonly portfolioId: string;
  readonly runId: string;
  /**
   * The portfolio after the run with the history record and audit entry of the change, or null
   * when nothing is written: a dry run, a skipped portfolio, a run that changes nothing.
   */
  readonly write: { readonly after: Portfolio; readonly records: RecordArgs } | null;
  /** Whether the version is checked (a real run, even one that changes nothing). */
  readonly checkVersion: boolean;
  readonly expectedVersion: number;
  readonly reportJson: string;
  readonly outcome: RunOutcome;
}

export interface StreamReport {
  readonly id: string;
  readonly report: string;
}

/**
 * Reports: the per-portfolio write (apply + stream + latest + run marker) is one script. On a
 * single Redis the same script also appends to the global stream and publishes; with
 * `cluster` it stays on the portfolio's slot, and the global stream and pub/sub follow in one
 * pipelined round trip (`publish`).
 */
export class RedisReportStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    private readonly options: { streamMaxLen: number; markerTtlSeconds: number; cluster?: boolean },
  ) {
    this.redis = withScripts(redis);
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    const k = this.keys;
    const w = input.write;
    const mode = w ? 'write' : input.checkVersion ? 'check' : 'none';
    const keys = [
      k.portfolio(input.portfolioId),
      k.portfolioReports(input.portfolioId),
      k.latestReport(input.portfolioId),
      k.runMarker(input.portfolioId, input.runId),
      k.history(input.portfolioId),
    ];
    const argv = [
      mode,
      String(input.expectedVersion),
      w ? String(w.after.version) : '',
      w ? RedisPortfolioStore.encode(w.after) : '',
      input.reportJson,
      String(this.options.streamMaxLen),
      String(this.options.markerTtlSeconds),
      k.reportsChannel,
      w?.records.record ?? '',
      w?.records.audit ?? '',
      ...(w?.records.tail ?? ['0', '1', '1', '0']),
      input.portfolioId,
      input.outcome,
    ];
    const [status, value, published] = this.options.cluster
      ? await this.redis.ballastCommitRun(...keys, ...argv)
      : await this.redis.ballastCommitRunAndPublish(
          ...keys,
          k.reports,
          k.audit,
          k.runPortfolios(input.runId),
          ...argv,
        );
    switch (status) {
      case 'ok':
        return { status: 'ok', published: published === '1' };
      case 'dup':
        return { status: 'dup', report: value, published: published === '1' };
      case 'stale':
        return { status: 'stale', version: Number(value) };
      default:
        return { status: 'gone' };
    }
  }

  /**
   * What the commit script could not reach on Redis Cluster (other hash slots): the global stream,
   * pub/sub, the run's outcome for this portfolio and the change's audit entry; then mark the run
   * published (at-least-once on the global and audit streams).
   */
  async publish(
    portfolioId: string,
    runId: string,
    reportJson: string,
    extra: { readonly outcome: RunOutcome; readonly records: RecordArgs | null } | null = null,
  ): Promise<void> {
    const pipeline = this.redis
      .pipeline()
      .xadd(this.keys.reports, 'MAXLEN', '~', this.options.streamMaxLen, '*', 'report', reportJson)
      .publish(this.keys.reportsChannel, reportJson);
    if (extra) {
      const runKey = this.keys.runPortfolios(runId);
      pipeline.hset(runKey, portfolioId, extra.outcome).expire(runKey, this.options.markerTtlSeconds);
      if (extra.records) {
        const [nowMs, , auditMaxLen, maxAgeMs] = extra.records.tail;
        (pipeline as unknown as Pick<ScriptedRedis, 'ballastAppendRecord'>).ballastAppendRecord(
          this.keys.audit,
          extra.records.audit,
          nowMs,
          auditMaxLen,
          maxAgeMs,
        );
      }
    }
    const results = await pipeline.hset(this.keys.runMarker(portfolioId, runId), 'published', '1').exec();
    for (const [err] of results ?? []) if (err) throw err;
  }

  /** Each portfolio the run committed, with its outcome; a page at a time (HSCAN). */
  async *runOutcomes(runId: string, count = 500): AsyncGenerator<[string, RunOutcome][]> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys.runPortfolios(runId), cursor, 'COUNT', count);
      cursor = next;
      const page: [string, RunOutcome][] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) page.push([flat[i]!, flat[i + 1] as RunOutcome]);
      if (page.length > 0) yield page;
    } while (cursor !== '0');
  }

  async runReport(portfolioId: string, runId: string): Promise<string | null> {
    return this.redis.hget(this.keys.runMarker(portfolioId, runId), 'report');
  }

  /** The run's report of each of these portfolios (null where it has none), in one round trip. */
  async runReports(portfolioIds: readonly string[], runId: string): Promise<(string | null)[]> {
    if (portfolioIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of portfolioIds) pipeline.hget(this.keys.runMarker(id, runId), 'report');
    return ((await pipeline.exec()) ?? []).map(([err, report]) => {
      if (err) throw err;
      return typeof report === 'string' ? report : null;
    });
  }

  /**
   * Records how many portfolios a nightly run fanned out, for as long as its run markers live:
   * the fan-out job itself is trimmed from BullMQ's completed jobs long before a big run ends.
   */
  async recordFanOut(runId: string, total: number, at: string): Promise<void> {
    const key = this.keys.run(runId);
    const results = await this.redis
      .multi()
      .hset(key, 'total', String(total), 'fanned_out_at', at)
      .expire(key, this.options.markerTtlSeconds)
      .exec();
    for (const [err] of results ?? []) if (err) throw err;
  }

  /**
   * Notes that a portfolio this run fanned out no longer exists: it counts as done (see
   * runGone). Idempotent, so a retried job counts once; false when it was recorded before.
   */
  async recordGone(runId: string, portfolioId: string): Promise<boolean> {
    const key = this.keys.runGone(runId);
    const results = await this.redis
      .multi()
      .sadd(key, portfolioId)
      .expire(key, this.options.markerTtlSeconds)
      .exec();
    for (const [err] of results ?? []) if (err) throw err;
    return results?.[0]?.[1] === 1;
  }

  /** How many portfolios of the run were gone when their job ran. */
  async goneCount(runId: string): Promise<number> {
    return this.redis.scard(this.keys.runGone(runId));
  }

  /** The portfolios of the run that were gone, a page at a time (SSCAN: never the whole set at once). */
  async *goneIds(runId: string, count = 500): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, ids] = await this.redis.sscan(this.keys.runGone(runId), cursor, 'COUNT', count);
      cursor = next;
      if (ids.length > 0) yield ids.sort();
    } while (cursor !== '0');
  }

  /** How many portfolios the run fanned out, once its fan-out has ended; null before. */
  async fanOutTotal(runId: string): Promise<number | null> {
    const total = await this.redis.hget(this.keys.run(runId), 'total');
    return total === null ? null : Number(total);
  }

  /** Which of these portfolios have committed the run (its marker exists), in one round trip. */
  async committed(portfolioIds: readonly string[], runId: string): Promise<boolean[]> {
    if (portfolioIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of portfolioIds) pipeline.exists(this.keys.runMarker(id, runId));
    return ((await pipeline.exec()) ?? []).map(([err, n]) => {
      if (err) throw err;
      return n === 1;
    });
  }

  async latest(portfolioId: string): Promise<string | null> {
    return this.redis.get(this.keys.latestReport(portfolioId));
  }

  /** Newest first. */
  async list(portfolioId: string, limit: number): Promise<StreamReport[]> {
    const entries = await this.redis.xrevrange(
      this.keys.portfolioReports(portfolioId),
      '+',
      '-',
      'COUNT',
      limit,
    );
    return entries.map(([id, fields]) => ({ id, report: fieldValue(fields, 'report') }));
  }

  /**
   * Follow a report stream (global, or one portfolio's) from `from` ('$' = only new ones). Uses
   * its own blocking connection; stops when `signal` aborts.
   */
  async *tail(options: {
    portfolioId?: string;
    from?: string;
    signal?: AbortSignal;
  }): AsyncGenerator<StreamReport> {
    const key = options.portfolioId ? this.keys.portfolioReports(options.portfolioId) : this.keys.reports;
    const reader = this.redis.duplicate();
    // A duplicate has none of the original's listeners: without one, every failed reconnect while
    // Redis is down would print ioredis's "Unhandled error event". The original reports outages.
    reader.on('error', () => {});
    let last = options.from ?? '$';
    // While Redis is down the read waits in ioredis's offline queue, which disconnect() does not
    // flush: the read is raced against the signal, or Ctrl-C during an outage would never return.
    let stopped: () => void = () => {};
    const stop = new Promise<null>((resolve) => {
      stopped = () => resolve(null);
    });
    const abort = () => {
      stopped();
      reader.disconnect();
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      while (!options.signal?.aborted) {
        const read = reader.xread('BLOCK', 1000, 'STREAMS', key, last).catch((err: unknown) => {
          if (options.signal?.aborted) return null;
          throw err;
        });
        const result = await Promise.race([read, stop]);
        if (!result) continue;
        for (const [, entries] of result) {
          for (const [id, fields] of entries) {
            last = id;
            yield { id, report: fieldValue(fields, 'report') };
          }
        }
      }
    } finally {
      options.signal?.removeEventListener('abort', abort);
      // Not twice: a second disconnect() of a closed connection arms ioredis's 2 s "still open"
      // timer, which nothing clears, and keeps the process alive that long after Ctrl-C.
      if (reader.status !== 'end') reader.disconnect();
    }
  }
}

function fieldValue(fields: string[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]!;
  return '';
}
