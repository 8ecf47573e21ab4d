import { redactUrl } from '../../adapters/redis.js';
import { createApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { heapLimitMb } from '../../runtime/heap.js';
import { startHeartbeat } from '../../runtime/heartbeat.js';
import { warnAboutRedisSettings } from '../../runtime/redis-check.js';
import { shutdownDeadline } from '../../runtime/shutdown.js';
import { shutdownSignal } from '../../runtime/signals.js';
import { type RunningWorker, startWorker, WorkerAbortedError } from '../../runtime/worker.js';
import type { CliContext } from '../context.js';

/** `ballast worker`: loaded only when the command runs (see program.ts). */
export async function runWorker(ctx: CliContext): Promise<void> {
  const config = loadConfig(ctx.env);
  const log = createLogger(config.logLevel, { role: 'worker' });
  const app = createApp(config, { log });
  const stop = shutdownSignal();
  let worker: RunningWorker | undefined;
  const deadline = shutdownDeadline({
    log,
    timeoutMs: config.shutdownTimeoutMs,
    stop,
    openWork: () => ({ activeJobs: worker?.activeJobs() ?? [] }),
  });
  // Listening before the start: a start waiting on an unreachable Redis stops on SIGTERM too.
  const abort = new AbortController();
  void stop.then(() => abort.abort());
  try {
    worker = await startWorker(app, undefined, { signal: abort.signal });
  } catch (err) {
    if (!(err instanceof WorkerAbortedError)) throw err;
    log.info('worker stopping before it started (Redis not reachable yet)');
    await deadline.close([{ name: 'connections', close: () => app.close() }]);
    log.info('worker stopped');
    return;
  }
  await warnAboutRedisSettings(app.redis, log);
  log.info(
    {
      queue: config.queueName,
      prefix: config.prefix,
      concurrency: config.concurrency,
      metricsSource: config.metrics.source,
      redis: redactUrl(config.redisUrl),
      heapLimitMb: heapLimitMb(),
    },
    'worker started',
  );
  // For `ballast health` (the container health check): this worker is alive.
  const heartbeat = startHeartbeat(app.redis, app.keys, 'worker', log);
  const signal = await stop;
  log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: finishing active jobs');
  const running = worker;
  await deadline.close([
    { name: 'worker', close: () => running.close() },
    { name: 'heartbeat', close: () => heartbeat.stop() },
    { name: 'connections', close: () => app.close() },
  ]);
  log.info('worker stopped');
}
