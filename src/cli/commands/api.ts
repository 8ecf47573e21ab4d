import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { RefusedError } from '../../domain/index.js';
import { warnAboutRedisSettingsWhenConnected } from '../../runtime/redis-check.js';
import type { CliContext } from '../context.js';

interface ApiOptions {
  readonly insecureNoAuth?: boolean;
}

export function registerApiCommand(program: Command, ctx: CliContext): void {
  program
    .command('api')
    .description(
      'serve the HTTP API on BALLAST_API_HOST:BALLAST_API_PORT (bearer token BALLAST_API_TOKEN) until SIGTERM/SIGINT',
    )
    .option('--insecure-no-auth', 'serve without a token, on 127.0.0.1 only (local experiments)')
    .addHelpText(
      'after',
      '\nExample:\n  BALLAST_API_TOKEN=$(openssl rand -hex 24) ballast api\n  curl -H "Authorization: Bearer $BALLAST_API_TOKEN" http://127.0.0.1:8080/portfolios/owner/dana\n',
    )
    .action(async (options: ApiOptions) => {
      const config = loadConfig(ctx.env);
      // Refused before anything connects: a server without a token must be asked for explicitly.
      if (!config.api.token && !options.insecureNoAuth) {
        throw new RefusedError(
          'BALLAST_API_TOKEN is not set: set a token of 16 characters or more, or pass --insecure-no-auth to serve on 127.0.0.1 without auth',
        );
      }
      // fastify, bullmq and pino load only when this command runs (see program.ts).
      const [{ startApi }, { createApp }, { createLogger }, { shutdownSignal }, { shutdownDeadline }] =
        await Promise.all([
          import('../../api/start-api.js'),
          import('../../app.js'),
          import('../../logger.js'),
          import('../../runtime/signals.js'),
          import('../../runtime/shutdown.js'),
        ]);
      const log = createLogger(config.logLevel, { role: 'api' });
      const app = createApp(config, { log });
      const stop = shutdownSignal();
      const deadline = shutdownDeadline({ log, timeoutMs: config.shutdownTimeoutMs, stop });
      let api: Awaited<ReturnType<typeof startApi>>;
      try {
        api = await startApi(app, config, { insecureNoAuth: options.insecureNoAuth });
      } catch (err) {
        await app.close();
        throw err;
      }
      log.info(
        {
          url: api.url,
          docs: `${api.url}/docs`,
          dashboard: `${api.url}/admin/queues`,
          auth: !options.insecureNoAuth,
        },
        'api listening',
      );
      warnAboutRedisSettingsWhenConnected(app.redis, log);
      const signal = await stop;
      log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'api stopping: finishing requests in flight');
      await deadline.close([
        { name: 'api', close: () => api.close() },
        { name: 'connections', close: () => app.close() },
      ]);
      log.info('api stopped');
    });
}
