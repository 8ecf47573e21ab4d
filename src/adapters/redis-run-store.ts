/**
 * What a run's hashes record, read and written beside the commit script: the outcome of each
 * portfolio, the guards' tally and circuit breaker, the fan-out's total and the portfolios that were
 * gone. Every key expires with the run markers (BALLAST_RUN_MARKER_TTL_S).
 */
import type { Keys } from './keys.js';
import { crossSlot } from './redis-batch.js';
import type { ScriptedRedis } from './redis-scripts.js';
import { type RunProgress, type RunTally, TALLY_FIELDS, tallyOf } from './run-progress.js';

/** What a run did to one portfolio, as the run's hash of portfolios records it. */
export type RunOutcome = 'changed' | 'unchanged' | 'held' | 'advisory' | 'skipped' | 'dry-run' | 'cancelled';

/** What the run's hash says of the run itself: who asked for it, when it was queued, started, ended. */
export interface RunRecord {
  readonly runId: string;
  readonly trigger: string | null;
  /** The cron slot a scheduled (or backfilled) run is for; null for an operator's run. */
  readonly slot: string | null;
  readonly actor: string | null;
  readonly catchUp: boolean;
  readonly queuedAt: string | null;
  /** When its fan-out began. */
  readonly startedAt: string | null;
  readonly fannedOutAt: string | null;
  /** When its last portfolio was done (committed, gone, failed for good or cancelled). */
  readonly finishedAt: string | null;
  /** When an operator cancelled it, and who. */
  readonly cancelledAt: string | null;
  readonly cancelledBy: string | null;
  /** Its counts and turnover distribution (JSON), kept once it has finished: they no longer change. */
  readonly stats: string | null;
  readonly total: number | null;
  readonly decided: number;
  readonly held: number;
  readonly circuitOpen: string | null;
  /** Portfolios committed (any outcome, cancelled included), gone, and failed for good. */
  readonly committed: number;
  readonly gone: number;
  readonly failed: number;
}

export interface QueuedRun {
  readonly runId: string;
  readonly trigger: string;
  readonly slot: string | null;
  readonly actor: string;
  readonly catchUp: boolean;
}

const KEEP_STATS = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSETNX', KEYS[1], 'stats', ARGV[1]) end return 0`;

export class RedisRunStore {
  constructor(
    protected readonly redis: ScriptedRedis,
    protected readonly keys: Keys,
    protected readonly options: { readonly markerTtlSeconds: number },
  ) {}

  /** The guards' tally of a run so far, and whether (why) its circuit breaker opened. */
  async runTally(runId: string): Promise<RunTally> {
    return tallyOf(await this.redis.hmget(this.keys.run(runId), ...TALLY_FIELDS));
  }

  /**
   * The tally with how many of the run's portfolios are done (committed, cancelled, gone, or failed
   * for good), in one round
   * trip: whether the run has ended.
   */
  async runProgress(runId: string): Promise<RunProgress> {
    const results = await crossSlot(this.redis)
      .hmget(this.keys.run(runId), 'decided', 'held', 'total', 'circuit_open')
      .hlen(this.keys.runPortfolios(runId))
      .scard(this.keys.runGone(runId))
      .hlen(this.keys.runFailed(runId))
      .exec();
    throwFirst(results);
    const [decided, held, total, circuit] = results![0]![1] as (string | null)[];
    return {
      decided: Number(decided ?? 0),
      held: Number(held ?? 0),
      total: total === null || total === undefined ? null : Number(total),
      done: (results![1]![1] as number) + (results![2]![1] as number) + (results![3]![1] as number),
      circuitOpen: circuit ?? null,
    };
  }

  /** Opens the run's circuit breaker; true for the one caller that opened it. */
  async openCircuit(runId: string, why: string): Promise<boolean> {
    const key = this.keys.run(runId);
    const results = await this.redis
      .multi()
      .hsetnx(key, 'circuit_open', why)
      .expire(key, this.options.markerTtlSeconds)
      .exec();
    throwFirst(results);
    return results?.[0]?.[1] === 1;
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
    throwFirst(results);
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
    throwFirst(results);
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

  /**
   * Records a nightly run as queued, and lists it in the runs index: the index drops, in the same
   * write, runs queued longer ago than the run markers live (its retention rule).
   */
  async recordQueued(run: QueuedRun, at: Date): Promise<void> {
    const key = this.keys.run(run.runId);
    const ttlMs = this.options.markerTtlSeconds * 1000;
    // One command per key (no MULTI): the run hash and the index live in different slots on Cluster.
    await Promise.all([
      this.redis
        .multi()
        .hsetnx(key, 'trigger', run.trigger)
        .hsetnx(key, 'slot', run.slot ?? '')
        .hsetnx(key, 'actor', run.actor)
        .hsetnx(key, 'catch_up', run.catchUp ? '1' : '0')
        .hsetnx(key, 'queued_at', at.toISOString())
        .expire(key, this.options.markerTtlSeconds)
        .exec()
        .then(throwFirst),
      this.redis
        .multi()
        .zadd(this.keys.runs, 'NX', at.getTime(), run.runId)
        .zremrangebyscore(this.keys.runs, '-inf', `(${at.getTime() - ttlMs}`)
        // No run queued for as long as runs are kept: the index goes too.
        .pexpire(this.keys.runs, ttlMs)
        .exec()
        .then(throwFirst),
    ]);
  }

  /** Notes when a run's fan-out began (the first attempt's start: HSETNX). */
  async recordStarted(runId: string, at: string): Promise<void> {
    const key = this.keys.run(runId);
    throwFirst(
      await this.redis
        .multi()
        .hsetnx(key, 'started_at', at)
        .expire(key, this.options.markerTtlSeconds)
        .exec(),
    );
  }

  /** Notes when a run ended, once (HSETNX); true for the caller that wrote it. */
  async recordFinished(runId: string, at: string): Promise<boolean> {
    const key = this.keys.run(runId);
    const results = await this.redis
      .multi()
      .hsetnx(key, 'finished_at', at)
      .expire(key, this.options.markerTtlSeconds)
      .exec();
    throwFirst(results);
    return results?.[0]?.[1] === 1;
  }

  /** Marks a run cancelled by an operator (the first cancel's time and actor are kept). */
  async recordCancelledRun(runId: string, at: string, actor: string): Promise<void> {
    const key = this.keys.run(runId);
    throwFirst(
      await this.redis
        .multi()
        .hsetnx(key, 'cancelled_at', at)
        .hsetnx(key, 'cancelled_by', actor)
        .expire(key, this.options.markerTtlSeconds)
        .exec(),
    );
  }

  /** Whether an operator cancelled the run: its fan-out stops adding portfolios. */
  async runCancelled(runId: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.run(runId), 'cancelled_at')) === 1;
  }

  /** Keeps a finished run's counts (JSON), so that listing runs does not count them again. */
  async keepStats(runId: string, stats: string): Promise<void> {
    // Only into a run hash that still exists: one that expired meanwhile is not written again
    // (it would have no expiry).
    await this.redis.eval(KEEP_STATS, 1, this.keys.run(runId), stats);
  }

  /** The report summary each portfolio's run marker keeps (null where there is none). */
  async markerSummaries(portfolioIds: readonly string[], runId: string): Promise<(string | null)[]> {
    if (portfolioIds.length === 0) return [];
    const pipeline = crossSlot(this.redis);
    // A marker written before reports were stored once holds the full report (`report`): its
    // fields are a superset of the summary's but for `held`, read as such by the callers.
    for (const id of portfolioIds) pipeline.hmget(this.keys.runMarker(id, runId), 'summary', 'report');
    return ((await pipeline.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      const [summary, report] = v as (string | null)[];
      return summary ?? report ?? null;
    });
  }

  /**
   * A portfolio's job of this run failed for good (its retries spent): why, for `runs show`. Not
   * when the portfolio has an outcome already (committed before a later step failed): it counts
   * as done once.
   */
  async recordFailed(runId: string, portfolioId: string, reason: string): Promise<void> {
    if ((await this.redis.hexists(this.keys.runPortfolios(runId), portfolioId)) === 1) return;
    const key = this.keys.runFailed(runId);
    throwFirst(
      await this.redis
        .multi()
        .hset(key, portfolioId, reason.slice(0, 2000))
        .expire(key, this.options.markerTtlSeconds)
        .exec(),
    );
  }

  /**
   * Portfolios whose job was removed before it started: their outcome is `cancelled` unless they
   * had committed (HSETNX), so that the run still ends.
   */
  async recordCancelled(runId: string, portfolioIds: readonly string[]): Promise<void> {
    if (portfolioIds.length === 0) return;
    const key = this.keys.runPortfolios(runId);
    const multi = this.redis.multi();
    for (const id of portfolioIds) multi.hsetnx(key, id, 'cancelled');
    throwFirst(await multi.expire(key, this.options.markerTtlSeconds).exec());
  }

  /** The portfolios of the run that failed for good, with why; a page at a time. */
  async *runFailures(runId: string, count = 500): AsyncGenerator<[string, string][]> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys.runFailed(runId), cursor, 'COUNT', count);
      cursor = next;
      const page: [string, string][] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) page.push([flat[i]!, flat[i + 1]!]);
      if (page.length > 0) yield page;
    } while (cursor !== '0');
  }

  /** The newest runs first, as the runs index lists them (at most `limit`). */
  async recentRunIds(limit: number): Promise<string[]> {
    return this.redis.zrevrange(this.keys.runs, 0, limit - 1);
  }

  /** What is recorded of each of these runs (null where nothing is: expired, or never run). */
  async runRecords(runIds: readonly string[]): Promise<(RunRecord | null)[]> {
    if (runIds.length === 0) return [];
    const pipeline = crossSlot(this.redis);
    for (const id of runIds) {
      pipeline.hgetall(this.keys.run(id));
      pipeline.hlen(this.keys.runPortfolios(id));
      pipeline.scard(this.keys.runGone(id));
      pipeline.hlen(this.keys.runFailed(id));
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    return runIds.map((runId, i) => {
      const h = results[i * 4]![1] as Record<string, string>;
      const committed = results[i * 4 + 1]![1] as number;
      const gone = results[i * 4 + 2]![1] as number;
      const failed = results[i * 4 + 3]![1] as number;
      if (Object.keys(h).length === 0 && committed + gone + failed === 0) return null;
      return {
        runId,
        trigger: h.trigger || null,
        slot: h.slot || null,
        actor: h.actor || null,
        catchUp: h.catch_up === '1',
        queuedAt: h.queued_at || null,
        startedAt: h.started_at || null,
        fannedOutAt: h.fanned_out_at || null,
        finishedAt: h.finished_at || null,
        cancelledAt: h.cancelled_at || null,
        cancelledBy: h.cancelled_by || null,
        stats: h.stats || null,
        total: h.total === undefined ? null : Number(h.total),
        decided: Number(h.decided ?? 0),
        held: Number(h.held ?? 0),
        circuitOpen: h.circuit_open || null,
        committed,
        gone,
        failed,
      };
    });
  }

  /** Which of these portfolios have committed the run (its marker exists), in one round trip. */
  async committed(portfolioIds: readonly string[], runId: string): Promise<boolean[]> {
    if (portfolioIds.length === 0) return [];
    const pipeline = crossSlot(this.redis);
    for (const id of portfolioIds) pipeline.exists(this.keys.runMarker(id, runId));
    return ((await pipeline.exec()) ?? []).map(([err, n]) => {
      if (err) throw err;
      return n === 1;
    });
  }
}

function throwFirst(results: [Error | null, unknown][] | null): void {
  for (const [err] of results ?? []) if (err) throw err;
}
