/**
 * The nightly fan-out at scale (issue 6, item 2): one nightly run over 100,000 portfolios in one
 * `ballast worker` process. Its time (enqueue to the nightly job's completion) and the worker's
 * RSS while it fans out, sampled every 50 ms and at every chunk, to show that memory stays flat:
 * the fan-out reads the portfolio index a chunk at a time and never holds every id.
 * Run with `npm run bench:fanout` (options: --help).
 *
 * The worker runs at concurrency 1, so while it holds the nightly job it takes no recalculate job:
 * the fan-out is measured alone. The recalculate jobs it adds are left waiting and deleted with
 * the bench's prefix at the end. The fan-out reads only the index, so the portfolios are small
 * (2 businesses) to keep seeding quick.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nightlyJobId } from '../jobs/payloads.js';
import { createKeys } from '../src/adapters/keys.js';
import { JobQueue, OPERATOR_PRIORITY } from '../src/adapters/queue.js';
import { createRedis } from '../src/adapters/redis.js';
import { RedisPortfolioStore } from '../src/adapters/redis-portfolio-store.js';
import { loadConfig } from '../src/config.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { makePortfolio } from './lib/dataset.js';
import { procStatusBytes, RssSampler, spawnNode } from './lib/proc.js';
import { benchPrefix, benchRedis, cleanUp } from './lib/redis.js';
import { fmt, formatTable } from './lib/table.js';

const SEED = 20_250_602;

export interface FanoutPoint {
  readonly enqueued: number;
  readonly atMs: number;
  readonly rssMb: number;
}

export interface FanoutResult {
  readonly bench: 'fanout';
  readonly date: string;
  readonly portfolios: number;
  readonly chunk: number;
  readonly seedSeconds: number;
  readonly fanOutSeconds: number;
  readonly jobsPerSecond: number;
  readonly rssStartMb: number;
  readonly rssPeakMb: number;
  readonly rssEndMb: number;
  /** VmHWM: the process's peak over its whole life, start-up included. */
  readonly rssHwmMb: number;
  readonly waitingAfter: number;
  readonly series: readonly FanoutPoint[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      portfolios: { type: 'string', default: '100000' },
      chunk: { type: 'string', default: '500' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node dist/bench/fanout.js [--portfolios 100000] [--chunk 500] [--out file.json]\n' +
        'Redis: a private redis-server, or BENCH_REDIS_URL (keys under a bench-only prefix, deleted at the end).',
    );
    return;
  }
  const n = Number(values.portfolios);
  const chunk = Number(values.chunk);
  const target = await benchRedis();
  const prefix = benchPrefix();
  const redis = createRedis({ redisUrl: target.url, redisCluster: false });
  const keys = createKeys(prefix);
  const logDir = mkdtempSync(join(tmpdir(), 'ballast-bench-fanout-'));
  const queueName = 'fanout';
  const config = loadConfig({ REDIS_URL: target.url, BALLAST_PREFIX: prefix, BALLAST_QUEUE: queueName });
  const queue = new JobQueue(config, keys, redis);
  console.log(
    `fan-out bench: ${fmt.int(n)} portfolios, chunk ${chunk}; Redis ${target.private ? `private redis-server at ${target.url}` : target.url}, prefix ${prefix}`,
  );
  try {
    const seedStart = performance.now();
    await seed(redis, keys, n);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const store = new RedisPortfolioStore(redis, keys);
    if ((await store.count()) !== n) throw new Error('seeding did not create every portfolio');
    console.log(`seeded ${fmt.int(n)} portfolios in ${seedSeconds.toFixed(1)} s`);

    const proc = spawnNode(
      [join(packageRoot(), 'bin', 'ballast.js'), 'worker'],
      {
        REDIS_URL: target.url,
        BALLAST_PREFIX: prefix,
        BALLAST_QUEUE: queueName,
        BALLAST_CONCURRENCY: '1',
        BALLAST_FANOUT_CHUNK: String(chunk),
        BALLAST_LOG_LEVEL: 'info',
      },
      join(logDir, 'worker.log'),
    );
    let result: FanoutResult;
    try {
      const deadline = Date.now() + 30_000;
      while ((await queue.queue.getWorkersCount()) < 1) {
        if (proc.child.exitCode !== null)
          throw new Error(`the worker exited (log: ${join(logDir, 'worker.log')})`);
        if (Date.now() > deadline) throw new Error('the worker was not ready within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const events = await queue.events(redis);
      const rss = new RssSampler(proc.pid, 50);
      const series: FanoutPoint[] = [];
      const runId = `fanout-${Date.now()}`;
      const jobId = nightlyJobId(runId);
      let fanOutMs = 0;
      const started = performance.now();
      try {
        events.on('progress', ({ jobId: id, data }) => {
          const enqueued = (data as { enqueued?: unknown } | null)?.enqueued;
          if (id !== jobId || typeof enqueued !== 'number') return;
          const value = rss.sample() ?? 0;
          series.push({ enqueued, atMs: performance.now() - started, rssMb: value / 1024 / 1024 });
        });
        const done = new Promise<void>((resolve, reject) => {
          events.on('completed', ({ jobId: id }) => {
            if (id === jobId) resolve();
          });
          events.on('failed', ({ jobId: id, failedReason }) => {
            if (id === jobId) reject(new Error(`the nightly job failed: ${failedReason}`));
          });
        });
        await queue.add({
          name: 'nightly',
          data: { runId, trigger: 'manual' },
          jobId,
          priority: OPERATOR_PRIORITY,
        });
        await done;
        fanOutMs = performance.now() - started;
      } finally {
        await events.close();
      }
      const sampled = rss.stop();
      const hwm = procStatusBytes(proc.pid, 'VmHWM') ?? 0;
      const counts = await queue.counts();
      const waiting = (counts.prioritized ?? 0) + (counts.waiting ?? 0) + (counts.active ?? 0);
      const duringRun = rss.samples.filter((s) => s.atMs <= fanOutMs + 100).map((s) => s.rss);
      result = {
        bench: 'fanout',
        date: new Date().toISOString(),
        portfolios: n,
        chunk,
        seedSeconds,
        fanOutSeconds: fanOutMs / 1000,
        jobsPerSecond: (n / fanOutMs) * 1000,
        rssStartMb: sampled.first / 1024 / 1024,
        rssPeakMb: Math.max(...duringRun) / 1024 / 1024,
        rssEndMb: (duringRun.at(-1) ?? 0) / 1024 / 1024,
        rssHwmMb: hwm / 1024 / 1024,
        waitingAfter: waiting,
        series,
      };
    } finally {
      await proc.stop();
    }
    // The concurrency-1 worker may have taken one recalculate job after the fan-out.
    if (result.waitingAfter < n - 1) {
      throw new Error(`only ${result.waitingAfter} recalculate jobs were queued for ${n} portfolios`);
    }
    console.log(`\n${report(result)}`);
    if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await queue.queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await cleanUp(redis, prefix);
    await redis.quit().catch(() => redis.disconnect());
    await target.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** Portfolios as RedisPortfolioStore.create writes them (index, owner set, document), pipelined. */
async function seed(redis: ReturnType<typeof createRedis>, keys: ReturnType<typeof createKeys>, n: number) {
  for (let i = 0; i < n; i += 1000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const portfolio = makePortfolio(j, 2, 1000, SEED);
      p.zadd(keys.portfolioIndex, 0, portfolio.id);
      p.sadd(keys.ownerIndex(portfolio.ownerId), portfolio.id);
      p.hset(keys.portfolio(portfolio.id), 'doc', RedisPortfolioStore.encode(portfolio), 'version', '1');
    }
    for (const [err] of (await p.exec()) ?? []) if (err) throw err;
  }
}

function report(r: FanoutResult): string {
  // One line per tenth of the run: memory against progress.
  const points: FanoutPoint[] = [];
  for (let tenth = 1; tenth <= 10; tenth++) {
    const point = r.series.find((p) => p.enqueued >= (r.portfolios * tenth) / 10);
    if (point && !points.includes(point)) points.push(point);
  }
  const table = formatTable(
    [
      { header: 'enqueued', value: (p: FanoutPoint) => fmt.int(p.enqueued), align: 'right' },
      { header: 'at s', value: (p) => (p.atMs / 1000).toFixed(2), align: 'right' },
      { header: 'RSS MB', value: (p) => p.rssMb.toFixed(1), align: 'right' },
    ],
    points,
  );
  return [
    `fan-out of ${fmt.int(r.portfolios)} portfolios (chunk ${r.chunk}): ${r.fanOutSeconds.toFixed(2)} s, ${fmt.int(r.jobsPerSecond)} jobs/s`,
    `worker RSS: start ${r.rssStartMb.toFixed(1)} MB, peak ${r.rssPeakMb.toFixed(1)} MB, end ${r.rssEndMb.toFixed(1)} MB (VmHWM ${r.rssHwmMb.toFixed(1)} MB); ${fmt.int(r.waitingAfter)} recalculate jobs queued`,
    table,
  ].join('\n');
}

await main();
