import { type RunningApi, startApi } from '../../api/start-api.js';
import { createApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { RefusedError } from '../../domain/index.js';
import { createLogger } from '../../logger.js';
import { prometheusFor } from '../../observability/prometheus.js';
import { heapLimitMb } from '../../runtime/heap.js';
import { type Heartbeat, startHeartbeat } from '../../runtime/heartbeat.js';
import { warnAboutRedisSettings } from '../../runtime/redis-check.js';
import { type RunningScheduler, SchedulerAbortedError, startScheduler } from '../../runtime/scheduler.js';
import { shutdownDeadline } from '../../runtime/shutdown.js';
import { shutdownSignal } from '../../runtime/signals.js';
import { type RunningWorker, startWorker, WorkerAbortedError } from '../../runtime/worker.js';
import type { CliContext } from '../context.js';

export interface StartOptions {
  api?: boolean;
  insecureNoAuth?: boolean;
}

/** `ballast start`: loaded only when the command runs (see program.ts). */
export async function runStart(ctx: CliContext, options: StartOptions): Promise<void> {
  const config = loadConfig(ctx.env);
  const withApi = options.api !== false;
  if (withApi && !config.api.token && !options.insecureNoAuth) {
    throw new RefusedError(
      'BALLAST_API_TOKEN is not set: set it (16+ characters), or start with --insecure-no-auth (loopback only), or with --no-api',
    );
  }
  const log = createLogger(config.logLevel, { role: 'start' });
  const app = createApp(config, { log });
  const stop = shutdownSignal();
  // Listening before the start: a start waiting on an unreachable Redis stops on SIGTERM too.
  const abort = new AbortController();
  void stop.then(() => abort.abort());
  const prometheus = prometheusFor(app);
  let worker: RunningWorker | undefined;
  let scheduler: RunningScheduler | undefined;
  let api: RunningApi | undefined;
  let heartbeat: Heartbeat | undefined;
  const deadline = shutdownDeadline({
    log,
    timeoutMs: config.shutdownTimeoutMs,
    stop,
    openWork: () => ({ activeJobs: worker?.activeJobs() ?? [] }),
  });
  try {
    worker = await startWorker(app, prometheus.observe, { signal: abort.signal });
    await warnAboutRedisSettings(app.redis, log);
    scheduler = await startScheduler(app, { signal: abort.signal });
    if (withApi) api = await startApi(app, config, { insecureNoAuth: options.insecureNoAuth, prometheus });
    log.info(
      {
        api: api?.url ?? null,
        cron: config.cron,
        concurrency: config.concurrency,
        heapLimitMb: heapLimitMb(),
      },
      'ballast started',
    );
    heartbeat = startHeartbeat(app.redis, app.keys, 'start', log);
    const signal = await stop;
    log.info(
      { signal, timeoutMs: config.shutdownTimeoutMs },
      'shutting down: no new runs, finishing active jobs',
    );
  } catch (err) {
    if (!(err instanceof WorkerAbortedError || err instanceof SchedulerAbortedError)) throw err;
    log.info('stopping before the start finished (Redis not reachable yet)');
  } finally {
    // Stop scheduling first, then stop taking requests, then let the active jobs finish.
    const [s, a, w, h] = [scheduler, api, worker, heartbeat];
    await deadline.close([
      s && { name: 'scheduler', close: () => s.close() },
      a && { name: 'api', close: () => a.close() },
      w && { name: 'worker', close: () => w.close() },
      h && { name: 'heartbeat', close: () => h.stop() },
      { name: 'connections', close: () => app.close() },
    ]);
    log.info('ballast stopped');
  }
}
