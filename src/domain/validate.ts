import { unknownChoice } from './did-you-mean.js';
import { ValidationError } from './errors.js';
import { ID_PATTERN } from './ids.js';
import {
  APPLY_MODES,
  type ApplyMode,
  type PortfolioStatus,
  STATUSES,
  STRATEGIES,
  type Strategy,
} from './model.js';
import { showValue as show } from './show-value.js';

export function assertId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new ValidationError(
      `${field} ${JSON.stringify(value)} is not a valid id: use 1..64 characters of letters, digits, "_" or "-"`,
    );
  }
  return value;
}

export function assertFraction(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ValidationError(`${field} must be a number between 0 and 1, got ${show(value)}`);
  }
  return value;
}

export function assertNonNegative(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(`${field} must be a finite number >= 0, got ${show(value)}`);
  }
  return value;
}

export function assertFinite(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(`${field} must be a finite number, got ${show(value)}`);
  }
  return value;
}

/** Budgets past this are typing mistakes (1.8e308 was accepted): a quadrillion. */
export const MAX_TOTAL_BUDGET = 1e15;
/** target_roi is a percent: from losing everything to a hundredfold. */
export const TARGET_ROI_MIN = -100;
export const TARGET_ROI_MAX = 10_000;
/** A week has 168 hours. */
export const MAX_ATTENTION_HOURS = 168;

export function assertBudget(value: unknown): number {
  const n = assertNonNegative('total_budget', value);
  if (n > MAX_TOTAL_BUDGET) {
    throw new ValidationError(`total_budget must be at most ${MAX_TOTAL_BUDGET} (1e15), got ${show(value)}`);
  }
  return n;
}

export function assertTargetRoi(value: unknown): number {
  const n = assertFinite('target_roi', value);
  if (n < TARGET_ROI_MIN || n > TARGET_ROI_MAX) {
    throw new ValidationError(
      `target_roi is a percent from ${TARGET_ROI_MIN} to ${TARGET_ROI_MAX}, got ${show(value)}`,
    );
  }
  return n;
}

export function assertAttentionHours(value: unknown): number {
  const n = assertNonNegative('attention_hours_per_week', value);
  if (n > MAX_ATTENTION_HOURS) {
    throw new ValidationError(
      `attention_hours_per_week must be at most ${MAX_ATTENTION_HOURS} (the hours of a week), got ${show(value)}`,
    );
  }
  return n;
}

export function assertPriority(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10) {
    throw new ValidationError(`${field} must be an integer from 1 to 10, got ${show(value)}`);
  }
  return value;
}

export function assertStrategy(value: unknown): Strategy {
  if (!STRATEGIES.includes(value as Strategy)) {
    throw new ValidationError(unknownChoice('strategy', value, STRATEGIES));
  }
  return value as Strategy;
}

export function assertStatus(value: unknown): PortfolioStatus {
  if (!STATUSES.includes(value as PortfolioStatus)) {
    throw new ValidationError(unknownChoice('status', value, STATUSES));
  }
  return value as PortfolioStatus;
}

export function assertApplyMode(value: unknown): ApplyMode {
  if (!APPLY_MODES.includes(value as ApplyMode)) {
    throw new ValidationError(unknownChoice('apply mode', value, APPLY_MODES));
  }
  return value as ApplyMode;
}

export const NAME_MAX_LENGTH = 200;

/**
 * C0 and C1 control characters (ESC, CSI...), DEL, and the line and paragraph separators:
 * names are printed on terminals, where "\u001b[31m" is an escape sequence, not a name.
 */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/**
 * Invisible characters that make a name read as something it is not: bidi controls (U+202E turns
 * "txt.exe" into what reads "exe.txt") and zero-width characters (two names that look the same).
 */
const INVISIBLE: ReadonlyMap<number, string> = new Map([
  [0x061c, 'ARABIC LETTER MARK'],
  [0x200b, 'ZERO WIDTH SPACE'],
  [0x200c, 'ZERO WIDTH NON-JOINER'],
  [0x200d, 'ZERO WIDTH JOINER'],
  [0x200e, 'LEFT-TO-RIGHT MARK'],
  [0x200f, 'RIGHT-TO-LEFT MARK'],
  [0x202a, 'LEFT-TO-RIGHT EMBEDDING'],
  [0x202b, 'RIGHT-TO-LEFT EMBEDDING'],
  [0x202c, 'POP DIRECTIONAL FORMATTING'],
  [0x202d, 'LEFT-TO-RIGHT OVERRIDE'],
  [0x202e, 'RIGHT-TO-LEFT OVERRIDE'],
  [0x2060, 'WORD JOINER'],
  [0x2066, 'LEFT-TO-RIGHT ISOLATE'],
  [0x2067, 'RIGHT-TO-LEFT ISOLATE'],
  [0x2068, 'FIRST STRONG ISOLATE'],
  [0x2069, 'POP DIRECTIONAL ISOLATE'],
  [0xfeff, 'ZERO WIDTH NO-BREAK SPACE'],
]);

/** The first invisible (bidi or zero-width) character of `value`, as `U+202E (RIGHT-TO-LEFT OVERRIDE)`. */
function invisibleCharacter(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const name = INVISIBLE.get(value.charCodeAt(i));
    if (name) return `U+${value.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')} (${name})`;
  }
  return undefined;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `value` cannot be a name (a portfolio's or a business's), or undefined when it can. */
export function nameProblem(value: string): string | undefined {
  if (value.trim().length === 0) return 'must not be empty or only spaces';
  if (value.length > NAME_MAX_LENGTH) return `must be at most ${NAME_MAX_LENGTH} characters`;
  if (hasControlCharacter(value)) return 'must not contain control characters (such as terminal escapes)';
  const invisible = invisibleCharacter(value);
  if (invisible) {
    return `must not contain ${invisible}: bidi controls and zero-width characters make a name read as another`;
  }
  if (LONE_SURROGATE.test(value)) return 'must not contain a lone surrogate (broken UTF-16)';
  return undefined;
}

/**
 * A name from another system made printable rather than refused (SPEC: those sources tolerate
 * what is cosmetic): each run of control characters becomes one space, the ends are trimmed, and
 * a name past the limit is cut to it. A name left blank is no name (undefined): the business is
 * shown by its id, as one sent without a name. A valid name is returned unchanged.
 */
export function repairName(value: string): string | undefined {
  if (nameProblem(value) === undefined) return value.normalize('NFC');
  let out = '';
  let inRun = false;
  for (const char of value.normalize('NFC')) {
    if (INVISIBLE.has(char.charCodeAt(0))) continue;
    if (hasControlCharacter(char)) {
      if (!inRun) out += ' ';
      inRun = true;
    } else {
      out += char;
      inRun = false;
    }
  }
  out = out.trim();
  if (out.length > NAME_MAX_LENGTH) {
    // By code points, so that no surrogate pair is cut in half.
    let cut = '';
    for (const char of out) {
      if (cut.length + char.length > NAME_MAX_LENGTH) break;
      cut += char;
    }
    out = cut.trimEnd();
  }
  return out.length === 0 ? undefined : out;
}

export function assertName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError(`${field} must be a string, got ${show(value)}`);
  const problem = nameProblem(value);
  if (problem !== undefined) throw new ValidationError(`${field} ${problem}, got ${show(value)}`);
  // One spelling per name: "é" typed as one code point or as "e" and a combining accent.
  return value.normalize('NFC');
}

/**
 * ISO-8601 date and time with a zone (`Z` or `+02:00`), any precision: the timestamps that
 * `toISOString()` writes and that other systems send. A time without a zone is ambiguous.
 */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoTimestamp(value: string): boolean {
  return ISO_TIMESTAMP.test(value) && isRealDate(value);
}

/** A calendar date (`2026-01-31`) or a timestamp. */
export function isIsoDateOrTimestamp(value: string): boolean {
  return ISO_DATE.test(value) ? isRealDate(value) : isIsoTimestamp(value);
}

/** A date and time without a zone, as Python's naive `isoformat()` writes it (`T` or a space). */
const ZONELESS_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/;

/** `2026-01-31T02:00:00` (or with a space) as the UTC timestamp `2026-01-31T02:00:00Z`; else undefined. */
export function zonelessAsUtc(value: string): string | undefined {
  const match = ZONELESS_TIMESTAMP.exec(value);
  if (!match) return undefined;
  const utc = `${match[1]}T${match[2]}Z`;
  return isIsoTimestamp(utc) ? utc : undefined;
}

/** Date.parse accepts 2026-02-30 as March 2nd: the day must survive the round trip. */
function isRealDate(value: string): boolean {
  const time = Date.parse(value);
  if (Number.isNaN(time)) return false;
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const probe = new Date(0);
  probe.setUTCFullYear(year, month - 1, day);
  return probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}

/** A flag: true or false, nothing else. */
export function assertBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(`${field} must be true or false`);
  return value;
}

/** null clears the value, undefined keeps `current`. */
export function optionalFraction(
  field: string,
  value: number | null | undefined,
  current: number | undefined,
): number | undefined {
  if (value === null) return undefined;
  if (value === undefined) return current;
  return assertFraction(field, value);
}
