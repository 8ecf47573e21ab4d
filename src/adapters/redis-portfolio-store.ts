import type { Redis } from 'ioredis';
import { NotFoundError, type Portfolio, RefusedError, StaleVersionError } from '../domain/index.js';
import type { Keys } from './keys.js';
import { decodePortfolio, encodePortfolio } from './portfolio-codec.js';
import { type ScriptedRedis, withScripts } from './redis-scripts.js';

export interface StoreOptions {
  /**
   * Redis Cluster (BALLAST_REDIS_CLUSTER): every script stays on one hash slot, so a create
   * writes the document first and the indexes in a second round trip.
   */
  readonly cluster?: boolean | undefined;
}

export interface UpdateOptions {
  /** Optimistic retries when another writer got there first. */
  readonly retries?: number;
}

/**
 * Portfolios as versioned documents in Redis. Every write is a compare-and-set on the version
 * (one Lua script on the portfolio's own slot), so concurrent writers never lose an update.
 */
export class RedisPortfolioStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
    private readonly options: StoreOptions = {},
  ) {
    this.redis = withScripts(redis);
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
  async create(p: Portfolio): Promise<Portfolio> {
    const key = this.keys.portfolio(p.id);
    const doc = RedisPortfolioStore.encode(p);
    if (!this.options.cluster) {
      const result = await this.redis.ballastCreatePortfolio(
        key,
        this.keys.portfolioIndex,
        this.keys.ownerIndex(p.ownerId),
        p.id,
        String(p.version),
        doc,
      );
      if (result === -1) throw new RefusedError(`portfolio ${p.id} already exists`);
      return p;
    }
    // Three hash slots: the document first (refused without a write when the id exists), then the
    // indexes. A create cut off in between leaves a document that no index lists, never an index
    // entry without its document; the operator's retry, refused as "already exists", indexes the
    // stored document (under its own owner) on the way, so that nightly runs see it again.
    const result = await this.redis.ballastWritePortfolio(key, 'create', String(p.version), doc);
    if (result === -1) {
      const stored = await this.get(p.id);
      if (stored) await this.index(stored);
      throw new RefusedError(`portfolio ${p.id} already exists`);
    }
    await this.index(p);
    return p;
  }

  /** Adds a stored portfolio to the global and owner indexes (idempotent). */
  private async index(p: Portfolio): Promise<void> {
    const results = await this.redis
      .pipeline()
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

  /** Writes `next` only if the stored version is still `expectedVersion`. */
  async compareAndSet(next: Portfolio, expectedVersion: number): Promise<void> {
    const result = await this.redis.ballastWritePortfolio(
      this.keys.portfolio(next.id),
      String(expectedVersion),
      String(next.version),
      RedisPortfolioStore.encode(next),
    );
    if (result === -2) throw new NotFoundError(`portfolio ${next.id} not found`);
    if (result !== 0) throw new StaleVersionError(expectedVersion, result);
  }

  /**
   * Read, change, compare-and-set; on a conflict read again and re-apply `change` to the new
   * version. Domain refusals thrown by `change` go straight to the caller.
   */
  async update(
    id: string,
    change: (p: Portfolio) => Portfolio,
    options: UpdateOptions = {},
  ): Promise<Portfolio> {
    const retries = options.retries ?? 100;
    for (let attempt = 0; ; attempt++) {
      const current = await this.require(id);
      const next = change(current);
      if (next === current) return current;
      try {
        await this.compareAndSet({ ...next, version: current.version + 1 }, current.version);
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
    const pipeline = this.redis.pipeline();
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
