/**
 * The API's own Redis connections. The app's connections wait through an outage
 * (`maxRetriesPerRequest: null`: right for a worker, whose job resumes when Redis is back, and
 * required by BullMQ's blocking readers), so a request served on them would hang until Redis
 * returns. These fail fast instead: no offline queue (a command sent while disconnected is
 * refused at once and never sent later, so a 503 never turns into a write once Redis is back),
 * and no retry: a command in flight when the connection drops fails (ioredis would otherwise send
 * it again after reconnecting, long after the client got its answer). Routes are refused up front
 * while a connection is not ready: BullMQ waits for its connection's first `ready` whatever
 * its options say.
 */

import { JobQueue } from '../../adapters/queue.js';
import type { RedisClient } from '../../adapters/redis.js';
import { createRedis } from '../../adapters/redis.js';
import { type App, stores } from '../../app.js';
import { settledWithin } from '../../timing.js';

const FAIL_FAST = { maxRetriesPerRequest: 0, enableOfflineQueue: false } as const;

export interface ApiRedis {
  /**
   * The app with the API's connections in place of its own: the same stores, reports and queue
   * (config, log, clock and metrics source are the app's). Its close() closes only what the
   * API opened.
   */
  readonly app: App;
  /**
   * Why a request cannot be served now (a connection is not ready), or null. A connection still
   * connecting (the first requests after start-up) is waited for, up to `connectWaitMs`.
   */
  unavailable(): Promise<string | null>;
  close(): Promise<void>;
}

/** Statuses of a connection on its way to `ready` (not one that has failed and waits to retry). */
const CONNECTING = new Set(['wait', 'connecting', 'connect']);

export interface ApiRedisOptions {
  /** How long a request waits for a connection still connecting (just after start-up). */
  readonly connectWaitMs: number;
  /** How long close() waits for Redis at each step before it cuts the connections. */
  readonly closeWaitMs: number;
}

export function apiRedis(app: App, options: ApiRedisOptions): ApiRedis {
  const { config, keys, log } = app;
  // The app's own connections log their errors already: these would repeat them.
  const onError = (err: Error) => log.debug({ err: err.message }, 'api redis connection error');
  const redis = createRedis(config, FAIL_FAST);
  redis.on('error', onError);
  const queueRedis = createRedis(config, FAIL_FAST);
  queueRedis.on('error', onError);
  const queue = new JobQueue(config, keys, queueRedis, onError);
  const connections: readonly RedisClient[] = [redis, queueRedis];

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Each step waits for Redis at most closeWaitMs: one that accepts and never answers would
      // otherwise hold the shutdown forever. Nothing is left to flush by then (fastify has
      // answered every request), so cutting a connection loses nothing.
      await settledWithin(queue.close(), options.closeWaitMs);
      await Promise.all(
        connections.map(async (c) => {
          if (c.status === 'ready') await settledWithin(c.quit(), options.closeWaitMs);
          c.disconnect();
        }),
      );
    })();
    return closing;
  };

  return {
    app: {
      ...app,
      redis,
      ...stores(config, keys, redis, app.clock),
      queue,
      close,
      [Symbol.asyncDispose]: close,
    },
    unavailable: async () => {
      if (connections.some((c) => CONNECTING.has(c.status))) {
        await settled(connections, options.connectWaitMs);
      }
      const down = connections.find((c) => c.status !== 'ready');
      return down
        ? `Redis is not reachable (connection ${down.status}): nothing was done; try again when GET /readyz answers 200`
        : null;
    },
    close,
  };
}

/** Resolves when no connection is connecting any more (ready, or failed), or after `ms`. */
function settled(connections: readonly RedisClient[], ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const events = ['ready', 'close', 'end', 'error'] as const;
    const check = () => {
      if (!connections.some((c) => CONNECTING.has(c.status))) finish();
    };
    const finish = () => {
      clearTimeout(timer);
      for (const c of connections) for (const e of events) c.off(e, check);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    for (const c of connections) for (const e of events) c.on(e, check);
    check();
  });
}
