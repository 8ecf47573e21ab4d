/**
 * bench:pipeline's measuring: a worker process per measurement, its queue, and one timed run with
 * the worker's RSS and CPU, Redis's CPU, memory and commands over it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Keys } from '../../src/adapters/keys.js';
import { JobQueue } from '../../src/adapters/queue.js';
import type { RedisClient } from '../../src/adapters/redis.js';
import { loadConfig } from '../../src/config.js';
import { portfolioId } from './dataset.js';
import type { BenchMetricsServer } from './metrics-server.js';
import type { SentCounts } from './pipeline-command-count.js';
import type { Measurement, Source } from './pipeline-result.js';
import { cpuSeconds, type NodeProcess, procStatusBytes, RssSampler, spawnNode } from './proc.js';
import { type CommandStats, commandStats, diffStats, redisCpuSeconds, usedMemory } from './redis.js';
import { fmt } from './table.js';

export interface Options {
  portfolios: number;
  size: number;
  businesses: number;
  concurrencies: number[];
  sources: Source[];
  profile: boolean;
  /** Each source's pass again with the worker's app connection auto-pipelining, right after it. */
  autoPipeline: boolean;
  /** One more redis run at the best concurrency without BullMQ (pipeline-ceiling.ts). */
  ceiling: boolean;
  /** Node flags of one more pass at the best concurrency (a heap limit); empty: none. */
  variantArgs: string[];
  logLevel: string;
  /** Portfolios per job of the nightly runs (BALLAST_FANOUT_BLOCK); 1 is a job per portfolio. */
  block: number;
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

/** Node flags that make a worker count the Redis commands it sends (pipeline-command-count.ts). */
export const COUNT_ARGS = [
  '--import',
  fileURLToPath(new URL('./pipeline-command-count.js', import.meta.url)),
];

function sentFile(ctx: Context, queue: string): string {
  return join(ctx.logDir, `${queue}.sent.json`);
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
    BALLAST_FANOUT_BLOCK: String(ctx.opts.block),
    BENCH_COMMAND_COUNT_FILE: sentFile(ctx, queue),
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
  let m: Omit<Measurement, 'sent'>;
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
    m = {
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
  // Written as the worker exited: its whole life, start-up and shut-down included (a few dozen
  // commands against the run's tens of thousands).
  const file = sentFile(ctx, queueName);
  const sent = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SentCounts) : null;
  return { ...m, sent };
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
  let sent: SentCounts | null = null;
  if (a.sent && b.sent) {
    const summed: Record<string, number> = { ...a.sent.commands };
    for (const [name, n] of Object.entries(b.sent.commands)) summed[name] = (summed[name] ?? 0) + n;
    sent = { commands: summed, writes: a.sent.writes + b.sent.writes };
  }
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
    sent,
  };
}

export interface Ceiling {
  readonly perSecond: number;
  readonly cpuMsPerPortfolio: number;
  readonly rssPeakMb: number;
}

/**
 * The redis run's recalculations without BullMQ (pipeline-ceiling.ts), at `concurrency`: the most
 * a chunked fan-out could reach with today's per-portfolio work. Portfolios/s, worker CPU ms per
 * portfolio and RSS peak.
 */
export async function ceiling(
  ctx: Context,
  concurrency: number,
  verify: (runId: string) => Promise<void>,
): Promise<Ceiling> {
  const runId = `bench-ceiling-c${concurrency}-${Date.now()}`;
  const log = join(ctx.logDir, `ceiling-c${concurrency}.log`);
  const proc = spawnNode(
    [join(dirname(ctx.noopScript), 'pipeline-ceiling.js')],
    {
      ...workerEnv(ctx, `ceiling-c${concurrency}`, concurrency, 'redis'),
      BENCH_RUN_ID: runId,
      BENCH_PORTFOLIOS: String(ctx.opts.portfolios),
    },
    log,
  );
  const rss = new RssSampler(proc.pid, 100);
  const code = await proc.exited;
  const peak = rss.stop().peak;
  if (code !== 0) throw new Error(`the ceiling run exited with ${code} (see ${log})`);
  const line = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"ms"'));
  if (!line) throw new Error(`the ceiling run printed no result (see ${log})`);
  const { ms, cpuMs } = JSON.parse(line) as { ms: number; cpuMs: number };
  await verify(runId);
  const n = ctx.opts.portfolios;
  return { perSecond: (n / ms) * 1000, cpuMsPerPortfolio: cpuMs / n, rssPeakMb: peak / 1024 / 1024 };
}

/**
 * Reports are big (~10 KB each, stored four times: SPEC section 6's streams, latest and run
 * marker), so every run adds hundreds of MB to Redis: forget them between runs so that each
 * run starts from the same Redis. Portfolios (and their versions) stay.
 */
async function dropReports(ctx: Context): Promise<void> {
  await ctx.redis.unlink(ctx.keys.reports);
  let cursor = '0';
  do {
    const [next, found] = await ctx.redis.scan(cursor, 'MATCH', `${ctx.prefix}:{pf-*}:r*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await ctx.redis.unlink(...found);
  } while (cursor !== '0');
}

/** Portfolios whose run marker (their report of the run) exists. */
export async function countReports(ctx: Context, runId: string): Promise<number> {
  let found = 0;
  for (let i = 0; i < ctx.opts.portfolios; i += 1000) {
    const p = ctx.redis.pipeline();
    for (let j = i; j < Math.min(ctx.opts.portfolios, i + 1000); j++) {
      // A committed run's marker (its summary and the full report's stream id since reports are
      // stored once; `report` in markers written before).
      p.exists(ctx.keys.runMarker(portfolioId(j), runId));
    }
    for (const [err, exists] of (await p.exec()) ?? []) if (!err && exists === 1) found++;
  }
  return found;
}

export async function verifyReports(ctx: Context, runId: string): Promise<void> {
  const missing = ctx.opts.portfolios - (await countReports(ctx, runId));
  if (missing > 0) throw new Error(`${missing} portfolios have no report for run ${runId}`);
  await dropReports(ctx);
}
