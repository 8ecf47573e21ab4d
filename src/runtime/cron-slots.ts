/**
 * Cron slots of the nightly schedule, pure: time comes in as arguments.
 *
 * A slot is a local wall-clock time, in the schedule's time zone, that matches the cron
 * expression. Its instant is that wall time in the zone, with two rules where DST makes the
 * mapping other than one to one:
 * - a wall time that does not exist (spring-forward skips it: 02:30 in Europe/Paris on
 *   2026-03-29) is the first instant after the gap (03:00 CEST, 01:00Z), as Vixie cron runs
 *   the jobs of a skipped hour right after the change. The slots of one gap share that instant,
 *   and so one run id: they are one run.
 * - a wall time that occurs twice (fall-back: 02:30 in Europe/Paris on 2026-10-25) is its
 *   first occurrence only (00:30Z, not 01:30Z).
 * node-cron skips the first kind and fires one of the two occurrences of the second (which one
 * depends on the zone), so the scheduler takes its slots from here, never from node-cron's
 * firing instant. Searches skip by field (month, day, then hour, minute, second), so any window
 * costs a handful of time-zone conversions.
 */
import cron from 'node-cron';
import { instantOf, wallCeiling, wallClock } from './zone-time.js';

export { localIso } from './zone-time.js';

export interface CronSchedule {
  readonly expression: string;
  readonly timezone: string;
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** 1..12. */
  readonly months: readonly number[];
  /** Days, and node-cron's tokens (L, L-3, 15W, LW). */
  readonly daysOfMonth: readonly (number | string)[];
  /** 0..6 from Sunday, and node-cron's tokens (5L, 1#2). */
  readonly daysOfWeek: readonly (number | string)[];
}

const SECOND = 1000;
const DAY = 24 * 3600 * SECOND;
/** How far ahead a next slot is looked for (29 February on a Monday comes back within 28 years). */
const SEARCH_DAYS = 366 * 30;

/** The expression's fields as node-cron reads them (it validated the expression already). */
export function parseSchedule(expression: string, timezone: string): CronSchedule {
  const fields = cron.parse(expression);
  const ascending = (values: readonly (number | string)[]) =>
    values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  return {
    expression,
    timezone,
    seconds: ascending(fields.second),
    minutes: ascending(fields.minute),
    hours: ascending(fields.hour),
    months: ascending(fields.month),
    daysOfMonth: fields.dayOfMonth,
    daysOfWeek: fields.dayOfWeek,
  };
}

/** The latest slot at or before `now`, and not before `now - windowMs`; null when none. */
export function previousSlot(schedule: CronSchedule, now: Date, windowMs: number): Date | null {
  const tz = schedule.timezone;
  const nowMs = now.getTime();
  const earliest = nowMs - windowMs;
  // Offsets differ by less than a day: no wall time below this maps into the window.
  const floor = wallClock(tz, earliest) - DAY;
  let wall = previousWall(schedule, wallCeiling(tz, nowMs), floor);
  while (wall !== null) {
    const t = instantOf(tz, wall);
    // Instants grow with wall times: the first one at or before now is the latest slot.
    if (t <= nowMs) return t >= earliest ? new Date(t) : null;
    wall = previousWall(schedule, wall - SECOND, floor);
  }
  return null;
}

/** The first slot strictly after `after`; null when the expression never matches again. */
export function nextSlot(schedule: CronSchedule, after: Date): Date | null {
  const tz = schedule.timezone;
  const afterMs = after.getTime();
  const start = wallCeiling(tz, afterMs) + SECOND;
  const limit = start + SEARCH_DAYS * DAY;
  let wall = nextWall(schedule, start, limit);
  while (wall !== null) {
    const t = instantOf(tz, wall);
    if (t > afterMs) return new Date(t);
    wall = nextWall(schedule, wall + SECOND, limit);
  }
  return null;
}

/** The next `count` slots after `after` (fewer if the expression stops matching). */
export function nextSlots(schedule: CronSchedule, after: Date, count: number): Date[] {
  const slots: Date[] = [];
  let from = after;
  while (slots.length < count) {
    const next = nextSlot(schedule, from);
    if (!next) break;
    slots.push(next);
    from = next;
  }
  return slots;
}

/**
 * The slot of an instant at which node-cron fired: the slot whose wall time is the instant's
 * local reading (at a fall-back, the first occurrence even if node-cron fired the second);
 * null if that reading does not match.
 */
export function slotAt(schedule: CronSchedule, instant: Date): Date | null {
  const wall = wallClock(schedule.timezone, instant.getTime());
  return wallMatches(schedule, wall) ? new Date(instantOf(schedule.timezone, wall)) : null;
}

// --- Wall times: ms since the epoch of the local reading taken as UTC (Date.UTC of its fields).

function wallMatches(s: CronSchedule, wall: number): boolean {
  const d = new Date(wall);
  return (
    s.seconds.includes(d.getUTCSeconds()) &&
    s.minutes.includes(d.getUTCMinutes()) &&
    s.hours.includes(d.getUTCHours()) &&
    s.months.includes(d.getUTCMonth() + 1) &&
    dayMatches(s, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())
  );
}

/** The latest matching wall time at or before `wall`, not below `floor`. */
function previousWall(s: CronSchedule, wall: number, floor: number): number | null {
  let day = Math.floor(wall / DAY) * DAY;
  let bound: number | null = wall - day;
  while (day + DAY > floor) {
    const d = new Date(day);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth() + 1;
    if (!s.months.includes(month)) {
      day = Date.UTC(year, month - 1, 0); // the last day of the month before
      bound = null;
      continue;
    }
    if (dayMatches(s, year, month, d.getUTCDate())) {
      const time = lastTimeOfDay(s, bound);
      if (time !== null) return day + time >= floor ? day + time : null;
    }
    day -= DAY;
    bound = null;
  }
  return null;
}

/** The first matching wall time at or after `wall`, not beyond `limit`. */
function nextWall(s: CronSchedule, wall: number, limit: number): number | null {
  let day = Math.floor(wall / DAY) * DAY;
  let bound: number | null = wall - day;
  while (day <= limit) {
    const d = new Date(day);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth() + 1;
    if (!s.months.includes(month)) {
      day = Date.UTC(year, month, 1); // the first day of the month after
      bound = null;
      continue;
    }
    if (dayMatches(s, year, month, d.getUTCDate())) {
      const time = firstTimeOfDay(s, bound);
      if (time !== null) return day + time;
    }
    day += DAY;
    bound = null;
  }
  return null;
}

/** The latest matching time of day (ms) at or before `bound` (null: any). */
function lastTimeOfDay(s: CronSchedule, bound: number | null): number | null {
  const [bh, bm, bs] = bound === null ? [23, 59, 59] : splitTime(bound);
  for (let i = s.hours.length - 1; i >= 0; i--) {
    const h = s.hours[i]!;
    if (h > bh) continue;
    const atHour = h === bh;
    for (let j = s.minutes.length - 1; j >= 0; j--) {
      const m = s.minutes[j]!;
      if (atHour && m > bm) continue;
      const atMinute = atHour && m === bm;
      for (let k = s.seconds.length - 1; k >= 0; k--) {
        const sec = s.seconds[k]!;
        if (atMinute && sec > bs) continue;
        return ((h * 60 + m) * 60 + sec) * SECOND;
      }
    }
  }
  return null;
}

/** The first matching time of day (ms) at or after `bound` (null: any). */
function firstTimeOfDay(s: CronSchedule, bound: number | null): number | null {
  const [bh, bm, bs] = bound === null ? [0, 0, 0] : splitTime(bound);
  for (const h of s.hours) {
    if (h < bh) continue;
    const atHour = h === bh;
    for (const m of s.minutes) {
      if (atHour && m < bm) continue;
      const atMinute = atHour && m === bm;
      for (const sec of s.seconds) {
        if (atMinute && sec < bs) continue;
        return ((h * 60 + m) * 60 + sec) * SECOND;
      }
    }
  }
  return null;
}

function splitTime(ms: number): [number, number, number] {
  const seconds = Math.floor(ms / SECOND);
  return [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
}

// --- Days, as node-cron matches them: day of month AND day of week.

function dayMatches(s: CronSchedule, year: number, month: number, day: number): boolean {
  return (
    matchesDayOfMonth(s.daysOfMonth, year, month, day) && matchesDayOfWeek(s.daysOfWeek, year, month, day)
  );
}

function lastDayOfMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The weekday nearest to `target` within its month (the `W` token). */
function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDayOfMonth(year, month);
  if (target < 1 || target > last) return -1;
  const weekday = weekdayOf(year, month, target);
  if (weekday === 6) return target === 1 ? target + 2 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(
  field: readonly (number | string)[],
  year: number,
  month: number,
  day: number,
): boolean {
  for (const value of field) {
    if (value === day) return true;
    if (typeof value !== 'string') continue;
    const last = lastDayOfMonth(year, month);
    if (value === 'L' && day === last) return true;
    const weekday = /^(\d{1,2}|L)W$/.exec(value);
    if (weekday && nearestWeekday(year, month, weekday[1] === 'L' ? last : Number(weekday[1])) === day) {
      return true;
    }
    const fromLast = /^L-(\d{1,2})$/.exec(value);
    if (fromLast && last - Number(fromLast[1]) >= 1 && last - Number(fromLast[1]) === day) return true;
  }
  return false;
}

function matchesDayOfWeek(
  field: readonly (number | string)[],
  year: number,
  month: number,
  day: number,
): boolean {
  const weekday = weekdayOf(year, month, day);
  for (const value of field) {
    if (value === weekday) return true;
    if (typeof value !== 'string') continue;
    const nth = /^([0-7])#([1-5])$/.exec(value);
    if (nth) {
      if (Number(nth[1]) % 7 === weekday && Math.floor((day - 1) / 7) + 1 === Number(nth[2])) return true;
      continue;
    }
    const lastOf = /^([0-7])L$/i.exec(value);
    if (lastOf && Number(lastOf[1]) % 7 === weekday && day + 7 > lastDayOfMonth(year, month)) return true;
  }
  return false;
}

/**
 * The slots from `from` to `to`, both included, in order; at most `limit + 1` of them, so that
 * a caller with a limit learns that the range holds more without listing them all.
 */
export function slotsBetween(schedule: CronSchedule, from: Date, to: Date, limit: number): Date[] {
  const slots: Date[] = [];
  let after = new Date(from.getTime() - 1);
  while (slots.length <= limit) {
    const next = nextSlot(schedule, after);
    if (!next || next.getTime() > to.getTime()) break;
    slots.push(next);
    after = next;
  }
  return slots;
}
