/**
 * The Redis a bench talks to: a private redis-server by default (so the shared one is not
 * disturbed and its numbers are not disturbed by others), BENCH_REDIS_URL when given. Benches
 * write under their own prefix only and delete it at the end (SCAN + UNLINK, never FLUSHALL).
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../src/adapters/redis.js';
import { deletePrefix } from '../../src/adapters/redis-cleanup.js';
import { pingRedis, startPrivateRedis } from '../../src/adapters/redis-launcher.js';

export interface BenchRedis {
  readonly url: string;
  readonly private: boolean;
  stop(): Promise<void>;
}

export async function benchRedis(env: NodeJS.ProcessEnv = process.env): Promise<BenchRedis> {
  const given = env.BENCH_REDIS_URL?.trim();
  if (given) {
    if (!(await pingRedis(given))) throw new Error(`BENCH_REDIS_URL=${given} does not answer PING`);
    return { url: given, private: false, stop: async () => {} };
  }
  // Production settings (SPEC: noeviction); no AOF, so disk speed stays out of the numbers.
  const server = await startPrivateRedis({ extraArgs: ['--maxmemory-policy', 'noeviction'] });
  return { url: server.url, private: true, stop: () => server.stop() };
}

export function benchPrefix(): string {
  return `ballast-bench-${randomBytes(4).toString('hex')}`;
}

export async function cleanUp(redis: RedisClient, prefix: string): Promise<number> {
  return deletePrefix(redis, prefix);
}

export type CommandStats = Map<string, number>;

/** Calls per command since the server started (INFO commandstats; never reset: the Redis may be shared). */
export async function commandStats(redis: RedisClient): Promise<CommandStats> {
  const text = await redis.info('commandstats');
  const stats: CommandStats = new Map();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(match[1]!, Number(match[2]));
  return stats;
}

/** INFO memory's used_memory, in bytes. */
export async function usedMemory(redis: RedisClient): Promise<number> {
  const text = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(text)?.[1] ?? 0);
}

/** CPU seconds the Redis server has used (INFO cpu: used_cpu_user + used_cpu_sys). */
export async function redisCpuSeconds(redis: RedisClient): Promise<number> {
  const text = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

export function diffStats(before: CommandStats, after: CommandStats): CommandStats {
  const diff: CommandStats = new Map();
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0);
    if (delta > 0) diff.set(name, delta);
  }
  return diff;
}

/** Commands that the bench itself or its observer sends, not the worker under test. */
export const OBSERVER_COMMANDS = new Set(['xread', 'info', 'ping', 'client|setname', 'client|list', 'hello']);

/** Per job; see ballastCommands. */
const NOISE = 0.1;

/**
 * Redis commands per recalculation that are Ballast's and not BullMQ's: the pipeline's calls per
 * job minus the no-op baseline's per job (same queue options, same job ids and priority, same
 * chunked addBulk, same observer), command by command. Both include the commands that scripts
 * run (Redis counts redis.call() in commandstats): BullMQ's cancel out against the baseline;
 * Ballast's commit script runs COMMIT_SCRIPT_CALLS of them per recalculation, reported apart.
 */
export function ballastCommands(
  pipeline: CommandStats,
  pipelineJobs: number,
  baseline: CommandStats,
  baselineJobs: number,
): { perCommand: Map<string, number>; total: number } {
  const names = new Set([...pipeline.keys(), ...baseline.keys()]);
  const perCommand = new Map<string, number>();
  let total = 0;
  for (const name of [...names].sort()) {
    if (OBSERVER_COMMANDS.has(name)) continue;
    const residual = (pipeline.get(name) ?? 0) / pipelineJobs - (baseline.get(name) ?? 0) / baselineJobs;
    // BullMQ's own counts wobble by up to ~0.07 per job between runs (how often the
    // queue ran dry, stalled-job checks): below NOISE a residual is not Ballast's.
    if (Math.abs(residual) < NOISE) continue;
    perCommand.set(name, residual);
    total += residual;
  }
  return { perCommand, total };
}

/**
 * Calls made by Ballast's commit script (src/adapters/redis-scripts.ts) on its 'ok' path, in the
 * single-Redis form the bench's worker runs (BALLAST_REDIS_CLUSTER unset): it also appends to
 * the global stream and publishes, so the worker sends neither itself.
 */
export const COMMIT_SCRIPT_CALLS = {
  hget: 2, // the run marker's report, the portfolio's version
  hset: 2, // the portfolio, the run marker
  xadd: 2, // the portfolio's report stream, the global one
  set: 1, // the latest report
  publish: 1, // the live channel
  expire: 1, // the run marker
} as const;
export const COMMIT_SCRIPT_CALLS_TOTAL = Object.values(COMMIT_SCRIPT_CALLS).reduce((a, b) => a + b, 0);
