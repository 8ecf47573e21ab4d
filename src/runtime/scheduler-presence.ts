/**
 * A running scheduler's configuration in Redis (cron, time zone, catch-up), rewritten every 10 s
 * with a 30 s expiry: `schedule status`, the API and the console show what the schedulers obey,
 * not what the shell that asks happens to have in BALLAST_CRON. A clean stop deletes it; a killed
 * scheduler's expires.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchedulerPresence, ScheduleStore } from '../adapters/schedule-store.js';
import type { Logger } from '../logger.js';
import { withDeadline } from '../observability/deadline.js';
import { packageRoot } from './package-root.js';

export const PRESENCE_INTERVAL_MS = 10_000;
/** Three writes: one late write (a busy moment, a failover) does not yet hide a running scheduler. */
export const PRESENCE_TTL_MS = 3 * PRESENCE_INTERVAL_MS;

export interface Presence {
  /** Settles when the first write has been made (or failed). */
  readonly first: Promise<void>;
  stop(): Promise<void>;
}

export function startPresence(
  store: ScheduleStore,
  entry: Omit<SchedulerPresence, 'writtenAt' | 'version'>,
  clock: () => Date,
  log: Logger,
): Presence {
  const version = ballastVersion();
  let inFlight: Promise<void> | null = null;
  const write = (): Promise<void> => {
    // Redis down: the commands wait in ioredis's queue; one write is enough.
    if (inFlight) return inFlight;
    const writing = store
      .writePresence({ ...entry, version, writtenAt: clock().toISOString() }, PRESENCE_TTL_MS)
      .catch((err: unknown) =>
        log.debug(
          { err: err instanceof Error ? err.message : String(err) },
          'scheduler presence not written',
        ),
      )
      .finally(() => {
        inFlight = null;
      });
    inFlight = writing;
    return writing;
  };
  const first = write();
  const timer = setInterval(() => void write(), PRESENCE_INTERVAL_MS);
  timer.unref();
  return {
    first,
    async stop() {
      clearInterval(timer);
      // Bounded: a stop during a Redis outage must not hang; the entry then expires by itself.
      await withDeadline(Promise.resolve(inFlight), 1000, 'last presence write').catch(() => {});
      await withDeadline(store.removePresence(entry.holder), 1000, 'presence delete').catch(() => {});
    },
  };
}

let version: string | undefined;

function ballastVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
        version?: string;
      };
      version = pkg.version ?? 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}
