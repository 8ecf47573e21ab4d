import {
  changesNothing,
  NotFoundError,
  type Portfolio,
  RefusedError,
  StaleVersionError,
  type WriteMeta,
} from '../domain/index.js';
import { DEFAULT_RETENTION, type RecordArgs, type Retention, recordArgs } from './history-args.js';
import type { Keys } from './keys.js';
import { decodePortfolio, encodePortfolio } from './portfolio-codec.js';
import type { RedisClient } from './redis.js';
import { crossSlot } from './redis-batch.js';
import { type ScriptedRedis, withScripts } from './redis-scripts.js';

export interface StoreOptions {
  /**
   * Redis Cluster (BALLAST_REDIS_CLUSTER): every script stays on one hash slot, so a create
   * writes the document first and the indexes in a second round trip.
   */
  readonly cluster?: boolean | undefined;
  /** Stamps history records and audit entries (and their age-based retention). */
  readonly clock?: (() => Date) | undefined;
  readonly retention?: Retention | undefined;
}

export interface UpdateOptions {
  /** Optimistic retries when another writer got there first. */
  readonly retries?: number;
}

/**
 * Portfolios as versioned documents in Redis. Every write is a compare-and-set on the version
 * (one Lua script on the portfolio's own slot), so concurrent writers never lose an update, and
 * the same script appends the change's history record (and, on one Redis, its audit entry): a
 * write is never without its record. A write that changes nothing is no write.
 */
export class RedisPortfolioStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    private readonly options: StoreOptions = {},
  ) {
    this.redis = withScripts(redis);
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  /** The history record and audit entry of writing `after` over `before`. */
  records(before: Portfolio | null, after: Portfolio, meta: WriteMeta): RecordArgs {
    return recordArgs(before, after, meta, this.now(), this.options.retention ?? DEFAULT_RETENTION);
  }

  /**
   * The audit entry of a write whose script could not reach the audit stream (another hash slot
   * on Redis Cluster): appended right after, at least once.
   */
  async appendAudit(args: RecordArgs): Promise<void> {
    const [nowMs, , auditMaxLen, maxAgeMs] = args.tail;
    await this.redis.ballastAppendRecord(this.keys.audit, args.audit, nowMs, auditMaxLen, maxAgeMs);
  }

  static encode(p: Portfolio): string {
    return encodePortfolio(p);
  }

  static decode(doc: string): Portfolio {
    return decodePortfolio(doc);
  }

  /**
   * The document and both indexes in one script, or nothing at all when the id exists: no index
   * entry without its document (a nightly run would fan out a job for it), and a refused create
   * leaves no entry in another owner's index.
   */
  async create(p: Portfolio, meta: WriteMeta): Promise<Portfolio> {
    const key = this.keys.portfolio(p.id);
    const doc = RedisPortfolioStore.encode(p);
    const args = this.records(null, p, meta);
    if (!this.options.cluster) {
      const result = await this.redis.ballastCreatePortfolio(
        key,
        this.keys.portfolioIndex,
        this.keys.ownerIndex(p.ownerId),
        this.keys.history(p.id),
        this.keys.audit,
        p.id,
        String(p.version),
        doc,
        args.record,
        args.audit,
        ...args.tail,
      );
      if (result === -1) throw new RefusedError(`portfolio ${p.id} already exists`);
      return p;
    }
    // Three hash slots: the document first (refused without a write when the id exists), then the
    // indexes. A create cut off in between leaves a document that no index lists, never an index
    // entry without its document; the operator's retry, refused as "already exists", indexes the
    // stored document (under its own owner) on the way, so that nightly runs see it again.
    const result = await this.redis.ballastWritePortfolio(
      key,
      this.keys.history(p.id),
      'create',
      String(p.version),
      doc,
      args.record,
      args.audit,
      ...args.tail,
    );
    if (result === -1) {
      const stored = await this.get(p.id);
      if (stored) await this.index(stored);
      throw new RefusedError(`portfolio ${p.id} already exists`);
    }
    await this.index(p);
    await this.appendAudit(args);
    return p;
  }

  /** Adds a stored portfolio to the global and owner indexes (idempotent). */
  private async index(p: Portfolio): Promise<void> {
    const results = await crossSlot(this.redis)
      .zadd(this.keys.portfolioIndex, 0, p.id)
      .sadd(this.keys.ownerIndex(p.ownerId), p.id)
      .exec();
    for (const [err] of results ?? []) if (err) throw err;
  }

  /**
   * Removes `id` from the global index if its document is gone (an entry left by an older
   * version's two-step create, or a document deleted by hand); true when it did. A portfolio that
   * exists keeps its entry. Owner indexes are not touched: the owner of a missing document is not
   * known, and readers skip ids without a document anyway.
   */
  async pruneIndexEntry(id: string): Promise<boolean> {
    const key = this.keys.portfolio(id);
    if (!this.options.cluster) {
      return (await this.redis.ballastPruneIndexEntry(key, this.keys.portfolioIndex, id)) === 1;
    }
    // Two slots: remove, then look again. A create writes its document before its index entry,
    // so one that raced with this removal has its document in place by now: its entry goes back.
    if ((await this.redis.exists(key)) === 1) return false;
    const removed = await this.redis.zrem(this.keys.portfolioIndex, id);
    if ((await this.redis.exists(key)) === 1) {
      await this.redis.zadd(this.keys.portfolioIndex, 0, id);
      return false;
    }
    return removed === 1;
  }

  async get(id: string): Promise<Portfolio | null> {
    const doc = await this.redis.hget(this.keys.portfolio(id), 'doc');
    return doc === null ? null : RedisPortfolioStore.decode(doc);
  }

  async require(id: string): Promise<Portfolio> {
    const p = await this.get(id);
    if (!p) throw new NotFoundError(`portfolio ${id} not found`);
    return p;
  }

  /**
   * Writes `next` (whose version must be `before.version + 1`) only if the stored version is
   * still `before.version`, with the history record and audit entry of the change.
   */
  async compareAndSet(before: Portfolio, next: Portfolio, meta: WriteMeta): Promise<void> {
    if (next.version !== before.version + 1) {
      throw new Error(
        `a write goes from version ${before.version} to ${before.version + 1}, not ${next.version}`,
      );
    }
    const args = this.records(before, next, meta);
    const keys = [this.keys.portfolio(next.id), this.keys.history(next.id)];
    const argv = [
      String(before.version),
      String(next.version),
      RedisPortfolioStore.encode(next),
      args.record,
      args.audit,
      ...args.tail,
    ];
    const result = this.options.cluster
      ? await this.redis.ballastWritePortfolio(...keys, ...argv)
      : await this.redis.ballastWritePortfolioAudited(...keys, this.keys.audit, ...argv);
    if (result === -2) throw new NotFoundError(`portfolio ${next.id} not found`);
    if (result !== 0) throw new StaleVersionError(before.version, result);
    if (this.options.cluster) await this.appendAudit(args);
  }

  /**
   * Deletes `p` if its stored version is still `p.version`: every key of the portfolio, its index
   * entries, and an audit entry (its allocations removed, `meta` saying who and why). Run markers
   * are left to expire with their run.
   */
  async delete(p: Portfolio, meta: WriteMeta): Promise<void> {
    const gone: Portfolio = { ...p, allocations: [], version: p.version + 1 };
    const args = this.records(p, gone, meta);
    const k = this.keys;
    const keys = [
      k.portfolio(p.id),
      k.portfolioIndex,
      k.ownerIndex(p.ownerId),
      k.portfolioReports(p.id),
      k.latestReport(p.id),
      k.history(p.id),
      k.proposal(p.id),
      k.metricsBaseline(p.id),
    ];
    const argv = [String(p.version), p.id, args.audit, ...args.tail];
    // On Cluster a script may declare keys of one slot only: the index keys (not touched by the
    // 8-key form) are stood in for by the portfolio's own key.
    const result = this.options.cluster
      ? await this.redis.ballastDeletePortfolio(keys[0]!, keys[0]!, keys[0]!, ...keys.slice(3), ...argv)
      : await this.redis.ballastDeletePortfolioAudited(...keys, k.proposals, k.audit, ...argv);
    if (result === -2) throw new NotFoundError(`portfolio ${p.id} not found`);
    if (result !== 0) throw new StaleVersionError(p.version, result);
    if (this.options.cluster) {
      // Other slots: the indexes after the document (readers skip ids without one), then the audit.
      await this.redis.zrem(k.portfolioIndex, p.id);
      await this.redis.srem(k.ownerIndex(p.ownerId), p.id);
      await this.redis.zrem(k.proposals, p.id);
      await this.appendAudit(args);
    }
  }

  /**
   * Read, change, compare-and-set; on a conflict read again and re-apply `change` to the new
   * version. Domain refusals thrown by `change` go straight to the caller. A change that changes
   * nothing (same settings, allocations and order) writes nothing and returns the portfolio as
   * it is, version included.
   */
  async update(
    id: string,
    change: (p: Portfolio) => Portfolio,
    meta: WriteMeta,
    options: UpdateOptions = {},
  ): Promise<Portfolio> {
    const retries = options.retries ?? 100;
    for (let attempt = 0; ; attempt++) {
      const current = await this.require(id);
      const next = change(current);
      if (changesNothing(current, next)) return current;
      try {
        await this.compareAndSet(current, { ...next, version: current.version + 1 }, meta);
        return { ...next, version: current.version + 1 };
      } catch (err) {
        if (!(err instanceof StaleVersionError) || attempt >= retries) throw err;
        // Jittered pause so that a crowd of writers spreads out instead of colliding again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.keys.portfolioIndex);
  }

  /** One page of ids in id order, starting after `after`. */
  async listIds(options: { after?: string | undefined; limit: number }): Promise<string[]> {
    const start = options.after === undefined ? '-' : `(${options.after}`;
    return this.redis.zrangebylex(this.keys.portfolioIndex, start, '+', 'LIMIT', 0, options.limit);
  }

  /** Every id, a chunk at a time: the caller never holds all of them. */
  async *idChunks(chunkSize: number): AsyncGenerator<string[]> {
    let after: string | undefined;
    for (;;) {
      const ids = await this.listIds({ after, limit: chunkSize });
      if (ids.length === 0) return;
      yield ids;
      after = ids[ids.length - 1];
      if (ids.length < chunkSize) return;
    }
  }

  async ownerIds(ownerId: string): Promise<string[]> {
    const ids = await this.redis.smembers(this.keys.ownerIndex(ownerId));
    return ids.sort();
  }

  /** Portfolios by id, skipping ids whose document is gone. One round trip. */
  async getMany(ids: readonly string[]): Promise<Portfolio[]> {
    if (ids.length === 0) return [];
    const pipeline = crossSlot(this.redis);
    for (const id of ids) pipeline.hget(this.keys.portfolio(id), 'doc');
    const results = (await pipeline.exec()) ?? [];
    const out: Portfolio[] = [];
    for (const [err, doc] of results) {
      if (err) throw err;
      if (typeof doc === 'string') out.push(RedisPortfolioStore.decode(doc));
    }
    return out;
  }
}
