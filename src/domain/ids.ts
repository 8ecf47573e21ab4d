import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from './errors.js';

/**
 * Ids become parts of Redis keys, so only a safe alphabet is accepted. They are also keys of JSON
 * objects (`allocations`), where "__proto__" cannot survive a round trip: zod strips it and a
 * plain object assignment sets the prototype instead. So that one spelling is refused too.
 */
export const ID_PATTERN = /^(?!__proto__$)[A-Za-z0-9_-]{1,64}$/;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, { message: 'must be 1..64 characters of letters, digits, "_" or "-"' });

export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/**
 * Ids a new portfolio may not take: `/portfolios/owner/{owner_id}` is the owner listing, so a
 * portfolio called `owner` would lose its `/metrics`, `/ranking`, `/rebalance`... routes to it.
 */
export const RESERVED_PORTFOLIO_IDS: ReadonlySet<string> = new Set(['owner']);

export function assertPortfolioIdFree(id: string): string {
  if (RESERVED_PORTFOLIO_IDS.has(id)) {
    throw new ValidationError(
      `"${id}" cannot be a portfolio id: /portfolios/owner/{owner_id} lists an owner's portfolios`,
      [`body.id: "${id}" is reserved`],
    );
  }
  return id;
}

/** `p-` and 12 hex digits: 48 random bits, no collisions in practice. */
export function generatePortfolioId(): string {
  return `p-${randomBytes(6).toString('hex')}`;
}
