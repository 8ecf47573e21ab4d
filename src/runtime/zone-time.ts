/**
 * Wall-clock times of a time zone, pure (the zone data is Intl's): a wall time is the local
 * reading of an instant as ms since the epoch of the same fields taken as UTC (Date.UTC). At DST
 * changes the two are not one to one; these functions say how cron-slots maps them.
 */

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
/** Longer than any DST fold there is (Antarctica/Troll: two hours). */
const MAX_FOLD_MS = 3 * HOUR;

/** `2026-10-25T02:30:00+02:00`: the instant as read in the time zone, with its offset. */
export function localIso(timezone: string, instant: Date): string {
  const t = floorSecond(instant.getTime());
  const offset = offsetAt(timezone, t);
  const local = new Date(t + offset).toISOString().replace(/\.\d{3}Z$/, '');
  const sign = offset < 0 ? '-' : '+';
  const minutes = Math.abs(offset) / 60_000;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${local}${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

function floorSecond(ms: number): number {
  return Math.floor(ms / SECOND) * SECOND;
}

/** The zone's UTC offset (ms) at instant `t`. */
function offsetAt(timezone: string, t: number): number {
  if (timezone === 'UTC' || timezone === 'Etc/UTC') return 0;
  const at = floorSecond(t);
  const p: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(at)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!);
  return wall - at;
}

/** The local reading of instant `t`, whole seconds. */
export function wallClock(timezone: string, t: number): number {
  const at = floorSecond(t);
  return at + offsetAt(timezone, at);
}

/** The first instant (whole seconds) in (lo, hi] whose offset is not lo's; hi's offset differs from lo's. */
function transitionIn(timezone: string, lo: number, hi: number): number {
  const before = offsetAt(timezone, lo);
  let a = lo;
  let b = hi;
  while (b - a > SECOND) {
    const mid = a + Math.floor((b - a) / 2 / SECOND) * SECOND;
    if (offsetAt(timezone, mid) === before) a = mid;
    else b = mid;
  }
  return b;
}

/** The instant of a wall time: its first occurrence, or the end of the gap it falls in. */
export function instantOf(timezone: string, wall: number): number {
  const early = offsetAt(timezone, wall - DAY);
  const late = offsetAt(timezone, wall + DAY);
  const valid: number[] = [];
  for (const offset of new Set([early, late])) {
    if (offsetAt(timezone, wall - offset) === offset) valid.push(wall - offset);
  }
  if (valid.length > 0) return Math.min(...valid);
  // In a gap (late > early): the wall time is skipped; the first instant after the gap.
  return transitionIn(timezone, wall - late, wall - early);
}

/** The latest wall time (whole seconds) whose instant is at or before `t`. */
export function wallCeiling(timezone: string, t: number): number {
  const at = floorSecond(t);
  const offset = offsetAt(timezone, at);
  const before = offsetAt(timezone, at - MAX_FOLD_MS);
  if (before > offset) {
    const fold = before - offset;
    // The same reading came `fold` earlier, before a fall-back: `at` is in the second pass, and
    // every wall time of the first pass, up to the transition, has its instant before `at`.
    if (offsetAt(timezone, at - fold) === before) {
      return transitionIn(timezone, at - fold, at) - SECOND + before;
    }
  }
  return at + offset;
}
