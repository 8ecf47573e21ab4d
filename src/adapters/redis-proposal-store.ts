import {
  type Baseline,
  baselineFromJson,
  type Portfolio,
  type Proposal,
  proposalFromWire,
} from '../domain/index.js';
import type { RecordArgs } from './history-args.js';
import type { Keys } from './keys.js';
import type { RedisClient } from './redis.js';
import { crossSlot } from './redis-batch.js';
import { RedisPortfolioStore } from './redis-portfolio-store.js';
import { type ScriptedRedis, withScripts } from './redis-scripts.js';

/** How approving or rejecting a proposal ended in Redis. */
export type ResolveResult =
  | { readonly status: 'ok' }
  /** The proposal is no longer the one asked about: replaced by a later run, or expired. */
  | { readonly status: 'gone' }
  /** The portfolio no longer exists. */
  | { readonly status: 'missing' }
  /** The portfolio moved past the proposal's version. */
  | { readonly status: 'stale'; readonly version: number };

/**
 * Pending proposals (held recommendations), one per portfolio, and the metrics baselines the
 * jump guard compares against. The run's commit script writes both (redis-report-store.ts);
 * this store reads them and resolves a proposal (approve or reject) in one script.
 */
export class RedisProposalStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    private readonly options: { readonly cluster?: boolean; readonly clock: () => Date },
  ) {
    this.redis = withScripts(redis);
  }

  async get(portfolioId: string): Promise<Proposal | null> {
    const fields = await this.redis.hmget(
      this.keys.proposal(portfolioId),
      'proposal',
      'supersedes_report',
      'supersedes_run',
    );
    return read(fields);
  }

  /** The figures the portfolio's weights were last set from; null before its first run. */
  async baseline(portfolioId: string): Promise<Baseline | null> {
    const json = await this.redis.get(this.keys.metricsBaseline(portfolioId));
    return json === null ? null : baselineFromJson(json);
  }

  /** How many portfolios have a proposal that has not expired. */
  async count(): Promise<number> {
    return this.redis.zcount(this.keys.proposals, `(${this.options.clock().getTime()}`, '+inf');
  }

  /**
   * Pending proposals, the longest-waiting first, at most `limit`. Index entries whose proposal
   * has expired are dropped on the way.
   */
  async list(limit: number): Promise<Proposal[]> {
    const now = this.options.clock().getTime();
    const ids = await this.redis.zrangebyscore(this.keys.proposals, `(${now}`, '+inf', 'LIMIT', 0, limit);
    if (ids.length === 0) return [];
    const pipeline = crossSlot(this.redis);
    for (const id of ids)
      pipeline.hmget(this.keys.proposal(id), 'proposal', 'supersedes_report', 'supersedes_run');
    const results = (await pipeline.exec()) ?? [];
    const out: Proposal[] = [];
    const stale: string[] = [];
    results.forEach(([err, fields], i) => {
      if (err) throw err;
      const proposal = read(fields as (string | null)[]);
      if (proposal) out.push(proposal);
      else stale.push(ids[i]!);
    });
    // Only entries whose proposal is still gone: a run may set a new one meanwhile. On Redis
    // Cluster the two keys are in different slots: the index is trimmed by expiry instead.
    if (stale.length > 0 && !this.options.cluster) {
      const prune = this.redis.pipeline() as unknown as Pick<ScriptedRedis, 'ballastPruneIndexEntry'> & {
        exec(): Promise<unknown>;
      };
      for (const id of stale) prune.ballastPruneIndexEntry(this.keys.proposal(id), this.keys.proposals, id);
      await prune.exec();
    }
    return out;
  }

  /**
   * Approve: write `next` (compare-and-set on `before`'s version) with its history record, accept
   * the proposal's metrics as the baseline and remove the proposal, if the proposal is still
   * `reportId`. Reject: remove it and record the audit entry. Both in one script on one Redis; on
   * Redis Cluster the audit entry and the index follow in a second round trip.
   */
  async resolve(
    input:
      | {
          readonly op: 'approve';
          readonly reportId: string;
          readonly before: Portfolio;
          readonly next: Portfolio;
          readonly records: RecordArgs;
        }
      | {
          readonly op: 'reject';
          readonly reportId: string;
          readonly portfolioId: string;
          readonly records: RecordArgs;
        },
  ): Promise<ResolveResult> {
    const portfolioId = input.op === 'approve' ? input.next.id : input.portfolioId;
    const k = this.keys;
    const keys = [
      k.proposal(portfolioId),
      k.portfolio(portfolioId),
      k.history(portfolioId),
      k.metricsBaseline(portfolioId),
    ];
    const r = input.records;
    const argv = [
      input.op,
      input.reportId,
      input.op === 'approve' ? String(input.before.version) : '',
      input.op === 'approve' ? String(input.next.version) : '',
      input.op === 'approve' ? RedisPortfolioStore.encode(input.next) : '',
      input.op === 'approve' ? r.record : '',
      r.audit,
      ...r.tail,
      portfolioId,
    ];
    const [status, value] = this.options.cluster
      ? await this.redis.ballastResolveProposal(...keys, ...argv)
      : await this.redis.ballastResolveProposalAudited(...keys, k.audit, k.proposals, ...argv);
    if (status === 'ok' && this.options.cluster) {
      const [nowMs, , auditMaxLen, maxAgeMs] = r.tail;
      await this.redis.ballastAppendRecord(k.audit, r.audit, nowMs, auditMaxLen, maxAgeMs);
      await this.redis.zrem(k.proposals, portfolioId);
    }
    switch (status) {
      case 'ok':
        return { status: 'ok' };
      case 'stale':
        return { status: 'stale', version: Number(value) };
      case 'missing':
        return { status: 'missing' };
      default:
        return { status: 'gone' };
    }
  }
}

function read(fields: readonly (string | null)[]): Proposal | null {
  const [json, supersedesReport, supersedesRun] = fields;
  if (!json) return null;
  const proposal = proposalFromWire(JSON.parse(json));
  return supersedesReport
    ? { ...proposal, supersedes: { reportId: supersedesReport, runId: supersedesRun ?? '' } }
    : proposal;
}
