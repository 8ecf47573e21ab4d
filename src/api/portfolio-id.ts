import { randomBytes } from 'node:crypto';

/** `p-` and 12 hex digits (as `ballast portfolio create`): 48 random bits, no collisions in practice. */
export function generatePortfolioId(): string {
  return `p-${randomBytes(6).toString('hex')}`;
}
