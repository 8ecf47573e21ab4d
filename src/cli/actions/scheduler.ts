import { createApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { startScheduler } from '../../runtime/scheduler.js';
import { shutdownSignal } from '../../runtime/signals.js';
import type { CliContext } from '../context.js';

/** `ballast scheduler`: loaded only when the command runs (see program.ts). */
export async function runScheduler(ctx: CliContext): Promise<void> {
  const config = loadConfig(ctx.env);
  const log = createLogger(config.logLevel, { role: 'scheduler' });
  const app = createApp(config, { log });
  const stop = shutdownSignal();
  const scheduler = await startScheduler(app);
  const signal = await stop;
  log.info({ signal }, 'scheduler stopping');
  await scheduler.close();
  await app.close();
  log.info('scheduler stopped');
}
