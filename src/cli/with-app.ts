import { redactUrl } from '../adapters/redis.js';
import { type App, type AppDeps, createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { RefusedError } from '../domain/index.js';
import { createLogger } from '../logger.js';
import type { CliContext } from './context.js';

const CONNECT_TIMEOUT_MS = 3000;

/**
 * Runs `fn` with an app built from the environment, and closes it after. Operator commands log
 * only warnings (their output is the command's own); BALLAST_LOG_LEVEL still wins when set.
 * An unreachable Redis is a clear refusal, not a hang.
 */
export async function withApp<T>(
  ctx: CliContext,
  fn: (app: App) => Promise<T>,
  deps: AppDeps = {},
): Promise<T> {
  const config = loadConfig({ BALLAST_LOG_LEVEL: 'warn', ...ctx.env });
  const app = createApp(config, { log: createLogger(config.logLevel), ...deps });
  try {
    await ensureReachable(app);
    return await fn(app);
  } finally {
    await app.close();
  }
}

export async function ensureReachable(app: App): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RefusedError(
            `cannot reach Redis at ${redactUrl(app.config.redisUrl)} within ${CONNECT_TIMEOUT_MS / 1000}s; start Redis or set REDIS_URL`,
          ),
        ),
      CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([app.redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
