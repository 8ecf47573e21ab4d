/**
 * A role's sign of life for `ballast health` (the container health check of a worker or a
 * scheduler, which serve no HTTP): while the role runs it refreshes
 * `<prefix>:heartbeat:<role>:<host>` every 10 s with a 30 s expiry. The key exists only while
 * the process runs, its event loop turns and Redis takes its writes; a clean stop deletes it.
 */
import { hostname } from 'node:os';
import type { Keys } from '../adapters/keys.js';
import { type RedisClient, scanKeys } from '../adapters/redis.js';
import type { Logger } from '../logger.js';
import { withDeadline } from '../observability/deadline.js';

export const HEARTBEAT_ROLES = ['worker', 'scheduler', 'start'] as const;
export type HeartbeatRole = (typeof HEARTBEAT_ROLES)[number];

export const HEARTBEAT_INTERVAL_MS = 10_000;
/** Three beats: one late beat (a busy moment, a Redis failover) is not yet a dead process. */
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_INTERVAL_MS;

export interface Heartbeat {
  /** Settles when the first beat has been written (or failed): tests wait on it. */
  readonly firstBeat: Promise<void>;
  stop(): Promise<void>;
}

// Only this process's beat: another process of the same role on this host keeps its own.
const DELETE_OWN = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function startHeartbeat(
  redis: RedisClient,
  keys: Keys,
  role: HeartbeatRole,
  log: Logger,
  options: { readonly intervalMs?: number; readonly host?: string } = {},
): Heartbeat {
  const intervalMs = options.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  const key = keys.heartbeat(role, options.host ?? hostname());
  const value = String(process.pid);
  let inFlight: Promise<void> | null = null;
  const beat = (): Promise<void> | null => {
    // Redis down: commands wait in ioredis's queue; one is enough.
    if (inFlight) return null;
    inFlight = redis
      .set(key, value, 'PX', 3 * intervalMs)
      .catch((err: unknown) =>
        log.debug({ err: err instanceof Error ? err.message : String(err) }, 'heartbeat not written'),
      )
      .then(() => {
        inFlight = null;
      });
    return inFlight;
  };
  const firstBeat = beat() ?? Promise.resolve();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return {
    firstBeat,
    async stop() {
      clearInterval(timer);
      // Bounded: a stop during a Redis outage must not hang; the key then expires by itself.
      await withDeadline(Promise.resolve(inFlight), 1000, 'last heartbeat').catch(() => {});
      await withDeadline(redis.eval(DELETE_OWN, 1, key, value), 1000, 'heartbeat delete').catch(() => {});
    },
  };
}

/**
 * The hosts with a live worker under this prefix (a `worker` or `start` role's heartbeat): what
 * `enqueue --wait` checks before warning that nothing will run its job.
 */
export async function liveWorkerHosts(redis: RedisClient, keys: Keys): Promise<string[]> {
  const hosts: string[] = [];
  for (const role of ['worker', 'start'] as const) {
    const prefix = keys.heartbeat(role, '');
    for await (const found of scanKeys(redis, `${escapeGlob(prefix)}*`)) {
      for (const key of found) hosts.push(key.slice(prefix.length));
    }
  }
  return [...new Set(hosts)].sort();
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
