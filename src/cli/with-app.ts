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
 * An unreachable Redis is a clear refusal, not a hang, and not a stream of log lines: connection
 * errors are not logged (every connection retries them several times a second); until Redis
 * has answered, the last one goes into the refusal; after, one line on stderr says the connection
 * was lost, once until it is back.
 */
export async function withApp<T>(
  ctx: CliContext,
  fn: (app: App) => Promise<T>,
  deps: AppDeps = {},
): Promise<T> {
  const config = loadConfig({ BALLAST_LOG_LEVEL: 'warn', ...ctx.env });
  let reached = false;
  let lost = false;
  let lastError: string | undefined;
  const onRedisError = (err: Error) => {
    lastError = err.message;
    if (!reached || lost) return;
    lost = true;
    ctx.err(`ballast: lost the connection to Redis (${oneLineOf(err.message)}); reconnecting\n`);
  };
  const app = createApp(config, { log: createLogger(config.logLevel), onRedisError, ...deps });
  app.redis.on('ready', () => {
    lost = false;
  });
  try {
    await ensureReachable(app, () => lastError);
    reached = true;
    return await fn(app);
  } finally {
    await app.close();
  }
}

export async function ensureReachable(
  app: App,
  lastError: () => string | undefined = () => undefined,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = lastError();
      reject(
        new RefusedError(
          `cannot reach Redis at ${redactUrl(app.config.redisUrl)} within ${CONNECT_TIMEOUT_MS / 1000}s${why ? ` (${oneLineOf(why)})` : ''}; start Redis or set REDIS_URL`,
        ),
      );
    }, CONNECT_TIMEOUT_MS);
  });
  try {
    await Promise.race([app.redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function oneLineOf(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
