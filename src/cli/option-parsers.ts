/**
 * Argument parsers for `.option('--weight <w>', '...', parseFraction)`. A bad value throws
 * commander's InvalidArgumentError, which the CLI reports as bad usage (exit 2) naming the option.
 */
import { InvalidArgumentError } from 'commander';
import { runIdSchema } from '../../jobs/payloads.js';
import { isValidId } from '../domain/index.js';

export function parseNumber(value: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got ${JSON.stringify(value)}`);
  return n;
}

/** A weight or share in [0,1]. */
export function parseFraction(value: string): number {
  const n = parseNumber(value);
  if (n < 0 || n > 1) throw new InvalidArgumentError(`expected a number from 0 to 1, got ${value}`);
  return n;
}

export function parseNonNegative(value: string): number {
  const n = parseNumber(value);
  if (n < 0) throw new InvalidArgumentError(`expected a number >= 0, got ${value}`);
  return n;
}

export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = parseNumber(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got ${value}`);
    }
    return n;
  };
}

export function parseBoolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError(`expected true or false, got ${JSON.stringify(value)}`);
}

/** Portfolio, owner and business ids. */
export function parseId(value: string): string {
  if (!isValidId(value)) {
    throw new InvalidArgumentError(
      `${JSON.stringify(value)} is not a valid id: use 1..64 characters of letters, digits, "_" or "-"`,
    );
  }
  return value;
}

/** A whole number >= 1: a version, a count. */
export function parsePositiveInt(value: string): number {
  const n = parseNumber(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a whole number >= 1, got ${value}`);
  }
  return n;
}

/** A run id as the queue's job ids carry it: `cron-20261204T020000Z`, `manual-…`. */
export function parseRunId(value: string): string {
  if (!runIdSchema.safeParse(value).success) {
    throw new InvalidArgumentError(
      `${JSON.stringify(value)} is not a valid run id: use 1..100 characters of letters, digits, "_" or "-"`,
    );
  }
  return value;
}

/** A note kept in history and audit: 1..500 printable characters. */
export function parseNote(value: string): string {
  if (value.length === 0 || value.length > 500 || /\p{Cc}/u.test(value)) {
    throw new InvalidArgumentError('must be 1..500 characters without control characters');
  }
  return value;
}
