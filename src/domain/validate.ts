import { ValidationError } from './errors.js';
import { ID_PATTERN } from './ids.js';
import { type PortfolioStatus, STATUSES, STRATEGIES, type Strategy } from './model.js';

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

export function assertPriority(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10) {
    throw new ValidationError(`${field} must be an integer from 1 to 10, got ${show(value)}`);
  }
  return value;
}

export function assertStrategy(value: unknown): Strategy {
  if (!STRATEGIES.includes(value as Strategy)) {
    throw new ValidationError(`unknown strategy ${show(value)}: use one of ${STRATEGIES.join(', ')}`);
  }
  return value as Strategy;
}

export function assertStatus(value: unknown): PortfolioStatus {
  if (!STATUSES.includes(value as PortfolioStatus)) {
    throw new ValidationError(`unknown status ${show(value)}: use one of ${STATUSES.join(', ')}`);
  }
  return value as PortfolioStatus;
}

export function assertName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 200) {
    throw new ValidationError(`${field} must be a non-empty string of at most 200 characters`);
  }
  return value;
}

function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}
