/**
 * What a run's hashes record, read and written beside the commit script: the outcome of each
 * portfolio, the guards' tally and circuit breaker, the fan-out's total and the portfolios that were
 * gone. Every key expires with the run markers (BALLAST_RUN_MARKER_TTL_S).
 */
import type { Keys } from './keys.js';
import type { ScriptedRedis } from './redis-scripts.js';

/** What a run did to one portfolio, as the run's hash of portfolios records it. */
export type RunOutcome = 'changed' | 'unchanged' | 'held' | 'advisory' | 'skipped' | 'dry-run';

export class RedisRunStore {
  constructor(
    protected readonly redis: ScriptedRedis,
    protected readonly keys: Keys,
    protected readonly options: { readonly markerTtlSeconds: number },
  ) {}

  /** The guards' tally of a run so far, and whether (why) its circuit breaker opened. */
  async runTally(runId: string): Promise<{
    decided: number;
    held: number;
    total: number | null;
    circuitOpen: string | null;
  }> {
    const [decided, held, total, circuit] = await this.redis.hmget(
      this.keys.run(runId),
      'decided',
      'held',
      'total',
      'circuit_open',
    );
    return {
      decided: Number(decided ?? 0),
      held: Number(held ?? 0),
      total: total === null ? null : Number(total),
      circuitOpen: circuit ?? null,
    };
  }

  /**
   * The tally with how many of the run's portfolios are done (committed, or gone), in one round
   * trip: whether the run has ended.
   */
  async runProgress(runId: string): Promise<{
    decided: number;
    held: number;
    total: number | null;
    done: number;
    circuitOpen: string | null;
  }> {
    const results = await this.redis
      .pipeline()
      .hmget(this.keys.run(runId), 'decided', 'held', 'total', 'circuit_open')
      .hlen(this.keys.runPortfolios(runId))
      .scard(this.keys.runGone(runId))
      .exec();
    for (const [err] of results ?? []) if (err) throw err;
    const [decided, held, total, circuit] = results![0]![1] as (string | null)[];
    return {
      decided: Number(decided ?? 0),
      held: Number(held ?? 0),
      total: total === null || total === undefined ? null : Number(total),
      done: (results![1]![1] as number) + (results![2]![1] as number),
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
    for (const [err] of results ?? []) if (err) throw err;
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
}
