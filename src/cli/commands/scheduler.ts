import type { Command } from 'commander';
import { createApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { startScheduler } from '../../runtime/scheduler.js';
import { shutdownSignal } from '../../runtime/signals.js';
import type { CliContext } from '../context.js';

export function registerSchedulerCommand(program: Command, ctx: CliContext): void {
  program
    .command('scheduler')
    .description(
      'enqueue the nightly run at BALLAST_CRON in BALLAST_TZ (safe with many replicas) until SIGTERM/SIGINT',
    )
    .action(async () => {
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
    });
}
