/** Cron slots, pure: DST transitions in two zones, and field-skipping searches against brute force. */
import fc from 'fast-check';
import cron from 'node-cron';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CronSchedule,
  localIso,
  nextSlot,
  nextSlots,
  parseSchedule,
  previousSlot,
  slotAt,
} from '../../src/runtime/cron-slots.js';
import { cronRunId } from '../../src/runtime/run-ids.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const SEED = readSeed(process.env['FC_SEED']);

function readSeed(raw: string | undefined): number {
  if (raw === undefined || raw === '') return Date.now() | 0;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return seed | 0;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
const at = (text: string) => new Date(text);

describe('cron slots in UTC', () => {
  const nightly = parseSchedule('0 2 * * *', 'UTC');
  it('finds the last slot within the window, and none outside it', () => {
    const now = at('2026-11-25T04:30:10Z');
    expect(iso(previousSlot(nightly, now, 6 * HOUR))).toBe('2026-11-25T02:00:00.000Z');
    expect(previousSlot(nightly, now, 2 * HOUR)).toBeNull();
    expect(iso(previousSlot(nightly, at('2026-11-25T02:00:00Z'), 0))).toBe('2026-11-25T02:00:00.000Z');
    expect(previousSlot(nightly, at('2026-11-25T01:59:59.999Z'), HOUR)).toBeNull();
  });

  it('lists the next slots strictly after an instant', () => {
    expect(nextSlots(nightly, at('2026-11-25T02:00:00Z'), 2).map(iso)).toEqual([
      '2026-11-26T02:00:00.000Z',
      '2026-11-27T02:00:00.000Z',
    ]);
    expect(iso(nextSlot(parseSchedule('0 0 2 1 * *', 'UTC'), at('2026-12-20T12:00:00Z')))).toBe(
      '2027-01-01T02:00:00.000Z',
    );
    expect(iso(nextSlot(parseSchedule('0 0 29 2 *', 'UTC'), at('2026-03-01T00:00:00Z')))).toBe(
      '2028-02-29T00:00:00.000Z',
    );
  });

  it('costs milliseconds for any window (the brute-force scan took 14.7 s for 744 h of seconds)', () => {
    const monthly = parseSchedule('0 0 2 1 * *', 'Europe/Paris');
    const started = performance.now();
    expect(iso(previousSlot(monthly, at('2026-12-20T12:00:00Z'), 744 * HOUR))).toBe(
      '2026-12-01T01:00:00.000Z',
    );
    expect(previousSlot(monthly, at('2026-12-20T12:00:00Z'), 48 * HOUR)).toBeNull();
    expect(
      previousSlot(parseSchedule('0 0 29 2 *', 'UTC'), at('2026-12-20T12:00:00Z'), 744 * HOUR),
    ).toBeNull();
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('cron slots across DST', () => {
  it('Europe/Paris, spring forward (2026-03-29): a skipped wall time runs at the end of the gap', () => {
    const tz = 'Europe/Paris';
    for (const expression of ['0 2 * * *', '30 2 * * *']) {
      const s = parseSchedule(expression, tz);
      // 02:00-02:59 do not exist that night: 03:00 CEST (01:00Z) is the first instant after.
      expect(nextSlots(s, at('2026-03-28T12:00:00Z'), 2).map(iso)).toEqual([
        '2026-03-29T01:00:00.000Z',
        expression === '0 2 * * *' ? '2026-03-30T00:00:00.000Z' : '2026-03-30T00:30:00.000Z',
      ]);
      expect(previousSlot(s, at('2026-03-29T00:59:59Z'), 6 * HOUR)).toBeNull();
      expect(iso(previousSlot(s, at('2026-03-29T01:00:00Z'), 6 * HOUR))).toBe('2026-03-29T01:00:00.000Z');
      expect(iso(previousSlot(s, at('2026-03-29T04:00:00Z'), 6 * HOUR))).toBe('2026-03-29T01:00:00.000Z');
    }
    // The slots of one gap share its end: one run, not four.
    const quarterly = parseSchedule('*/15 2 * * *', tz);
    expect(nextSlots(quarterly, at('2026-03-28T12:00:00Z'), 2).map(iso)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:00:00.000Z',
    ]);
    // 03:00 exists and is the same instant.
    expect(iso(nextSlot(parseSchedule('0 3 * * *', tz), at('2026-03-28T12:00:00Z')))).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });

  it('Europe/Paris, fall back (2026-10-25): an ambiguous wall time is its first occurrence only', () => {
    const s = parseSchedule('30 2 * * *', 'Europe/Paris');
    expect(nextSlots(s, at('2026-10-24T12:00:00Z'), 2).map(iso)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-26T01:30:00.000Z', // next night, 02:30 CET
    ]);
    // During and after the second 02:30 (01:30Z) the latest slot is still the first one:
    // cron-20261025T013000Z never becomes a slot of its own.
    for (const now of [
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:15:00Z',
      '2026-10-25T01:30:00Z',
      '2026-10-25T05:00:00Z',
    ]) {
      expect(iso(previousSlot(s, at(now), 6 * HOUR)), now).toBe('2026-10-25T00:30:00.000Z');
    }
    // node-cron fires the second occurrence in this zone: its slot is the first one.
    expect(iso(slotAt(s, at('2026-10-25T01:30:00Z')))).toBe('2026-10-25T00:30:00.000Z');
    expect(cronRunId(slotAt(s, at('2026-10-25T01:30:00Z'))!)).toBe('cron-20261025T003000Z');
    // An hour of slots, each once: 02:00 and 02:30 CEST, then 03:00 CET (no second 02:xx).
    const halfHourly = parseSchedule('*/30 2-3 * * *', 'Europe/Paris');
    expect(nextSlots(halfHourly, at('2026-10-24T23:00:00Z'), 4).map(iso)).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02:30:00.000Z',
    ]);
  });

  it('America/New_York, spring forward (2026-03-08) and fall back (2026-11-01)', () => {
    const tz = 'America/New_York';
    const s = parseSchedule('0 2 * * *', tz);
    expect(nextSlots(s, at('2026-03-07T12:00:00Z'), 2).map(iso)).toEqual([
      '2026-03-08T07:00:00.000Z', // 03:00 EDT, the end of the gap
      '2026-03-09T06:00:00.000Z',
    ]);
    expect(iso(previousSlot(s, at('2026-03-08T09:00:00Z'), 6 * HOUR))).toBe('2026-03-08T07:00:00.000Z');
    const ambiguous = parseSchedule('30 1 * * *', tz);
    expect(nextSlots(ambiguous, at('2026-10-31T12:00:00Z'), 2).map(iso)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; not 06:30Z (01:30 EST)
      '2026-11-02T06:30:00.000Z',
    ]);
    expect(iso(previousSlot(ambiguous, at('2026-11-01T06:45:00Z'), 6 * HOUR))).toBe(
      '2026-11-01T05:30:00.000Z',
    );
    expect(iso(slotAt(ambiguous, at('2026-11-01T06:30:00Z')))).toBe('2026-11-01T05:30:00.000Z');
    expect(localIso(tz, at('2026-11-01T05:30:00Z'))).toBe('2026-11-01T01:30:00-04:00');
    expect(localIso(tz, at('2026-11-01T06:30:00Z'))).toBe('2026-11-01T01:30:00-05:00');
    expect(localIso('Asia/Kolkata', at('2026-11-01T06:30:00Z'))).toBe('2026-11-01T12:00:00+05:30');
  });
});

// --- Against brute force.

const tasks: ReturnType<typeof cron.createTask>[] = [];
afterAll(async () => {
  for (const task of tasks) await task.destroy();
});

/** node-cron's own matcher of an instant in a zone. */
function matcher(expression: string, timezone: string): (d: Date) => boolean {
  const task = cron.createTask(expression, () => {}, { timezone });
  tasks.push(task);
  return (d) => task.match(d);
}

/** The scan the scheduler used before: every second (or minute) back from now. */
function bruteForcePrevious(
  matches: (d: Date) => boolean,
  now: Date,
  windowMs: number,
  step: number,
): Date | null {
  const earliest = now.getTime() - windowMs;
  for (let t = Math.floor(now.getTime() / step) * step; t >= earliest; t -= step) {
    if (matches(new Date(t))) return new Date(t);
  }
  return null;
}

const wallFormatters = new Map<string, Intl.DateTimeFormat>();
/** The local reading of an instant, as ms of the same fields in UTC (independent of the module). */
function wallOf(timezone: string, t: number): number {
  let f = wallFormatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallFormatters.set(timezone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
}

function offsetOf(timezone: string, t: number): number {
  const second = Math.floor(t / 1000) * 1000;
  return wallOf(timezone, second) - second;
}

/**
 * Slot instants by definition, scanning instants one step at a time from `from` to `to`: the wall
 * times an instant reaches for the first time are the new readings since the highest one so far
 * (a second pass after a fall-back reaches none, a jump over a gap reaches the whole gap).
 */
function bruteForceSlots(
  expression: string,
  timezone: string,
  from: number,
  to: number,
  step: number,
): number[] {
  const matchesWall = matcher(expression, 'UTC');
  const slots: number[] = [];
  let highest = wallOf(timezone, from);
  for (let t = from + step; t <= to; t += step) {
    const wall = wallOf(timezone, t);
    let hit = false;
    for (let w = highest + step; w <= wall && !hit; w += step) hit = matchesWall(new Date(w));
    if (hit) slots.push(t);
    highest = Math.max(highest, wall);
  }
  return slots;
}

const numberField = (min: number, max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant('*') },
    fc.integer({ min, max }).map(String),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
      .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.integer({ min: 2, max: Math.max(2, Math.floor((max - min) / 2)) }).map((n) => `*/${n}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 4 }).map((a) => a.join(',')),
  );
const dayOfMonth = fc.oneof(
  { weight: 4, arbitrary: numberField(1, 31) },
  fc.constantFrom('L', 'L-2', '15W', 'LW', '1W'),
);
const dayOfWeek = fc.oneof(
  { weight: 4, arbitrary: numberField(0, 6) },
  fc.constantFrom('5L', '1#2', '0#1', '7'),
);
const expressionOf = (withSeconds: boolean) =>
  fc
    .tuple(
      withSeconds ? numberField(0, 59) : fc.constant(null),
      numberField(0, 59),
      // Often the hours that DST changes skip or repeat.
      fc.oneof(numberField(0, 23), fc.constantFrom('2', '1-3', '1,2,14')),
      dayOfMonth,
      numberField(1, 12),
      dayOfWeek,
    )
    .map((fields) => fields.filter((f) => f !== null).join(' '))
    .filter((expression) => cron.validate(expression));

/** A zone and an instant: mostly within hours of one of the zone's 2026 transitions. */
const zoneAndInstant = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        ['America/New_York', '2026-03-08T07:00:00Z'],
        ['America/New_York', '2026-11-01T06:00:00Z'],
        ['Europe/Paris', '2026-03-29T01:00:00Z'],
        ['Europe/Paris', '2026-10-25T01:00:00Z'],
        ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'], // 30 minutes back
        ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'], // 30 minutes forward
      )
      .chain(([timezone, t]) =>
        fc
          .integer({ min: -6 * 60, max: 6 * 60 })
          .map((minutes) => ({ timezone, now: new Date(Date.parse(t) + minutes * 60_000) })),
      ),
  },
  fc.record({
    timezone: fc.constantFrom(
      'UTC',
      'Europe/Paris',
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
    ),
    now: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }).map((t) => new Date(t)),
  }),
);

describe('field-skipping searches against brute force', () => {
  it('previousSlot equals the brute-force scan with node-cron`s matcher wherever no DST change is near', () => {
    fc.assert(
      fc.property(
        fc.boolean().chain((withSeconds) =>
          fc.record({
            withSeconds: fc.constant(withSeconds),
            expression: expressionOf(withSeconds),
            // Scans of seconds are slow: shorter windows for them.
            windowMs: fc.integer({ min: 0, max: withSeconds ? 2 * HOUR : 4 * DAY }),
          }),
        ),
        fc.constantFrom('UTC', 'Asia/Kolkata', 'Europe/Paris', 'America/New_York'),
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }).map((t) => new Date(t)),
        ({ withSeconds, expression, windowMs }, timezone, now) => {
          const schedule = parseSchedule(expression, timezone);
          const earliest = now.getTime() - windowMs;
          fc.pre(offsetOf(timezone, earliest - DAY) === offsetOf(timezone, now.getTime()));
          const expected = bruteForcePrevious(
            matcher(expression, timezone),
            now,
            windowMs,
            withSeconds ? 1000 : 60_000,
          );
          expect(
            iso(previousSlot(schedule, now, windowMs)),
            `${expression} ${timezone} ${now.toISOString()}`,
          ).toBe(iso(expected));
        },
      ),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('previousSlot and nextSlot equal the slots by definition, across DST changes too', () => {
    fc.assert(
      fc.property(
        fc.boolean().chain((withSeconds) =>
          fc.record({
            withSeconds: fc.constant(withSeconds),
            expression: expressionOf(withSeconds),
            windowMs: fc.integer({ min: 0, max: withSeconds ? HOUR / 2 : DAY }),
          }),
        ),
        zoneAndInstant,
        ({ withSeconds, expression, windowMs }, { timezone, now }) => {
          const schedule: CronSchedule = parseSchedule(expression, timezone);
          const step = withSeconds ? 1000 : 60_000;
          const nowMs = Math.floor(now.getTime() / step) * step;
          // From 2 h before the window (longer than these zones' folds): the highest reading is right.
          const from = Math.floor((nowMs - windowMs - 2 * HOUR) / step) * step;
          const slots = bruteForceSlots(expression, timezone, from, nowMs + windowMs, step);
          const label = `${expression} ${timezone} ${new Date(nowMs).toISOString()} window ${windowMs}`;
          const before = slots.filter((t) => t <= nowMs && t >= nowMs - windowMs);
          expect(iso(previousSlot(schedule, new Date(nowMs), windowMs)), label).toBe(
            before.length ? new Date(before.at(-1)!).toISOString() : null,
          );
          const after = slots.find((t) => t > nowMs);
          const next = nextSlot(schedule, new Date(nowMs));
          if (after !== undefined) expect(iso(next), label).toBe(new Date(after).toISOString());
          else expect(next === null || next.getTime() > nowMs + windowMs, label).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 100 },
    );
  });
});
