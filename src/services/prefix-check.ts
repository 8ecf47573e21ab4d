/**
 * A mistyped BALLAST_PREFIX looks like an empty system: every list is empty and nothing says why.
 * When a prefix holds no Ballast data at all, this names the prefixes that do (found by a bounded
 * SCAN for Ballast's portfolio index keys), for the CLI to warn with.
 */
import { redactUrl, scanKeys } from '../adapters/redis.js';
import type { App } from '../app.js';

/** Keys looked at, at most: a large Redis is not scanned whole for a hint. */
const SCAN_BUDGET = 20_000;
const INDEX_SUFFIX = ':portfolios';

/** A warning when this prefix holds no Ballast data, or null when it does. */
export async function emptyPrefixWarning(
  app: Pick<App, 'redis' | 'keys' | 'config'>,
): Promise<string | null> {
  const { prefix } = app.keys;
  const [index, runs, schedule] = await Promise.all([
    app.redis.exists(app.keys.portfolioIndex),
    app.redis.exists(app.keys.runs),
    app.redis.exists(app.keys.schedule('nightly')),
  ]);
  if (index + runs + schedule > 0) return null;
  const found = new Set<string>();
  let looked = 0;
  for await (const keys of scanKeys(app.redis, `*${INDEX_SUFFIX}`)) {
    looked += 1000;
    for (const key of keys) {
      // `<prefix>:portfolios`, not an owner index (`<prefix>:owner:{<id>}:portfolios`).
      const candidate = key.slice(0, -INDEX_SUFFIX.length);
      if (!candidate.includes(':owner:{') && candidate !== prefix) found.add(candidate);
    }
    if (looked >= SCAN_BUDGET || found.size >= 10) break;
  }
  const where = redactUrl(app.config.redisUrl);
  const others =
    found.size > 0
      ? `; prefixes with Ballast data there: ${[...found].sort().join(', ')} (set BALLAST_PREFIX)`
      : '';
  return `warning: prefix ${prefix} holds no Ballast data on ${where}${others}\n`;
}
