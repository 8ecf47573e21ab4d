/**
 * A night at scale (issue 18): N portfolios x 20 businesses through 2 `ballast worker` processes,
 * on one private redis-server and on a private 3-master Redis Cluster, at 10,000 and 100,000
 * portfolios. Prints portfolios/s, each worker's RSS (start, peak, end: flat, since the fan-out
 * streams), and Redis memory per node before and after the night. Run with `npm run bench:scale`
 * (options: --help). Guards are off: the breaker must not hold half a synthetic night.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importMetrics } from '../src/adapters/metrics/redis-metrics-source.js';
import { masters } from '../src/adapters/redis.js';
import { deletePrefix } from '../src/adapters/redis-cleanup.js';
import { startPrivateCluster } from '../src/adapters/redis-cluster-launcher.js';
import { startPrivateRedis } from '../src/adapters/redis-launcher.js';
import { type App, createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { enqueueNightly } from '../src/services/runs.js';
import { makeMetrics, makePortfolio, seedPortfolios } from './lib/dataset.js';
import { type NodeProcess, RssSampler, spawnNode } from './lib/proc.js';
import { benchPrefix } from './lib/redis.js';
import { type Column, fmt, formatTable } from './lib/table.js';

const SEED = 20_261_204;

interface Target {
  readonly name: 'redis' | 'cluster';
  readonly url: string;
  stop(): Promise<void>;
}

export interface ScaleRow {
  readonly target: string;
  readonly portfolios: number;
  readonly seedSeconds: number;
  readonly nightSeconds: number;
  readonly perSecond: number;
  /** Per worker: MB at the start of the night, its peak, at the end. */
  readonly workerRssMb: readonly { start: number; peak: number; end: number }[];
  /** Per master: used_memory in MB before and after the night. */
  readonly redisMb: readonly { before: number; after: number }[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000' },
      businesses: { type: 'string', default: '20' },
      universe: { type: 'string', default: '2000' },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '50' },
      targets: { type: 'string', default: 'redis,cluster' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node dist/bench/scale.js [--sizes 10000,100000] [--businesses 20] [--universe 2000]\n' +
        '  [--workers 2] [--concurrency 50] [--targets redis,cluster] [--out file.json]\n' +
        'Starts its own redis-server and 3-master cluster (redis-server, redis-cli on PATH).',
    );
    return;
  }
  const sizes = values.sizes.split(',').map(Number);
  const rows: ScaleRow[] = [];
  for (const name of values.targets.split(',') as Target['name'][]) {
    const target = await startTarget(name);
    try {
      for (const size of sizes) {
        const row = await night(target, size, {
          businesses: Number(values.businesses),
          universe: Number(values.universe),
          workers: Number(values.workers),
          concurrency: Number(values.concurrency),
        });
        rows.push(row);
        console.log(formatTable(COLUMNS, [row]));
      }
    } finally {
      await target.stop();
    }
  }
  console.log(`\n${formatTable(COLUMNS, rows)}`);
  for (const size of sizes) {
    const one = rows.find((r) => r.target === 'redis' && r.portfolios === size);
    const cl = rows.find((r) => r.target === 'cluster' && r.portfolios === size);
    if (one && cl)
      console.log(
        `${fmt.int(size)} portfolios: cluster / one Redis = ${(cl.perSecond / one.perSecond).toFixed(2)}x`,
      );
  }
  if (values.out) writeFileSync(values.out, `${JSON.stringify(rows, null, 2)}\n`);
}

const COLUMNS: readonly Column<ScaleRow>[] = [
  { header: 'target', value: (r: ScaleRow) => r.target },
  { header: 'portfolios', value: (r: ScaleRow) => fmt.int(r.portfolios), align: 'right' },
  { header: 'seed s', value: (r: ScaleRow) => r.seedSeconds.toFixed(1), align: 'right' },
  { header: 'night s', value: (r: ScaleRow) => r.nightSeconds.toFixed(1), align: 'right' },
  { header: 'portfolios/s', value: (r: ScaleRow) => fmt.int(Math.round(r.perSecond)), align: 'right' },
  {
    header: 'worker RSS MB start/peak/end',
    value: (r: ScaleRow) =>
      r.workerRssMb.map((w) => `${w.start.toFixed(0)}/${w.peak.toFixed(0)}/${w.end.toFixed(0)}`).join(', '),
  },
  {
    header: 'Redis MB per master before -> after',
    value: (r: ScaleRow) => r.redisMb.map((m) => `${m.before.toFixed(0)}->${m.after.toFixed(0)}`).join(', '),
  },
];

async function startTarget(name: Target['name']): Promise<Target> {
  const settings = ['--maxmemory-policy', 'noeviction'];
  if (name === 'redis') {
    const server = await startPrivateRedis({ extraArgs: settings });
    return { name, url: server.url, stop: () => server.stop() };
  }
  const cluster = await startPrivateCluster({ masters: 3 });
  return { name, url: cluster.url, stop: () => cluster.stop() };
}

interface NightOptions {
  readonly businesses: number;
  readonly universe: number;
  readonly workers: number;
  readonly concurrency: number;
}

async function night(target: Target, size: number, o: NightOptions): Promise<ScaleRow> {
  const prefix = benchPrefix();
  const env = {
    REDIS_URL: target.url,
    BALLAST_REDIS_CLUSTER: String(target.name === 'cluster'),
    BALLAST_PREFIX: prefix,
    BALLAST_QUEUE: 'scale',
    BALLAST_METRICS_SOURCE: 'redis',
    BALLAST_GUARDS: 'off',
    BALLAST_LOG_LEVEL: 'warn',
  };
  const app = createApp(loadConfig(env), { log: createLogger('warn') });
  const logDir = mkdtempSync(join(tmpdir(), 'ballast-bench-scale-'));
  const workers: NodeProcess[] = [];
  try {
    await importMetrics(app.redis, app.keys, makeMetrics(o.universe, SEED));
    const seedStart = performance.now();
    await seedPortfolios(app.store, size, (i) => makePortfolio(i, o.businesses, o.universe, SEED));
    const seedSeconds = (performance.now() - seedStart) / 1000;
    console.log(`${target.name}: seeded ${fmt.int(size)} portfolios in ${seedSeconds.toFixed(1)} s`);
    for (let i = 0; i < o.workers; i++) {
      workers.push(
        spawnNode(
          [join(packageRoot(), 'bin', 'ballast.js'), 'worker'],
          { ...env, BALLAST_CONCURRENCY: String(o.concurrency) },
          join(logDir, `worker-${i}.log`),
        ),
      );
    }
    await waitForWorkers(app, workers, logDir);
    const redisBefore = await redisMemoryMb(app);
    const samplers = workers.map((w) => new RssSampler(w.pid, 200));
    const started = performance.now();
    const { runId } = await enqueueNightly(app, { trigger: 'manual', actor: 'bench' });
    await waitForRun(app, runId, size, workers, logDir);
    const nightSeconds = (performance.now() - started) / 1000;
    const rss = samplers.map((s) => s.stop());
    const redisAfter = await redisMemoryMb(app);
    return {
      target: target.name,
      portfolios: size,
      seedSeconds,
      nightSeconds,
      perSecond: size / nightSeconds,
      workerRssMb: rss.map((r) => ({
        start: r.first / 2 ** 20,
        peak: r.peak / 2 ** 20,
        end: r.last / 2 ** 20,
      })),
      redisMb: redisBefore.map((before, i) => ({ before, after: redisAfter[i] ?? 0 })),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await app.queue.queue.obliterate({ force: true }).catch(() => {});
    await deletePrefix(app.redis, prefix);
    await app.close();
    rmSync(logDir, { recursive: true, force: true });
  }
}

async function waitForWorkers(app: App, workers: readonly NodeProcess[], logDir: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await app.queue.queue.getWorkersCount()) < workers.length) {
    if (workers.some((w) => w.child.exitCode !== null)) throw new Error(`a worker exited (logs: ${logDir})`);
    if (Date.now() > deadline) throw new Error(`the workers were not ready within 30 s (logs: ${logDir})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls the run's progress (a bench, not a test: a poll every 250 ms costs nothing here). */
async function waitForRun(
  app: App,
  runId: string,
  size: number,
  workers: readonly NodeProcess[],
  logDir: string,
): Promise<void> {
  for (;;) {
    const progress = await app.reports.runProgress(runId);
    if (progress.total === size && progress.done >= size) return;
    if (workers.some((w) => w.child.exitCode !== null)) throw new Error(`a worker exited (logs: ${logDir})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function redisMemoryMb(app: App): Promise<number[]> {
  const nodes = await masters(app.redis);
  return Promise.all(
    nodes.map(
      async (node) => Number(/^used_memory:(\d+)/m.exec(await node.info('memory'))?.[1] ?? 0) / 2 ** 20,
    ),
  );
}

await main();
