/**
 * The nightly pipeline end to end (issue 6, item 1; SPEC section 5 "Speed"): 10,000 portfolios
 * of 20 businesses drawn from 2,000, through one `ballast worker` process, BullMQ and Redis,
 * against BullMQ processing as many no-op jobs with one process at the same concurrency, in the
 * same run, on the same Redis. Run with `npm run bench:pipeline` (options: --help).
 *
 * For each concurrency: the no-op baseline, then a nightly run with metrics from Redis, then one
 * with metrics from an HTTP server that the bench runs itself. Every measurement has a fresh
 * worker process (spawned like an operator would: `node bin/ballast.js worker`, logs at info to
 * a file) and its own queue; portfolios are seeded once. Throughput is timed from the enqueue
 * (the nightly job; the baseline's first addBulk) to the last job's completion event.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { nightlyJobId, type RecalculatePayload, recalculateJobId } from '../jobs/payloads.js';
import { createKeys, type Keys } from '../src/adapters/keys.js';
import { importMetrics } from '../src/adapters/metrics/index.js';
import { JobQueue, NIGHTLY_PRIORITY, OPERATOR_PRIORITY } from '../src/adapters/queue.js';
import { createRedis } from '../src/adapters/redis.js';
import { RedisPortfolioStore } from '../src/adapters/redis-portfolio-store.js';
import { loadConfig } from '../src/config.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { type ProfileSummary, summariseProfile } from './lib/cpuprofile.js';
import { makeMetrics, makePortfolio, portfolioId, seedPortfolios } from './lib/dataset.js';
import { type BenchMetricsServer, startBenchMetricsServer } from './lib/metrics-server.js';
import { cpuSeconds, type NodeProcess, procStatusBytes, RssSampler, spawnNode } from './lib/proc.js';
import {
  ballastCommands,
  benchPrefix,
  benchRedis,
  COMMIT_SCRIPT_CALLS_TOTAL,
  type CommandStats,
  cleanUp,
  commandStats,
  diffStats,
  redisCpuSeconds,
  usedMemory,
} from './lib/redis.js';
import { fmt, formatTable } from './lib/table.js';

const SEED = 20_250_601;
const RSS_TARGET_BYTES = 200 * 1024 * 1024;
const RATIO_TARGET = 0.5;
const COMMANDS_TARGET = 6;
/** The fan-out's chunk (BALLAST_FANOUT_CHUNK default): the baseline adds its jobs the same way. */
const CHUNK = 500;
/** The NODE_OPTIONS the Docker image runs Ballast with, read from the Dockerfile so they cannot drift. */
const IMAGE_NODE_OPTIONS = (() => {
  const dockerfile = readFileSync(join(packageRoot(), 'Dockerfile'), 'utf8');
  const found = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1];
  if (!found) throw new Error('Dockerfile sets no ENV NODE_OPTIONS="..."; pass --variant-node-args');
  return found;
})();
/** A run that makes no progress for this long has hung: fail rather than wait forever. */
const STALL_MS = 60_000;

type Source = 'redis' | 'http';

interface Options {
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

interface Measurement {
  readonly jobs: number;
  readonly ms: number;
  readonly perSecond: number;
  readonly rssPeak: number;
  readonly rssIdle: number;
  readonly commands: CommandStats;
  /** Growth of Redis's used_memory over the run (reports, job hashes). */
  readonly redisMemory: number;
  /** CPU time over the run's wall time, in percent of one core. */
  readonly workerCpu: number;
  readonly redisCpu: number;
}

export interface PipelineRow {
  readonly concurrency: number;
  readonly source: Source;
  readonly portfolios: number;
  readonly seconds: number;
  readonly portfoliosPerSecond: number;
  readonly baselineJobsPerSecond: number;
  readonly ratio: number;
  readonly rssPeakMb: number;
  readonly rssIdleMb: number;
  /** Ballast's Redis commands per recalculation, as sent by the worker (script internals apart). */
  readonly commandsPerRecalculation: number;
  /** Ballast's commands per recalculation as Redis executes them, script internals included. */
  readonly commandsExecutedPerRecalculation: number;
  readonly perCommand: Record<string, number>;
  readonly metricsCallsPerBusiness: number;
  /** Redis used_memory growth over the run, in MB (deleted again before the next run). */
  readonly redisMemoryMb: number;
  /** Percent of one core over the run: the worker process, the Redis server, the baseline's worker. */
  readonly workerCpuPercent: number;
  readonly redisCpuPercent: number;
  readonly baselineWorkerCpuPercent: number;
  readonly baselineRedisCpuPercent: number;
}

export interface PipelineResult {
  readonly bench: 'pipeline';
  readonly date: string;
  readonly portfolios: number;
  readonly businessesPerPortfolio: number;
  readonly distinctBusinesses: number;
  readonly seedSeconds: number;
  /** Load average (1 min) when the bench started and ended: other work on the machine. */
  readonly loadAverage: readonly [number, number];
  readonly baselineRuns: readonly { concurrency: number; before: number; after: number; combined: number }[];
  readonly baselinePerJobCommands: Record<string, number>;
  readonly rows: readonly PipelineRow[];
  readonly best: Record<Source, PipelineRow | null>;
  readonly profile: (ProfileSummary & { concurrency: number; source: Source }) | null;
  /** One more redis pass at the best concurrency with other node flags (a heap limit). */
  readonly variant: {
    readonly nodeArgs: string;
    readonly concurrency: number;
    readonly portfoliosPerSecond: number;
    readonly ratio: number;
    readonly rssPeakMb: number;
  } | null;
  readonly targets: {
    readonly ratio: { target: number; value: number | null; pass: boolean };
    readonly rssMb: { target: number; value: number; pass: boolean };
    readonly commands: { target: number; value: number | null; pass: boolean };
    readonly metricsCalls: { target: number; value: number | null; pass: boolean };
  };
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      portfolios: { type: 'string', default: '10000' },
      size: { type: 'string', default: '20' },
      businesses: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '10,50,100' },
      sources: { type: 'string', default: 'redis,http' },
      'skip-profile': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      'node-args': { type: 'string', default: '' },
      // The Docker image's NODE_OPTIONS (Dockerfile).
      'variant-node-args': { type: 'string', default: IMAGE_NODE_OPTIONS },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node dist/bench/pipeline.js [--portfolios 10000] [--size 20] [--businesses 2000]\n' +
        '  [--concurrency 10,50,100] [--sources redis,http] [--skip-profile] [--log-level info] [--node-args="--max-old-space-size=512"]\n' +
        `  [--variant-node-args="${IMAGE_NODE_OPTIONS}" (one more pass at the best concurrency; "" for none)] [--out file.json]\n` +
        'Redis: a private redis-server, or BENCH_REDIS_URL (keys under a bench-only prefix, deleted at the end).',
    );
    process.exit(0);
  }
  const sources = values.sources.split(',').map((s) => s.trim());
  for (const s of sources) if (s !== 'redis' && s !== 'http') throw new Error(`unknown source ${s}`);
  return {
    portfolios: Number(values.portfolios),
    size: Number(values.size),
    businesses: Number(values.businesses),
    concurrencies: values.concurrency.split(',').map(Number),
    sources: sources as Source[],
    profile: !values['skip-profile'],
    variantArgs: values['variant-node-args'].split(' ').filter((a) => a !== ''),
    logLevel: values['log-level'],
    nodeArgs: values['node-args'].split(' ').filter((a) => a !== ''),
    out: values.out,
  };
}

interface Context {
  readonly opts: Options;
  readonly url: string;
  readonly prefix: string;
  readonly keys: Keys;
  readonly redis: Redis;
  readonly server: BenchMetricsServer;
  readonly logDir: string;
  readonly bin: string;
  readonly noopScript: string;
}

function workerEnv(ctx: Context, queue: string, concurrency: number, source: Source): Record<string, string> {
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

function jobQueue(ctx: Context, queue: string): JobQueue {
  const config = loadConfig({ REDIS_URL: ctx.url, BALLAST_PREFIX: ctx.prefix, BALLAST_QUEUE: queue });
  return new JobQueue(config, ctx.keys, ctx.redis);
}

async function waitForWorker(queue: JobQueue, proc: NodeProcess): Promise<void> {
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
type RunResult = number | { readonly jobs: number; readonly lastFinishedOn: number };

/** When no event has come for this long, the bench reads the queue instead (events are best-effort). */
const QUIET_MS = 2000;

/** finishedOn of the newest completed job (BullMQ keeps the newest ones). */
async function newestFinishedOn(queue: JobQueue): Promise<number> {
  const [newest] = await queue.queue.getJobs(['completed'], 0, 0, false);
  if (!newest?.finishedOn) throw new Error('no completed job to time the run by');
  return newest.finishedOn;
}

/** Rejects when `progress()` has not moved for STALL_MS. */
function stallGuard(progress: () => number, what: string): { promise: Promise<never>; stop: () => void } {
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

async function measure(
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

function describe(m: Measurement): string {
  return `${fmt.int(m.perSecond)} jobs/s (${(m.ms / 1000).toFixed(2)} s), RSS peak ${fmt.mb(m.rssPeak)}, CPU worker ${m.workerCpu.toFixed(0)}% Redis ${m.redisCpu.toFixed(0)}%`;
}

/** Two measurements as one: total jobs over total time, commands summed. */
function combine(a: Measurement, b: Measurement): Measurement {
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

async function baseline(ctx: Context, concurrency: number, tag: string): Promise<Measurement> {
  const n = ctx.opts.portfolios;
  const label = `noop-c${concurrency}-${tag}`;
  return measure(
    ctx,
    label,
    (queue) =>
      spawnNode(
        [ctx.noopScript],
        workerEnv(ctx, queue, concurrency, 'redis'),
        join(ctx.logDir, `${label}.log`),
      ),
    async (queue) => {
      const runId = label;
      const events = await queue.events(ctx.redis);
      let completed = 0;
      let failed = 0;
      const guard = stallGuard(() => completed + failed, 'no-op baseline');
      let quiet: NodeJS.Timeout | undefined;
      try {
        let lastEventAt = Date.now();
        let added = false;
        const done = new Promise<RunResult>((resolve) => {
          const check = () => {
            lastEventAt = Date.now();
            if (completed + failed >= n) resolve(completed);
          };
          events.on('completed', () => {
            completed++;
            check();
          });
          events.on('failed', () => {
            failed++;
            check();
          });
          // Lost events: once everything is added and nothing is left to run, the queue says how
          // it went.
          quiet = setInterval(() => {
            if (!added || Date.now() - lastEventAt < QUIET_MS) return;
            lastEventAt = Date.now();
            queue
              .counts()
              .then(async (counts) => {
                const left = counts.waiting! + counts.active! + counts.prioritized! + counts.delayed!;
                if (left > 0) return;
                failed = counts.failed!;
                resolve({ jobs: n - failed, lastFinishedOn: await newestFinishedOn(queue) });
              })
              // A failed read: the next quiet check tries again (the stall guard bounds it all).
              .catch(() => {});
          }, 250);
        });
        // The same jobs as the fan-out adds (payload shape, ids, priority, options), the same way.
        for (let i = 0; i < n; i += CHUNK) {
          const chunk = [];
          for (let j = i; j < Math.min(n, i + CHUNK); j++) {
            const data: RecalculatePayload = {
              portfolioId: portfolioId(j),
              runId,
              trigger: 'manual',
              dryRun: false,
              catchUp: false,
              fanOut: true,
            };
            chunk.push({
              name: 'noop',
              data,
              jobId: recalculateJobId(runId, portfolioId(j)),
              priority: NIGHTLY_PRIORITY,
            });
          }
          await queue.addBulk(chunk);
        }
        added = true;
        const result = await Promise.race([done, guard.promise]);
        if (failed > 0) throw new Error(`${failed} no-op jobs failed`);
        return result;
      } finally {
        clearInterval(quiet);
        guard.stop();
        await events.close();
      }
    },
  );
}

async function pipeline(
  ctx: Context,
  concurrency: number,
  source: Source,
  nodeArgs: readonly string[] = [],
  tag = '',
): Promise<Measurement> {
  const label = `pipe-${source}-c${concurrency}${tag}`;
  const runId = `bench-${source}-c${concurrency}${tag}-${Date.now()}`;
  return measure(
    ctx,
    label,
    (queue) =>
      spawnNode(
        [ctx.bin, 'worker'],
        workerEnv(ctx, queue, concurrency, source),
        join(ctx.logDir, `${label}.log`),
        [...ctx.opts.nodeArgs, ...nodeArgs],
      ),
    async (queue) => {
      const events = await queue.events(ctx.redis);
      let done = 0;
      const guard = stallGuard(() => done, `pipeline ${label}`);
      const stop = new AbortController();
      try {
        const jobId = nightlyJobId(runId);
        let reconciled = false;
        const watching = queue.watchRun(
          events,
          runId,
          jobId,
          (p) => {
            done = p.completed + p.failed;
          },
          {
            // Lost events: count the reports committed (the bench's portfolios never fail).
            reconcile: async () => {
              const recorded = await ctx.redis.hget(ctx.keys.run(runId), 'total');
              const total = recorded === null ? null : Number(recorded);
              const completed = total === null ? 0 : await countReports(ctx, runId);
              // Only a complete count ends the watch (and so decides how the pass is timed).
              if (total !== null && completed >= total) reconciled = true;
              return { total, completed, failed: 0, failures: [] };
            },
            quietMs: QUIET_MS,
            signal: stop.signal,
          },
        );
        await queue.add({
          name: 'nightly',
          data: { runId, trigger: 'manual' },
          jobId,
          priority: OPERATOR_PRIORITY,
        });
        const progress = await Promise.race([watching, guard.promise]);
        if (progress.failed > 0) {
          throw new Error(
            `${progress.failed} portfolios failed, e.g. ${progress.failures[0]?.jobId}: ${progress.failures[0]?.reason}`,
          );
        }
        if (progress.total !== ctx.opts.portfolios) {
          throw new Error(`the run fanned out ${progress.total} portfolios, not ${ctx.opts.portfolios}`);
        }
        return reconciled
          ? { jobs: progress.completed, lastFinishedOn: await newestFinishedOn(queue) }
          : progress.completed;
      } finally {
        stop.abort();
        guard.stop();
        await events.close();
      }
    },
    // Every portfolio has its run marker (its report): checked once the clock and the counts stopped.
    () => verifyReports(ctx, runId),
  );
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
async function countReports(ctx: Context, runId: string): Promise<number> {
  let found = 0;
  for (let i = 0; i < ctx.opts.portfolios; i += 1000) {
    const p = ctx.redis.pipeline();
    for (let j = i; j < Math.min(ctx.opts.portfolios, i + 1000); j++) {
      p.hexists(ctx.keys.runMarker(portfolioId(j), runId), 'report');
    }
    for (const [err, exists] of (await p.exec()) ?? []) if (!err && exists === 1) found++;
  }
  return found;
}

async function verifyReports(ctx: Context, runId: string): Promise<void> {
  const missing = ctx.opts.portfolios - (await countReports(ctx, runId));
  if (missing > 0) throw new Error(`${missing} portfolios have no report for run ${runId}`);
  await dropReports(ctx);
}

function toRow(
  concurrency: number,
  source: Source,
  m: Measurement,
  base: Measurement,
  distinct: number,
  httpRequests: number,
): PipelineRow {
  const { perCommand, total } = ballastCommands(m.commands, m.jobs, base.commands, base.jobs);
  const hgetall =
    (m.commands.get('hgetall') ?? 0) - ((base.commands.get('hgetall') ?? 0) * m.jobs) / base.jobs;
  return {
    concurrency,
    source,
    portfolios: m.jobs,
    seconds: m.ms / 1000,
    portfoliosPerSecond: m.perSecond,
    baselineJobsPerSecond: base.perSecond,
    ratio: m.perSecond / base.perSecond,
    rssPeakMb: m.rssPeak / 1024 / 1024,
    rssIdleMb: m.rssIdle / 1024 / 1024,
    commandsPerRecalculation: total - COMMIT_SCRIPT_CALLS_TOTAL,
    commandsExecutedPerRecalculation: total,
    perCommand: Object.fromEntries([...perCommand].map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    metricsCallsPerBusiness: source === 'http' ? httpRequests / distinct : hgetall / distinct,
    redisMemoryMb: m.redisMemory / 1024 / 1024,
    workerCpuPercent: m.workerCpu,
    redisCpuPercent: m.redisCpu,
    baselineWorkerCpuPercent: base.workerCpu,
    baselineRedisCpuPercent: base.redisCpu,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const root = packageRoot();
  const loadStart = loadavg()[0]!;
  const target = await benchRedis();
  const prefix = benchPrefix();
  const redis = createRedis(target.url);
  const keys = createKeys(prefix);
  const logDir = mkdtempSync(join(tmpdir(), 'ballast-bench-'));
  const metrics = makeMetrics(opts.businesses, SEED);
  const server = await startBenchMetricsServer(metrics);
  const ctx: Context = {
    opts,
    url: target.url,
    prefix,
    keys,
    redis,
    server,
    logDir,
    bin: join(root, 'bin', 'ballast.js'),
    noopScript: join(root, 'dist', 'bench', 'noop-worker.js'),
  };
  console.log(
    `pipeline bench: ${fmt.int(opts.portfolios)} portfolios x ${opts.size} businesses from ${fmt.int(opts.businesses)}; ` +
      `Redis ${target.private ? `private redis-server at ${target.url}` : target.url}, prefix ${prefix}; ` +
      `worker logs (level ${opts.logLevel}) in ${logDir}`,
  );
  let succeeded = false;
  try {
    const seedStart = performance.now();
    await importMetrics(redis, keys, metrics);
    const store = new RedisPortfolioStore(redis, keys);
    const used = await seedPortfolios(store, opts.portfolios, (i) =>
      makePortfolio(i, opts.size, opts.businesses, SEED),
    );
    const seedSeconds = (performance.now() - seedStart) / 1000;
    console.log(
      `seeded ${fmt.int(opts.portfolios)} portfolios (${used.size} distinct businesses) in ${seedSeconds.toFixed(1)} s`,
    );

    const rows: PipelineRow[] = [];
    const baselines = new Map<number, Measurement>();
    const baselineRuns: PipelineResult['baselineRuns'][number][] = [];
    for (const c of opts.concurrencies) {
      // The baseline before and after the passes it is compared with: on a shared 2-core
      // machine the speed drifts, and the ratio uses both (total jobs / total time).
      const before = await baseline(ctx, c, 'a');
      console.log(`c=${c} no-op baseline: ${describe(before)}`);
      const passes: [Source, Measurement, number][] = [];
      for (const source of opts.sources) {
        server.reset();
        const m = await pipeline(ctx, c, source);
        passes.push([source, m, server.requests()]);
        console.log(`c=${c} ${source}: ${fmt.int(m.perSecond)} portfolios/s (${(m.ms / 1000).toFixed(2)} s)`);
      }
      const after = await baseline(ctx, c, 'b');
      console.log(`c=${c} no-op baseline again: ${describe(after)}`);
      const base = combine(before, after);
      baselines.set(c, base);
      baselineRuns.push({
        concurrency: c,
        before: before.perSecond,
        after: after.perSecond,
        combined: base.perSecond,
      });
      for (const [source, m, requests] of passes) rows.push(toRow(c, source, m, base, used.size, requests));
    }

    const bestOf = (source: Source) =>
      rows
        .filter((r) => r.source === source)
        .sort((a, b) => b.portfoliosPerSecond - a.portfoliosPerSecond)[0] ?? null;
    const best = { redis: bestOf('redis'), http: bestOf('http') };

    let profile: PipelineResult['profile'] = null;
    const profiled = best.redis ?? best.http;
    if (opts.profile && profiled) {
      const dir = join(logDir, 'cpu-profile');
      mkdirSync(dir, { recursive: true });
      await pipeline(
        ctx,
        profiled.concurrency,
        profiled.source,
        ['--cpu-prof', '--cpu-prof-dir', dir],
        '-prof',
      );
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        profile = {
          ...summariseProfile(join(dir, file)),
          concurrency: profiled.concurrency,
          source: profiled.source,
        };
        // Kept next to the logs for a closer look (chrome://inspect or speedscope).
        console.log(`cpu profile of the worker: ${join(dir, file)}`);
      }
    }

    const mainBase = baselines.get((best.redis ?? best.http)?.concurrency ?? -1);
    let variant: PipelineResult['variant'] = null;
    if (opts.variantArgs.length > 0 && best.redis && mainBase) {
      const c = best.redis.concurrency;
      const m = await pipeline(ctx, c, 'redis', opts.variantArgs, '-variant');
      variant = {
        nodeArgs: opts.variantArgs.join(' '),
        concurrency: c,
        portfoliosPerSecond: m.perSecond,
        ratio: m.perSecond / mainBase.perSecond,
        rssPeakMb: m.rssPeak / 1024 / 1024,
      };
      console.log(
        `c=${c} redis with ${variant.nodeArgs}: ${fmt.int(m.perSecond)} portfolios/s, RSS peak ${fmt.mb(m.rssPeak)}`,
      );
    }
    const result = buildResult(opts, used.size, seedSeconds, mainBase, rows, best, profile, {
      loadAverage: [loadStart, loadavg()[0]!],
      baselineRuns,
      variant,
    });
    console.log(`\n${report(result)}`);
    if (opts.out) writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
    succeeded = true;
  } finally {
    await server.close();
    await cleanUp(redis, prefix);
    await redis.quit().catch(() => redis.disconnect());
    await target.stop();
    // The workers' logs (tens of MB) are kept only when something failed; the profile is kept.
    if (succeeded) {
      for (const entry of readdirSync(logDir)) {
        if (entry !== 'cpu-profile') rmSync(join(logDir, entry), { recursive: true, force: true });
      }
      if (readdirSync(logDir).length === 0) rmSync(logDir, { recursive: true, force: true });
    } else {
      console.error(`worker logs kept in ${logDir}`);
    }
  }
}

function buildResult(
  opts: Options,
  distinct: number,
  seedSeconds: number,
  base: Measurement | undefined,
  rows: PipelineRow[],
  best: Record<Source, PipelineRow | null>,
  profile: PipelineResult['profile'],
  extra: Pick<PipelineResult, 'loadAverage' | 'baselineRuns' | 'variant'>,
): PipelineResult {
  const main = best.redis ?? best.http;
  const rssPeak = Math.max(...rows.map((r) => r.rssPeakMb));
  const calls = rows.map((r) => r.metricsCallsPerBusiness);
  return {
    bench: 'pipeline',
    date: new Date().toISOString(),
    portfolios: opts.portfolios,
    businessesPerPortfolio: opts.size,
    distinctBusinesses: distinct,
    seedSeconds,
    ...extra,
    baselinePerJobCommands: base
      ? Object.fromEntries([...base.commands].map(([k, v]) => [k, Math.round((v / base.jobs) * 1000) / 1000]))
      : {},
    rows,
    best,
    profile,
    targets: {
      ratio: {
        target: RATIO_TARGET,
        value: main?.ratio ?? null,
        pass: (main?.ratio ?? 0) >= RATIO_TARGET,
      },
      rssMb: {
        target: RSS_TARGET_BYTES / 1024 / 1024,
        value: rssPeak,
        pass: rssPeak < RSS_TARGET_BYTES / 1024 / 1024,
      },
      commands: {
        target: COMMANDS_TARGET,
        value: main?.commandsPerRecalculation ?? null,
        pass: (main?.commandsPerRecalculation ?? Infinity) <= COMMANDS_TARGET,
      },
      metricsCalls: {
        target: 1,
        value: calls.length > 0 ? Math.max(...calls) : null,
        pass: calls.every((c) => Math.abs(c - 1) < 0.01),
      },
    },
  };
}

function report(r: PipelineResult): string {
  const table = formatTable(
    [
      { header: 'concurrency', value: (x: PipelineRow) => String(x.concurrency), align: 'right' },
      { header: 'metrics', value: (x) => x.source },
      { header: 'portfolios/s', value: (x) => fmt.int(x.portfoliosPerSecond), align: 'right' },
      { header: 'no-op jobs/s', value: (x) => fmt.int(x.baselineJobsPerSecond), align: 'right' },
      { header: 'ratio', value: (x) => x.ratio.toFixed(2), align: 'right' },
      { header: 'run s', value: (x) => x.seconds.toFixed(2), align: 'right' },
      { header: 'RSS peak MB', value: (x) => x.rssPeakMb.toFixed(1), align: 'right' },
      { header: 'cmds/recalc', value: (x) => x.commandsPerRecalculation.toFixed(2), align: 'right' },
      { header: '(executed)', value: (x) => x.commandsExecutedPerRecalculation.toFixed(2), align: 'right' },
      {
        header: 'metrics calls/business',
        value: (x) => x.metricsCallsPerBusiness.toFixed(2),
        align: 'right',
      },
      { header: 'Redis +MB', value: (x) => x.redisMemoryMb.toFixed(0), align: 'right' },
      {
        header: 'CPU% worker/Redis (no-op)',
        value: (x) =>
          `${x.workerCpuPercent.toFixed(0)}/${x.redisCpuPercent.toFixed(0)} (${x.baselineWorkerCpuPercent.toFixed(0)}/${x.baselineRedisCpuPercent.toFixed(0)})`,
        align: 'right',
      },
    ],
    r.rows,
  );
  const main = r.best.redis ?? r.best.http;
  const perCommand = main
    ? Object.entries(main.perCommand)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')
    : '';
  const t = r.targets;
  const mark = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
  const lines = [
    table,
    `no-op baseline before/after the passes: ${r.baselineRuns
      .map((b) => `c=${b.concurrency} ${fmt.int(b.before)}/${fmt.int(b.after)} jobs/s`)
      .join(
        ', ',
      )}; load average ${r.loadAverage[0].toFixed(2)} at start, ${r.loadAverage[1].toFixed(2)} at end`,
    '',
    `Ballast's commands per recalculation at c=${main?.concurrency} (${main?.source}), pipeline minus no-op baseline per job: ${perCommand}`,
    `  = ${main?.commandsExecutedPerRecalculation.toFixed(2)} executed by Redis, of which ${COMMIT_SCRIPT_CALLS_TOTAL} inside the commit script: ${main?.commandsPerRecalculation.toFixed(2)} sent by the worker`,
    `${mark(t.ratio.pass)}: throughput ratio ${t.ratio.value?.toFixed(2)} at the best concurrency (target >= ${t.ratio.target})`,
    `${mark(t.rssMb.pass)}: worker RSS peak ${t.rssMb.value.toFixed(1)} MB over every run (target < ${t.rssMb.target} MB)`,
    `${mark(t.commands.pass)}: ${t.commands.value?.toFixed(2)} Redis commands sent per recalculation apart from BullMQ's (aim <= ${t.commands.target})`,
    `${mark(t.metricsCalls.pass)}: metrics-source calls per distinct business per run ${t.metricsCalls.value?.toFixed(2)} at most (target 1)`,
  ];
  if (r.variant) {
    const v = r.variant;
    lines.push(
      `With node ${v.nodeArgs} (c=${v.concurrency}, redis): ${fmt.int(v.portfoliosPerSecond)} portfolios/s, ratio ${v.ratio.toFixed(2)}, RSS peak ${v.rssPeakMb.toFixed(1)} MB`,
    );
  }
  if (r.profile) {
    const p = r.profile;
    lines.push(
      '',
      `Worker CPU profile (c=${p.concurrency}, ${p.source}; ${fmt.int(p.busyMs)} ms busy of ${fmt.int(p.totalMs)} ms), self time by area:`,
      formatTable(
        [
          { header: 'area', value: (e: ProfileSummary['areas'][number]) => e.name },
          { header: 'self ms', value: (e) => fmt.int(e.ms), align: 'right' },
          { header: '% busy', value: (e) => e.share.toFixed(1), align: 'right' },
        ],
        p.areas.slice(0, 10),
      ),
      '',
      'Top functions by self time:',
      formatTable(
        [
          { header: 'function', value: (e: ProfileSummary['functions'][number]) => e.name },
          { header: 'self ms', value: (e) => fmt.int(e.ms), align: 'right' },
          { header: '% busy', value: (e) => e.share.toFixed(1), align: 'right' },
        ],
        p.functions,
      ),
      '',
      "Ballast's functions by inclusive time (the steps of a job):",
      formatTable(
        [
          { header: 'function', value: (e: ProfileSummary['functions'][number]) => e.name },
          { header: 'total ms', value: (e) => fmt.int(e.ms), align: 'right' },
          { header: '% busy', value: (e) => e.share.toFixed(1), align: 'right' },
        ],
        p.ballastInclusive.slice(0, 15),
      ),
    );
  }
  return lines.join('\n');
}

await main();
