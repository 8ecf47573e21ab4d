import { createApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { startHeartbeat } from '../../runtime/heartbeat.js';
import { type RunningScheduler, SchedulerAbortedError, startScheduler } from '../../runtime/scheduler.js';
import { shutdownSignal } from '../../runtime/signals.js';
import type { CliContext } from '../context.js';

/** `ballast scheduler`: loaded only when the command runs (see program.ts). */
export async function runScheduler(ctx: CliContext): Promise<void> {
  const config = loadConfig(ctx.env);
  const log = createLogger(config.logLevel, { role: 'scheduler' });
  const app = createApp(config, { log });
  // Listening before the start: a start waiting on an unreachable Redis stops on SIGTERM too.
  const stop = shutdownSignal();
  const abort = new AbortController();
  let scheduler: RunningScheduler | undefined;
  try {
    const started = await Promise.race([
      startScheduler(app, { signal: abort.signal }),
      stop.then((signal) => {
        abort.abort();
        return signal;
      }),
    ]);
    if (typeof started === 'string') {
      log.info({ signal: started }, 'scheduler stopping before it started (Redis not reachable yet)');
      return;
    }
    scheduler = started;
    const heartbeat = startHeartbeat(app.redis, app.keys, 'scheduler', log);
    await Promise.race([heartbeat.firstBeat, stop]);
    log.info('heartbeat started (ballast health --role scheduler)');
    const signal = await stop;
    log.info({ signal }, 'scheduler stopping');
    await scheduler.close();
    await heartbeat.stop();
  } catch (err) {
    if (!(err instanceof SchedulerAbortedError)) throw err;
  } finally {
    await app.close();
    log.info('scheduler stopped');
  }
}
