import { randomBytes } from 'node:crypto';

/** `manual-20261125T031500Z-1a2b3c`: sortable, unique, safe in job ids and Redis keys. */
export function manualRunId(now: Date, kind = 'manual'): string {
  return `${kind}-${compactTime(now)}-${randomBytes(3).toString('hex')}`;
}

/** The nightly run id of a cron slot: the same slot gives the same id on every replica. */
export function cronRunId(slot: Date): string {
  return `cron-${compactTime(slot)}`;
}

function compactTime(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}
