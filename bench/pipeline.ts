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
import {
  nightlyJobId,
  type RecalculatePayload,
  recalculateBlockJobPrefix,
  recalculateJobId,
} from '../jobs/payloads.js';
import { createKeys } from '../src/adapters/keys.js';
import { importMetrics } from '../src/adapters/metrics/index.js';
import { NIGHTLY_PRIORITY, OPERATOR_PRIORITY } from '../src/adapters/queue.js';
import { createRedis } from '../src/adapters/redis.js';
import { RedisPortfolioStore } from '../src/adapters/redis-portfolio-store.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { summariseProfile } from './lib/cpuprofile.js';
import { makeMetrics, makePortfolio, portfolioId, seedPortfolios } from './lib/dataset.js';
import { startBenchMetricsServer } from './lib/metrics-server.js';
import {
  type Ceiling,
  COUNT_ARGS,
  type Context,
  ceiling,
  combine,
  countReports,
  describe,
  measure,
  newestFinishedOn,
  type Options,
  QUIET_MS,
  type RunResult,
  stallGuard,
  verifyReports,
  workerEnv,
} from './lib/pipeline-measure.js';
import {
  buildResult,
  type Measurement,
  type PipelineResult,
  type PipelineRow,
  report,
  type Source,
  toRow,
} from './lib/pipeline-result.js';
import { spawnNode } from './lib/proc.js';
import { benchPrefix, benchRedis, cleanUp } from './lib/redis.js';

export type { PipelineResult, PipelineRow } from './lib/pipeline-result.js';

import { fmt } from './lib/table.js';

const SEED = 20_250_601;
const CHUNK = 500;
/** The NODE_OPTIONS the Docker image runs Ballast with, read from the Dockerfile so they cannot drift. */
const IMAGE_NODE_OPTIONS = (() => {
  const dockerfile = readFileSync(join(packageRoot(), 'Dockerfile'), 'utf8');
  const found = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1];
  if (!found) throw new Error('Dockerfile sets no ENV NODE_OPTIONS="..."; pass --variant-node-args');
  return found;
})();

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      portfolios: { type: 'string', default: '10000' },
      size: { type: 'string', default: '20' },
      businesses: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '10,50,100' },
      sources: { type: 'string', default: 'redis,http' },
      'skip-profile': { type: 'boolean', default: false },
      'auto-pipeline': { type: 'boolean', default: false },
      ceiling: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      block: { type: 'string', default: '1' },
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
        '  [--concurrency 10,50,100] [--sources redis,http] [--skip-profile] [--auto-pipeline (each pass again with enableAutoPipelining)] [--ceiling (the redis run without BullMQ)] [--block 1 (portfolios per job: BALLAST_FANOUT_BLOCK)] [--log-level info] [--node-args="--max-old-space-size=512"]\n' +
        `  [--variant-node-args="${IMAGE_NODE_OPTIONS}" (one more pass at the best concurrency; "" for none)] [--out file.json]\n` +
        'Redis: a private redis-server, or BENCH_REDIS_URL (keys under a bench-only prefix, deleted at the end).',
    );
    process.exit(0);
  }
  const sources = values.sources.split(',').map((s) => s.trim());
  for (const s of sources) if (s !== 'redis' && s !== 'http') throw new Error(`unknown source ${s}`);
  if (!/^\d+$/.test(values.block) || Number(values.block) < 1 || Number(values.block) > 500) {
    throw new Error(`--block must be a whole number from 1 to 500, not ${values.block}`);
  }
  return {
    portfolios: Number(values.portfolios),
    size: Number(values.size),
    businesses: Number(values.businesses),
    concurrencies: values.concurrency.split(',').map(Number),
    sources: sources as Source[],
    profile: !values['skip-profile'],
    autoPipeline: values['auto-pipeline'],
    ceiling: values.ceiling,
    variantArgs: values['variant-node-args'].split(' ').filter((a) => a !== ''),
    logLevel: values['log-level'],
    block: Number(values.block),
    nodeArgs: values['node-args'].split(' ').filter((a) => a !== ''),
    out: values.out,
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
        COUNT_ARGS,
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
  autoPipeline = false,
): Promise<Measurement> {
  const label = `pipe-${source}-c${concurrency}${tag}`;
  const runId = `bench-${source}-c${concurrency}${tag}-${Date.now()}`;
  return measure(
    ctx,
    label,
    (queue) =>
      spawnNode(
        [ctx.bin, 'worker'],
        // The worker's app connection auto-pipelines (pipeline-command-count.ts).
        { ...workerEnv(ctx, queue, concurrency, source), BENCH_AUTO_PIPELINE: autoPipeline ? '1' : '' },
        join(ctx.logDir, `${label}.log`),
        [...COUNT_ARGS, ...ctx.opts.nodeArgs, ...nodeArgs],
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
            blockPrefix: recalculateBlockJobPrefix(runId),
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

async function main(): Promise<void> {
  const opts = parseOptions();
  const root = packageRoot();
  const loadStart = loadavg()[0]!;
  const target = await benchRedis();
  const prefix = benchPrefix();
  const redis = createRedis({ redisUrl: target.url, redisCluster: false });
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
      `${opts.block > 1 ? `${opts.block} portfolios per job (BALLAST_FANOUT_BLOCK); ` : ''}worker logs (level ${opts.logLevel}) in ${logDir}`,
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
      const passes: [Source, Measurement, number, boolean][] = [];
      for (const source of opts.sources) {
        for (const autoPipeline of opts.autoPipeline ? [false, true] : [false]) {
          server.reset();
          const m = await pipeline(ctx, c, source, [], autoPipeline ? '-ap' : '', autoPipeline);
          passes.push([source, m, server.requests(), autoPipeline]);
          console.log(
            `c=${c} ${source}${autoPipeline ? ' +auto-pipelining' : ''}: ${fmt.int(m.perSecond)} portfolios/s (${(m.ms / 1000).toFixed(2)} s)`,
          );
        }
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
      for (const [source, m, requests, autoPipeline] of passes)
        rows.push(toRow(c, source, m, base, used.size, requests, autoPipeline, opts.block));
    }

    const bestOf = (source: Source) =>
      rows
        .filter((r) => r.source === source && !r.autoPipeline)
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
    let withoutBullmq: Ceiling | null = null;
    if (opts.ceiling && mainBase && best.redis) {
      withoutBullmq = await ceiling(ctx, best.redis.concurrency, (runId) => verifyReports(ctx, runId));
      console.log(
        `Without BullMQ (c=${best.redis.concurrency}, redis; the processor in a loop, no job fetched, locked, completed or added): ` +
          `${fmt.int(withoutBullmq.perSecond)} portfolios/s, ${(withoutBullmq.perSecond / mainBase.perSecond).toFixed(2)} of the no-op baseline, ` +
          `${withoutBullmq.cpuMsPerPortfolio.toFixed(3)} ms CPU per portfolio, RSS peak ${withoutBullmq.rssPeakMb.toFixed(1)} MB`,
      );
    }
    if (opts.out) writeFileSync(opts.out, `${JSON.stringify({ ...result, withoutBullmq }, null, 2)}\n`);
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

await main();
