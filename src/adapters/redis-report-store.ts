import { type Portfolio, reportSummary, type WireReport } from '../domain/index.js';
import type { RecordArgs } from './history-args.js';
import type { Keys } from './keys.js';
import type { RedisClient } from './redis.js';
import { crossSlot } from './redis-batch.js';
import { RedisPortfolioStore } from './redis-portfolio-store.js';
import { fieldValue, type StreamReport, tailStream } from './redis-report-tail.js';
import { RedisRunStore, type RunOutcome } from './redis-run-store.js';
import { type ScriptedRedis, withScripts } from './redis-scripts.js';
import { type RunInputs, type RunInputsWanted, readRunInputs } from './run-inputs.js';
import { type RunEndProgress, runEndOf } from './run-progress.js';

export type CommitResult =
  /**
   * Committed, with the stored summary (its `stream_id` added); `published` when the global stream
   * and pub/sub were written in the same script.
   */
  | {
      readonly status: 'ok';
      readonly summary: string;
      readonly published: boolean;
      /**
       * The run's progress right after this commit, when the script judged the run's end itself
       * (a nightly portfolio on a single Redis); null when the caller must (checkRunEnd).
       */
      readonly progress: RunEndProgress | null;
    }
  /**
   * This run was committed for this portfolio before: its summary (a full report for a run
   * committed before summaries existed), and whether it reached the global stream.
   */
  | {
      readonly status: 'dup';
      readonly summary: string;
      readonly published: boolean;
      /** On Redis Cluster, what the unpublished commit still owes (for `publish`). */
      readonly pending: PublishExtra | null;
    }
  | { readonly status: 'stale'; readonly version: number }
  | { readonly status: 'gone' };

export type { RunOutcome } from './redis-run-store.js';

/**
 * What a commit does to the portfolio's pending proposal: nothing (dry runs, skipped portfolios),
 * remove it (a later run that is not held replaces it), or set this run's held recommendation.
 */
export type ProposalWrite =
  | { readonly op: 'keep' }
  | { readonly op: 'clear' }
  | {
      readonly op: 'set';
      /** The proposal's wire JSON. */
      readonly json: string;
      /** The baseline that approving it accepts. */
      readonly baselineJson: string;
      readonly reportId: string;
    };

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
  /**
   * The report's summary (report-summary.ts), as JSON: the global stream's entry and the marker's.
   * Derived from the report when not given.
   */
  readonly summaryJson?: string;
  readonly outcome: RunOutcome;
  /** Default keep. */
  readonly proposal?: ProposalWrite;
  /** The metrics baseline once this run's metrics are accepted (not held); null (default) keeps it. */
  readonly baselineJson?: string | null;
  /** How the run's guard tally counts this portfolio (null, the default: not at all). */
  readonly tally?: 'decided' | 'held' | null;
  /** The app clock's now, for the proposal index's expiry scores (default Date.now()). */
  readonly nowMs?: number;
  /**
   * A nightly run's portfolio: the time to record as the run's end should this commit be its last
   * (ISO). On a single Redis the script then judges the run's end in the same round trip.
   */
  readonly finishedAt?: string | null;
}

export type { StreamReport } from './redis-report-tail.js';

/** What `publish` writes besides the global stream and the channel (Redis Cluster's second round trip). */
export interface PublishExtra {
  readonly outcome: RunOutcome;
  readonly records: Pick<RecordArgs, 'audit' | 'tail'> | null;
  readonly proposal?: Pick<ProposalWrite, 'op'>;
  readonly tally?: 'decided' | 'held' | null;
  readonly nowMs?: number;
}

/** Marker fields of what an unpublished commit owes (written in the 7-key form only). */
const PENDING_FIELDS = ['outcome', 'tally', 'proposal_op', 'audit', 'tail'] as const;

/** How many reports are kept, and how long (BALLAST_RETENTION_*). */
export interface ReportRetention {
  /** Entries of each portfolio's report stream. */
  readonly perPortfolio: number;
  /** Entries of the global report stream. */
  readonly global: number;
  /** Age past which entries of both are trimmed; 0 keeps them by count only. */
  readonly maxAgeMs: number;
}

/**
 * Reports: the per-portfolio write (apply + stream + latest + run marker) is one script. Each
 * report is stored in full once a night, in the portfolio's stream (plus the latest-report key,
 * one per portfolio); the global stream, the pub/sub channel and the run marker carry its
 * summary with the stream id. On a single Redis the same script also appends to the global stream
 * and publishes; with `cluster` it stays on the portfolio's slot, and the global stream and
 * pub/sub follow in one pipelined round trip (`publish`). Both streams are trimmed by count and
 * age by the script that appends, with ids from the app's clock.
 */
export class RedisReportStore extends RedisRunStore {
  constructor(
    redis: RedisClient,
    keys: Keys,
    protected override readonly options: {
      retention: ReportRetention;
      markerTtlSeconds: number;
      cluster?: boolean;
      /** How long a proposal waits (BALLAST_PROPOSAL_TTL). */
      proposalTtlMs?: number;
    },
  ) {
    super(withScripts(redis), keys, options);
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
      k.proposal(input.portfolioId),
      k.metricsBaseline(input.portfolioId),
    ];
    const p = input.proposal ?? { op: 'keep' };
    const nowMs = input.nowMs ?? Date.now();
    const argv = [
      mode,
      String(input.expectedVersion),
      w ? String(w.after.version) : '',
      w ? RedisPortfolioStore.encode(w.after) : '',
      input.reportJson,
      input.summaryJson ?? JSON.stringify(reportSummary(JSON.parse(input.reportJson) as WireReport)),
      String(this.options.markerTtlSeconds),
      k.reportsChannel,
      w?.records.record ?? '',
      w?.records.audit ?? '',
      ...(w?.records.tail ?? [String(nowMs), '1', '1', String(this.options.retention.maxAgeMs)]),
      input.portfolioId,
      input.outcome,
      p.op,
      p.op === 'set' ? p.json : '',
      String(this.proposalTtlMs),
      p.op === 'set' ? p.baselineJson : (input.baselineJson ?? ''),
      p.op === 'set' ? p.reportId : '',
      input.runId,
      input.tally ?? '',
      String(this.options.retention.perPortfolio),
      String(this.options.retention.global),
      input.finishedAt ?? '',
    ];
    const [status, value, published, ...run] = this.options.cluster
      ? await this.redis.ballastCommitRun(...keys, ...argv)
      : await this.redis.ballastCommitRunAndPublish(
          ...keys,
          k.reports,
          k.audit,
          k.runPortfolios(input.runId),
          k.run(input.runId),
          k.proposals,
          k.runGone(input.runId),
          k.runFailed(input.runId),
          ...argv,
        );
    switch (status) {
      case 'ok':
        return { status: 'ok', summary: value, published: published === '1', progress: runEndOf(run) };
      case 'dup':
        return {
          status: 'dup',
          summary: value,
          published: published === '1',
          pending: published === '1' ? null : await this.pending(input.portfolioId, input.runId),
        };
      case 'stale':
        return { status: 'stale', version: Number(value) };
      default:
        return { status: 'gone' };
    }
  }

  /**
   * What a run's job reads before it computes, in one round trip: the portfolio's stored document,
   * and when asked for, its metrics baseline (JSON) and the run's tally (runTally).
   */
  async runInputs(portfolioId: string, runId: string, want: RunInputsWanted): Promise<RunInputs> {
    return (await readRunInputs(this.redis, this.keys, [portfolioId], runId, want))[0]!;
  }

  /** runInputs for a block of portfolios, in one round trip (the tally read once). */
  runInputsMany(portfolioIds: readonly string[], runId: string, want: RunInputsWanted): Promise<RunInputs[]> {
    return readRunInputs(this.redis, this.keys, portfolioIds, runId, want);
  }

  get proposalTtlMs(): number {
    return this.options.proposalTtlMs ?? 7 * 86_400_000;
  }

  /**
   * What the commit script could not reach on Redis Cluster (other hash slots): the global stream,
   * pub/sub, the run's outcome for this portfolio (and its tally), the change's audit entry and the
   * proposals index; then mark the run published (at-least-once on the global and audit streams).
   */
  async publish(
    portfolioId: string,
    runId: string,
    summaryJson: string,
    extra: PublishExtra | null = null,
  ): Promise<void> {
    const r = this.options.retention;
    const pipeline = crossSlot(this.redis);
    (pipeline as unknown as Pick<ScriptedRedis, 'ballastAppendRecord'>).ballastAppendRecord(
      this.keys.reports,
      summaryJson,
      String(extra?.nowMs ?? Date.now()),
      String(r.global),
      String(r.maxAgeMs),
      'summary',
    );
    pipeline.publish(this.keys.reportsChannel, summaryJson);
    const marker = this.keys.runMarker(portfolioId, runId);
    let tallied = -1;
    if (extra) {
      // Counted once, by the call that first gets here (HSETNX on the marker, the portfolio's
      // slot), and before the portfolio counts as done below: a run whose last portfolio is done
      // has every portfolio's tally in, so its end is judged on all of them (a crash in between
      // loses one count, which the breaker tolerates).
      if (extra.tally) {
        tallied = pipeline.length;
        pipeline.hsetnx(marker, 'tallied', '1');
      }
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
      const nowMs = extra.nowMs ?? Date.now();
      if (extra.proposal?.op === 'set') {
        pipeline
          .zadd(this.keys.proposals, nowMs + this.proposalTtlMs, portfolioId)
          .zremrangebyscore(this.keys.proposals, '-inf', `(${nowMs}`);
      } else if (extra.proposal?.op === 'clear') {
        pipeline.zrem(this.keys.proposals, portfolioId);
      }
    }
    const results = await pipeline.exec();
    for (const [err] of results ?? []) if (err) throw err;
    if (extra?.tally && tallied >= 0 && results?.[tallied]?.[1] === 1) {
      const runKey = this.keys.run(runId);
      const tally = this.redis.multi().hincrby(runKey, 'decided', 1);
      if (extra.tally === 'held') tally.hincrby(runKey, 'held', 1);
      const done = await tally.expire(runKey, this.options.markerTtlSeconds).exec();
      for (const [err] of done ?? []) if (err) throw err;
    }
    const last = crossSlot(this.redis);
    if (extra) {
      // Done: the run's end is judged once every portfolio's is here.
      const runKey = this.keys.runPortfolios(runId);
      last.hset(runKey, portfolioId, extra.outcome).expire(runKey, this.options.markerTtlSeconds);
    }
    last.hset(marker, 'published', '1').hdel(marker, ...PENDING_FIELDS);
    for (const [err] of (await last.exec()) ?? []) if (err) throw err;
  }

  /** What an unpublished commit left in its marker for the second round trip (Redis Cluster). */
  private async pending(portfolioId: string, runId: string): Promise<PublishExtra | null> {
    const [outcome, tally, op, audit, tail] = await this.redis.hmget(
      this.keys.runMarker(portfolioId, runId),
      ...PENDING_FIELDS,
    );
    if (!outcome) return null;
    const parts = (tail ?? '').split(',');
    return {
      outcome: outcome as RunOutcome,
      tally: tally === 'decided' || tally === 'held' ? tally : null,
      proposal: { op: op === 'set' || op === 'clear' ? op : 'keep' },
      records: audit
        ? { audit, tail: [parts[0] ?? '0', parts[1] ?? '1', parts[2] ?? '1', parts[3] ?? '0'] }
        : null,
      nowMs: Number(parts[0]) || Date.now(),
    };
  }

  /** The summary of the run's report of this portfolio, as its marker keeps it; null when none. */
  async runSummary(portfolioId: string, runId: string): Promise<string | null> {
    const [summary, report] = await this.redis.hmget(
      this.keys.runMarker(portfolioId, runId),
      'summary',
      'report',
    );
    return summary ?? report ?? null;
  }

  /**
   * The run's full report of this portfolio, read from the portfolio's report stream by the id its
   * marker keeps; null when the run left none, or when retention trimmed it from the stream.
   */
  async runReport(portfolioId: string, runId: string): Promise<string | null> {
    return (await this.runReports([portfolioId], runId))[0] ?? null;
  }

  /** The run's full report of each of these portfolios (null where it has none), in two round trips. */
  async runReports(portfolioIds: readonly string[], runId: string): Promise<(string | null)[]> {
    if (portfolioIds.length === 0) return [];
    const markers = crossSlot(this.redis);
    for (const id of portfolioIds) markers.hmget(this.keys.runMarker(id, runId), 'id', 'report');
    const ids = ((await markers.exec()) ?? []).map(([err, fields]) => {
      if (err) throw err;
      return fields as (string | null)[];
    });
    const reads = crossSlot(this.redis);
    const out: (string | null)[] = new Array(portfolioIds.length).fill(null);
    const pending: number[] = [];
    ids.forEach(([streamId, legacy], i) => {
      // A marker written before reports were stored once holds the full report itself.
      if (legacy) out[i] = legacy;
      else if (streamId) {
        reads.xrange(this.keys.portfolioReports(portfolioIds[i]!), streamId, streamId);
        pending.push(i);
      }
    });
    if (pending.length === 0) return out;
    const results = (await reads.exec()) ?? [];
    results.forEach(([err, entries], j) => {
      if (err) throw err;
      const [entry] = entries as [string, string[]][];
      out[pending[j]!] = entry ? fieldValue(entry[1], 'report') : null;
    });
    return out;
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
   * Follow a report stream (global: summaries; one portfolio's: full reports) from `from` ('$' =
   * only new ones). Uses its own blocking connection; stops when `signal` aborts.
   */
  tail(options: { portfolioId?: string; from?: string; signal?: AbortSignal }): AsyncGenerator<StreamReport> {
    const key = options.portfolioId ? this.keys.portfolioReports(options.portfolioId) : this.keys.reports;
    return tailStream(this.redis, key, options);
  }
}
