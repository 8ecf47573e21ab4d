/**
 * Domain refusals. Each carries a `code` that adapters map to a status:
 * invalid -> HTTP 400 / CLI exit 1, not-found -> 404, conflict -> 409, refused -> 409.
 */
export type ErrorCode = 'invalid' | 'not-found' | 'conflict' | 'refused';

export class BallastError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, details: readonly string[] = []) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** Input that can never be accepted as it is (bad id, weight 1.5, unknown strategy). */
export class ValidationError extends BallastError {
  override readonly name = 'ValidationError';
  constructor(message: string, details: readonly string[] = []) {
    super('invalid', message, details);
  }
}

/** An unknown portfolio or business. */
export class NotFoundError extends BallastError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super('not-found', message);
  }
}

/** The operation is well-formed but the portfolio's locks or bounds make it impossible. */
export class RefusedError extends BallastError {
  override readonly name = 'RefusedError';
  constructor(message: string) {
    super('refused', message);
  }
}

/** A write or an apply against a version that is no longer current. */
export class StaleVersionError extends BallastError {
  override readonly name = 'StaleVersionError';
  readonly expected: number;
  readonly actual: number;
  constructor(expected: number, actual: number) {
    super('conflict', `portfolio changed: expected version ${expected}, found ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** The operation was made against a state that has changed since (the message says how). */
export class ConflictError extends BallastError {
  override readonly name = 'ConflictError';
  constructor(message: string, details: readonly string[] = []) {
    super('conflict', message, details);
  }
}

/**
 * A rule of the domain's own arithmetic broke (a NaN weight, a sum off 1): a bug, not a refusal.
 * Thrown rather than let such a number reach a portfolio; not a BallastError, so the API answers
 * 500 and a job fails (and is kept for inspection) instead of writing it.
 */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
  constructor(what: string) {
    super(`internal error, nothing written: ${what}`);
  }
}

export function isBallastError(err: unknown): err is BallastError {
  return err instanceof BallastError;
}
