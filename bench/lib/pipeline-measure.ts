/**
 * bench:pipeline's measuring: a worker process per measurement, its queue, and one timed run with
 * the worker's RSS and CPU, Redis's CPU, memory and commands over it.
 */
import type { RedisClient } from '../../src/adapters/redis.js';
import type { Keys } from '../../src/adapters/keys.js';
import { JobQueue } from '../../src/adapters/queue.js';
import { loadConfig } from '../../src/config.js';
import type { BenchMetricsServer } from './metrics-server.js';
import type { Measurement, Source } from './pipeline-result.js';
import { cpuSeconds, type NodeProcess, procStatusBytes, RssSampler } from './proc.js';
import { type CommandStats, commandStats, diffStats, redisCpuSeconds, usedMemory } from './redis.js';
import { fmt } from './table.js';

export interface Options {
  portfolios: number;
  size: number;
  businesses: number;
  concurrencies: number[];
  sources: Source[];
  profile: boolean;
  /** Node flags of one more pass at the best concurrency (a heap limit); empty: none. */
  variantArgs: string[];
  logLevel: string;
  /** Extra node flags for the ballast worker (e.g. heap limits), space-separated. */
  nodeArgs: string[];
  out: string | undefined;
}

/** A run that makes no progress for this long has hung: fail rather than wait forever. */
const STALL_MS = 60_000;

export interface Context {
  readonly opts: Options;
  readonly url: string;
  readonly prefix: string;
  readonly keys: Keys;
  readonly redis: RedisClient;
  readonly server: BenchMetricsServer;
  readonly logDir: string;
  readonly bin: string;
  readonly noopScript: string;
}

export function workerEnv(
  ctx: Context,
  queue: string,
  concurrency: number,
  source: Source,
): Record<string, string> {
  return {
    REDIS_URL: ctx.url,
    BALLAST_PREFIX: ctx.prefix,
    BALLAST_QUEUE: queue,
    BALLAST_CONCURRENCY: String(concurrency),
    BALLAST_METRICS_SOURCE: source,
    BALLAST_METRICS_URL: ctx.server.url,
    BALLAST_LOG_LEVEL: ctx.opts.logLevel,
  };
}

export function jobQueue(ctx: Context, queue: string): JobQueue {
  const config = loadConfig({ REDIS_URL: ctx.url, BALLAST_PREFIX: ctx.prefix, BALLAST_QUEUE: queue });
  return new JobQueue(config, ctx.keys, ctx.redis);
}

export async function waitForWorker(queue: JobQueue, proc: NodeProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  while ((await queue.queue.getWorkersCount()) < 1) {
    if (exited) throw new Error('the worker process exited before it was ready (see its log)');
    if (Date.now() > deadline) throw new Error('the worker process was not ready within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Jobs done, or jobs done and when the newest finished (epoch ms) when that had to be read from
 * BullMQ because events were lost.
 */
export type RunResult = number | { readonly jobs: number; readonly lastFinishedOn: number };

/** When no event has come for this long, the bench reads the queue instead (events are best-effort). */
export const QUIET_MS = 2000;

/** finishedOn of the newest completed job (BullMQ keeps the newest ones). */
export async function newestFinishedOn(queue: JobQueue): Promise<number> {
  const [newest] = await queue.queue.getJobs(['completed'], 0, 0, false);
  if (!newest?.finishedOn) throw new Error('no completed job to time the run by');
  return newest.finishedOn;
}

/** Rejects when `progress()` has not moved for STALL_MS. */
export function stallGuard(
  progress: () => number,
  what: string,
): { promise: Promise<never>; stop: () => void } {
  let last = -1;
  let since = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = progress();
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since > STALL_MS) {
        reject(new Error(`${what}: no progress for ${STALL_MS / 1000} s (at ${now})`));
      }
    }, 1000);
  });
  promise.catch(() => {});
  return { promise, stop: () => clearInterval(timer) };
}

export async function measure(
  ctx: Context,
  label: string,
  spawnWorker: (queue: string) => NodeProcess,
  run: (queue: JobQueue) => Promise<RunResult>,
  verify: () => Promise<void> = async () => {},
): Promise<Measurement> {
  const queueName = label;
  const queue = jobQueue(ctx, queueName);
  const proc = spawnWorker(queueName);
  try {
    await waitForWorker(queue, proc);
    // Let the worker settle (its first blocking fetch, the stalled-jobs check).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rss = new RssSampler(proc.pid, 100);
    const memoryBefore = await usedMemory(ctx.redis);
    const before = await commandStats(ctx.redis);
    const redisCpuBefore = await redisCpuSeconds(ctx.redis);
    const workerCpuBefore = cpuSeconds(proc.pid) ?? 0;
    const wallStarted = Date.now();
    const started = performance.now();
    const result = await run(queue);
    let ms = performance.now() - started;
    const jobs = typeof result === 'number' ? result : result.jobs;
    if (typeof result !== 'number') {
      // QueueEvents lost the run's last events (BullMQ trims its event stream): the run ended
      // when its newest job finished, not when the bench noticed.
      ms = Math.min(ms, result.lastFinishedOn - wallStarted);
      console.warn(`  (${label}: completion events were lost; timed to the newest job's finishedOn)`);
    }
    const workerCpu = (((cpuSeconds(proc.pid) ?? 0) - workerCpuBefore) * 1000 * 100) / ms;
    const redisCpu = (((await redisCpuSeconds(ctx.redis)) - redisCpuBefore) * 1000 * 100) / ms;
    const after = await commandStats(ctx.redis);
    const redisMemory = (await usedMemory(ctx.redis)) - memoryBefore;
    const sampled = rss.stop();
    const hwm = procStatusBytes(proc.pid, 'VmHWM') ?? 0;
    await verify();
    return {
      jobs,
      ms,
      perSecond: (jobs / ms) * 1000,
      rssPeak: Math.max(hwm, sampled.peak),
      rssIdle: sampled.first,
      commands: diffStats(before, after),
      redisMemory,
      workerCpu,
      redisCpu,
    };
  } finally {
    const code = await proc.stop();
    if (code !== 0) console.warn(`  (worker ${label} exited with ${code})`);
    await queue.queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

export function describe(m: Measurement): string {
  return `${fmt.int(m.perSecond)} jobs/s (${(m.ms / 1000).toFixed(2)} s), RSS peak ${fmt.mb(m.rssPeak)}, CPU worker ${m.workerCpu.toFixed(0)}% Redis ${m.redisCpu.toFixed(0)}%`;
}

/** Two measurements as one: total jobs over total time, commands summed. */
export function combine(a: Measurement, b: Measurement): Measurement {
  const commands: CommandStats = new Map(a.commands);
  for (const [name, calls] of b.commands) commands.set(name, (commands.get(name) ?? 0) + calls);
  const jobs = a.jobs + b.jobs;
  const ms = a.ms + b.ms;
  return {
    jobs,
    ms,
    perSecond: (jobs / ms) * 1000,
    rssPeak: Math.max(a.rssPeak, b.rssPeak),
    rssIdle: a.rssIdle,
    commands,
    redisMemory: Math.max(a.redisMemory, b.redisMemory),
    workerCpu: (a.workerCpu * a.ms + b.workerCpu * b.ms) / ms,
    redisCpu: (a.redisCpu * a.ms + b.redisCpu * b.ms) / ms,
  };
}
