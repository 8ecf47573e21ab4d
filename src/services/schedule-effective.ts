/**
 * Which schedule the running schedulers obey, from what they write to Redis (see
 * scheduler-presence.ts); the local configuration when none runs. With a warning for each way
 * the schedulers, or the local environment, differ.
 */
import type { SchedulerPresence, ScheduleStore } from '../adapters/schedule-store.js';
import type { App } from '../app.js';
import { type CronSchedule, parseSchedule } from '../runtime/cron-slots.js';
import { PRESENCE_TTL_MS } from '../runtime/scheduler-presence.js';

export interface Effective {
  readonly cron: string;
  readonly timezone: string;
  readonly catchUp: boolean;
  readonly catchUpWindowHours: number;
  readonly source: 'scheduler' | 'local';
  readonly schedule: CronSchedule;
  readonly schedulers: readonly SchedulerPresence[];
  readonly warnings: string[];
}

/**
 * What the schedulers obey: the first running one's configuration (by host and pid), else the
 * local one; with a warning for each way the others, or the local environment, differ.
 */
export async function effectiveSchedule(app: App, store: ScheduleStore): Promise<Effective> {
  const local = app.config;
  const schedulers = await store.presences();
  const warnings: string[] = [];
  const first = schedulers[0];
  let parsed: CronSchedule | null = null;
  if (first) {
    try {
      parsed = parseSchedule(first.cron, first.timezone);
    } catch {
      warnings.push(
        `the scheduler on ${name(first)} wrote a schedule that cannot be read: ${describe(first)}`,
      );
    }
  }
  if (!first || !parsed) {
    if (!first) {
      warnings.push(
        `no scheduler is running under prefix ${app.keys.prefix} (none has reported within ${PRESENCE_TTL_MS / 1000} s): showing the local configuration (BALLAST_CRON, BALLAST_TZ), and no slot runs until a scheduler starts`,
      );
    }
    return {
      cron: local.cron,
      timezone: local.timezone,
      catchUp: local.catchUp,
      catchUpWindowHours: local.catchUpWindowHours,
      source: 'local',
      schedule: parseSchedule(local.cron, local.timezone),
      schedulers,
      warnings,
    };
  }
  const others = schedulers.filter((s) => describe(s) !== describe(first));
  if (others.length > 0) {
    warnings.push(
      `the schedulers disagree: ${schedulers.map((s) => `${name(s)} runs ${describe(s)}`).join('; ')}; each runs the slots of its own schedule: give them all the same BALLAST_CRON, BALLAST_TZ and BALLAST_CATCH_UP`,
    );
  }
  const differs = [
    first.cron !== local.cron && `BALLAST_CRON is "${local.cron}" here, "${first.cron}" there`,
    first.timezone !== local.timezone && `BALLAST_TZ is ${local.timezone} here, ${first.timezone} there`,
    first.catchUp !== local.catchUp && `BALLAST_CATCH_UP is ${local.catchUp} here, ${first.catchUp} there`,
  ].filter((d): d is string => typeof d === 'string');
  if (differs.length > 0) {
    warnings.push(
      `the local environment differs from the running scheduler on ${name(first)}: ${differs.join('; ')}; showing the scheduler's`,
    );
  }
  return {
    cron: first.cron,
    timezone: first.timezone,
    catchUp: first.catchUp,
    catchUpWindowHours: first.catchUpWindowHours,
    source: 'scheduler',
    schedule: parsed,
    schedulers,
    warnings,
  };
}

function name(s: SchedulerPresence): string {
  return `${s.host} (pid ${s.pid})`;
}

function describe(s: SchedulerPresence): string {
  return `"${s.cron}" in ${s.timezone}, catch-up ${s.catchUp ? `on (${s.catchUpWindowHours} h)` : 'off'}`;
}
