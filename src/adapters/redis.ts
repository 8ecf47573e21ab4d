import { Redis, type RedisOptions } from 'ioredis';

/**
 * One ioredis connection. `maxRetriesPerRequest: null` makes commands wait through a Redis
 * restart instead of failing (BullMQ requires it for workers, and it suits every role).
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    ...options,
  });
}

/** The URL with its password hidden, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
