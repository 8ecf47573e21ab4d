/**
 * The range of a backfill (`schedule backfill --from --to`, `POST /schedule/backfill`), checked
 * before any slot is looked at. Pure: `now` comes in as an argument.
 */
import { ValidationError } from './errors.js';

/** Slots one backfill may run: a year of nightly slots. */
export const MAX_BACKFILL_SLOTS = 366;

const ISO_WITH_ZONE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|([+-])(\d{2}):(\d{2}))$/i;

/**
 * An ISO 8601 instant with its zone (`Z` or `+01:00`): a time without one would be read in
 * whatever zone the machine has, and the slots it picks would differ from one shell to the next.
 */
export function parseInstant(value: string, name: string): Date {
  const m = ISO_WITH_ZONE.exec(value.trim());
  const problem = () =>
    new ValidationError(
      `${name} must be an ISO 8601 time with its zone, e.g. 2026-03-01T02:00:00Z or 2026-03-01T02:00:00+01:00; got ${JSON.stringify(value)}`,
    );
  if (!m) throw problem();
  const [y, mo, d, h, mi, s, ms] = [
    m[1],
    m[2],
    m[3],
    m[4],
    m[5],
    m[6] ?? '0',
    (m[7] ?? '0').padEnd(3, '0'),
  ].map(Number) as [number, number, number, number, number, number, number];
  const wall = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  // Date.UTC rolls 30 February over into March: a date that does not exist is refused instead.
  if (
    wall.getUTCFullYear() !== y ||
    wall.getUTCMonth() !== mo - 1 ||
    wall.getUTCDate() !== d ||
    wall.getUTCHours() !== h ||
    wall.getUTCMinutes() !== mi ||
    wall.getUTCSeconds() !== s
  ) {
    throw problem();
  }
  const offsetMin =
    m[8]?.toUpperCase() === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (Math.abs(offsetMin) > 18 * 60) throw problem();
  return new Date(wall.getTime() - offsetMin * 60_000);
}

/** `from` before `to`, `to` not after `now`: a backfill runs slots that have passed, the scheduler the rest. */
export function backfillRange(from: string, to: string, now: Date): { from: Date; to: Date } {
  const start = parseInstant(from, 'from');
  const end = parseInstant(to, 'to');
  if (start.getTime() >= end.getTime()) {
    throw new ValidationError(`from (${from}) must be before to (${to})`);
  }
  if (end.getTime() > now.getTime()) {
    throw new ValidationError(
      `to (${to}) is in the future (now is ${now.toISOString()}): a backfill runs slots that have passed; the scheduler runs the coming ones`,
    );
  }
  return { from: start, to: end };
}
