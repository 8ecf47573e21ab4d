import { createApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { type Heartbeat, startHeartbeat } from '../../runtime/heartbeat.js';
import { warnAboutRedisSettings } from '../../runtime/redis-check.js';
import { type RunningScheduler, SchedulerAbortedError, startScheduler } from '../../runtime/scheduler.js';
import { shutdownDeadline } from '../../runtime/shutdown.js';
import { shutdownSignal } from '../../runtime/signals.js';
import type { CliContext } from '../context.js';

/** `ballast scheduler`: loaded only when the command runs (see program.ts). */
export async function runScheduler(ctx: CliContext): Promise<void> {
  const config = loadConfig(ctx.env);
  const log = createLogger(config.logLevel, { role: 'scheduler' });
  const app = createApp(config, { log });
  // Listening before the start: a start waiting on an unreachable Redis stops on SIGTERM too.
  const stop = shutdownSignal();
  const deadline = shutdownDeadline({ log, timeoutMs: config.shutdownTimeoutMs, stop });
  const abort = new AbortController();
  let scheduler: RunningScheduler | undefined;
  let heartbeat: Heartbeat | undefined;
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
    await warnAboutRedisSettings(app.redis, log);
    heartbeat = startHeartbeat(app.redis, app.keys, 'scheduler', log);
    await Promise.race([heartbeat.firstBeat, stop]);
    log.info('heartbeat started (ballast health --role scheduler)');
    const signal = await stop;
    log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'scheduler stopping');
  } catch (err) {
    if (!(err instanceof SchedulerAbortedError)) throw err;
  } finally {
    const [s, h] = [scheduler, heartbeat];
    await deadline.close([
      s && { name: 'scheduler', close: () => s.close() },
      h && { name: 'heartbeat', close: () => h.stop() },
      { name: 'connections', close: () => app.close() },
    ]);
    log.info('scheduler stopped');
  }
}
