import { type Portfolio, portfolioFromWire } from '../domain/index.js';

/**
 * How a portfolio is stored in Redis: the domain object itself as JSON, tagged with a format
 * number. The stored document is internal (consumers read reports, not portfolios), so it skips
 * the wire format's derived figures and snake_case mapping: encoding is ~20x and decoding ~6x
 * cheaper than through the wire shape, and a nightly run does both once per portfolio.
 * Everything written here was validated by the domain first; reading checks the structure only.
 */
const FORMAT = 1;

export function encodePortfolio(p: Portfolio): string {
  return JSON.stringify({ format: FORMAT, portfolio: p });
}

export function decodePortfolio(doc: string): Portfolio {
  const parsed = JSON.parse(doc) as { format?: unknown; portfolio?: unknown };
  // A document in the wire shape (no format tag) is read through the full wire schema.
  if (parsed.format === undefined) return portfolioFromWire(parsed);
  if (parsed.format !== FORMAT) throw new Error(`unknown portfolio document format ${String(parsed.format)}`);
  const p = parsed.portfolio as Portfolio;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.id !== 'string' ||
    !Number.isInteger(p.version) ||
    !Array.isArray(p.allocations) ||
    !p.allocations.every((a) => typeof a.businessId === 'string' && typeof a.weight === 'number')
  ) {
    throw new Error('corrupt portfolio document');
  }
  return p;
}
