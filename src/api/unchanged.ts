import { isDeepStrictEqual } from 'node:util';
import { type Portfolio, portfolioToWire } from '../domain/index.js';

/**
 * `after` unless it differs from `before` only by the version and the time of the change: then
 * `before` itself, which the store takes as "nothing to write". An update that changes nothing
 * (`PATCH {}`, the same name again) keeps its version, so readers and runs do not see a change
 * that is not one. Compared on the wire form, where every field is present.
 */
export function unlessUnchanged(before: Portfolio, after: Portfolio): Portfolio {
  const same = isDeepStrictEqual(
    portfolioToWire({ ...after, version: before.version, updatedAt: before.updatedAt }),
    portfolioToWire(before),
  );
  return same ? before : after;
}
