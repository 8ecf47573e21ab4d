import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { nightlyJobId } from '../../../jobs/payloads.js';
import { readJsonFile } from '../../adapters/input-file.js';
import { importMetrics } from '../../adapters/metrics/index.js';
import { readMetricsFile } from '../../adapters/metrics-file.js';
import { OPERATOR_PRIORITY, type RunProgress } from '../../adapters/queue.js';
import { deletePrefix } from '../../adapters/redis-cleanup.js';
import { type ResolvedRedis, resolveRedis } from '../../adapters/redis-launcher.js';
import { createApp } from '../../app.js';
import { type Config, loadConfig } from '../../config.js';
import { portfolioFromWire, RefusedError, type WireReport } from '../../domain/index.js';
import { createLogger } from '../../logger.js';
import { followRun } from '../../runtime/follow-run.js';
import { packageRoot } from '../../runtime/package-root.js';
import { manualRunId } from '../../runtime/run-ids.js';
import { startWorker } from '../../runtime/worker.js';
import type { CliContext } from '../context.js';
import { cliEdit } from '../edit-meta.js';
import { formatJson } from '../output.js';
import { formatReportText } from '../report-text.js';

export interface DemoOptions {
  keep?: boolean;
  json?: boolean;
}

export async function runDemo(ctx: CliContext, options: DemoOptions): Promise<void> {
  const prefix = `ballast-demo-${randomBytes(4).toString('hex')}`;
  const demoEnv = (redisUrl: string | undefined) => ({
    ...ctx.env,
    REDIS_URL: redisUrl,
    BALLAST_PREFIX: prefix,
    BALLAST_METRICS_SOURCE: 'redis',
    BALLAST_LOG_LEVEL: ctx.env.BALLAST_LOG_LEVEL ?? 'warn',
  });
  // A bad variable stops the demo before any Redis is started (or left running).
  loadConfig(demoEnv(ctx.env.REDIS_URL));

  // Ctrl-C or SIGTERM: stop the run, delete the demo's keys, stop a private Redis, exit 1. A
  // second signal ends the process at once (the private Redis is killed with it).
  const interrupt = new AbortController();
  const unsubscribe = ctx.onInterrupt?.(() => {
    interrupt.abort();
    // After this signal's other listeners: the private Redis's guard must see this one and wait.
    setImmediate(() => unsubscribe?.());
  });
  try {
    let redis: ResolvedRedis;
    try {
      redis = await resolveRedis({ REDIS_URL: ctx.env.REDIS_URL });
    } catch (err) {
      throw new RefusedError(
        `${err instanceof Error ? err.message : String(err)}. The demo needs a Redis: set REDIS_URL, run one on 127.0.0.1:6379, or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) so that the demo can start a private one`,
      );
    }
    try {
      await demo(ctx, options, prefix, redis, loadConfig(demoEnv(redis.url)), interrupt.signal);
    } finally {
      await redis.stop();
    }
  } finally {
    unsubscribe?.();
  }
}

async function demo(
  ctx: CliContext,
  options: DemoOptions,
  prefix: string,
  redis: ResolvedRedis,
  config: Config,
  interrupted: AbortSignal,
): Promise<void> {
  const app = createApp(config, { log: createLogger(config.logLevel, { role: 'demo' }) });
  const say = (text: string) => {
    if (!options.json) ctx.out(text);
  };
  const stopIfInterrupted = () => {
    if (interrupted.aborted) throw new RefusedError('demo interrupted');
  };
  try {
    stopIfInterrupted();
    say(
      `Redis: ${redis.private ? `a private redis-server at ${redis.url} (stopped at the end)` : redis.url}; key prefix ${prefix}\n`,
    );
    const examples = join(packageRoot(), 'examples');
    const metrics = await readMetricsFile(join(examples, 'metrics.json'));
    await importMetrics(app.redis, app.keys, metrics.metrics.values());
    const files = (await readdir(join(examples, 'portfolios'))).filter((f) => f.endsWith('.json')).sort();
    const ids: string[] = [];
    for (const file of files) {
      const portfolio = portfolioFromWire(
        await readJsonFile(join(examples, 'portfolios', file)),
        ctx.now().toISOString(),
      );
      await app.store.create(portfolio, cliEdit(app.config, 'demo'));
      ids.push(portfolio.id);
    }
    say(
      `Loaded ${ids.length} portfolios (${files.join(', ')}) and metrics for ${metrics.metrics.size} businesses.\n`,
    );

    stopIfInterrupted();
    const worker = await startWorker(app);
    const events = await app.queue.events(app.redis);
    const runId = manualRunId(ctx.now(), 'demo');
    let progress: RunProgress;
    const stop = new AbortController();
    const onInterrupt = () => stop.abort();
    interrupted.addEventListener('abort', onInterrupt, { once: true });
    try {
      const watching = followRun(app, events, runId, () => {}, { signal: stop.signal });
      await app.queue.add({
        name: 'nightly',
        data: { runId, trigger: 'manual' },
        jobId: nightlyJobId(runId),
        priority: OPERATOR_PRIORITY,
      });
      progress = await watching;
    } finally {
      interrupted.removeEventListener('abort', onInterrupt);
      stop.abort();
      await events.close();
      await worker.close();
    }
    stopIfInterrupted();
    const reports: WireReport[] = [];
    for (const id of ids) {
      const json = await app.reports.runReport(id, runId);
      if (json) reports.push(JSON.parse(json) as WireReport);
    }
    if (options.json) {
      ctx.out(formatJson({ run_id: runId, prefix, kept: options.keep === true, reports }));
    } else {
      say(
        `\nNightly run ${runId}: ${progress.completed} of ${progress.total} portfolios done, ${progress.failed} failed.\n`,
      );
      for (const report of reports) say(`\n${formatReportText(report)}`);
      say(
        `\nReports were published to:\n` +
          `  global stream      ${app.keys.reports}\n` +
          `  per portfolio      ${app.keys.portfolioReports('<portfolio_id>')}\n` +
          `  latest report      ${app.keys.latestReport('<portfolio_id>')}\n` +
          `  pub/sub channel    ${app.keys.reportsChannel}\n`,
      );
    }
    if (progress.failed > 0) throw new RefusedError(`${progress.failed} portfolios failed in the demo run`);
  } finally {
    if (options.keep) {
      say(`\nKept the demo keys: inspect them with redis-cli --scan --pattern '${prefix}:*'\n`);
    } else {
      const deleted = await deletePrefix(app.redis, prefix);
      say(`\nCleaned up ${deleted} demo keys.\n`);
    }
    await app.close();
  }
}
