import {
  type BusinessMetrics,
  FROM_OTHER_SYSTEMS,
  metricsToWire,
  safeMetricsFromWire,
  ValidationError,
  type WireMetrics,
} from '../../domain/index.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis.js';
import { crossSlot } from '../redis-batch.js';
import type { MetricsSource, MetricsSourceStats } from './metrics-source.js';

export interface RedisMetricsSource extends MetricsSource {
  readonly kind: 'redis';
  /** calls: pipelines sent; errors: hashes that failed validation or could not be read. */
  stats(): MetricsSourceStats;
}

/**
 * The hash of one business, as `metrics import` writes it and any other system may (README,
 * "Metrics sources"): the wire format's fields, every value a string. These hold numbers in
 * decimal notation; as_of holds an ISO-8601 date or timestamp, or epoch milliseconds in digits
 * (`"1769824800000"`), read by the same rule as everywhere else.
 */
const NUMERIC_FIELDS = new Set([
  'revenue',
  'expenses',
  'profit',
  'margin',
  'customers',
  'growth_rate',
  'health_score',
  'as_of',
]);

/** Decimal notation only: Number() would also take '', ' ', '0x1f' and 'Infinity'. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Metrics from one Redis hash per business (`<prefix>:metrics:<id>`), written by other systems
 * or by `ballast metrics import`. One pipeline per fetch, whatever the number of ids.
 */
export function createRedisMetricsSource(redis: RedisClient, keys: Keys): RedisMetricsSource {
  const counters: MetricsSourceStats = { calls: 0, businessesRequested: 0, errors: 0 };
  return {
    kind: 'redis',
    async fetch(businessIds) {
      const ids = [...new Set(businessIds)];
      const metrics = new Map<string, BusinessMetrics>();
      const missing = new Map<string, string>();
      counters.businessesRequested += ids.length;
      if (ids.length === 0) return { metrics, missing };
      // One key per business: different hash slots on Redis Cluster.
      const pipeline = crossSlot(redis);
      for (const id of ids) pipeline.hgetall(keys.businessMetrics(id));
      counters.calls++;
      // A failed pipeline (connection lost) rejects: the source as a whole is unusable.
      const replies = (await pipeline.exec()) ?? [];
      ids.forEach((id, i) => {
        const [err, hash] = replies[i] ?? [new Error('no reply'), null];
        if (err) {
          counters.errors++;
          missing.set(id, `redis error: ${err.message}`);
          return;
        }
        const fields = hash as Record<string, string>;
        if (Object.keys(fields).length === 0) {
          missing.set(id, 'no metrics in Redis');
          return;
        }
        const parsed = metricsFromHash(id, fields);
        if (parsed.ok) metrics.set(id, parsed.metrics);
        else {
          counters.errors++;
          missing.set(id, parsed.error);
        }
      });
      return { metrics, missing };
    },
    stats: () => ({ ...counters }),
  };
}

/** Validates one hash; `business_id` may be left out (the key says it) but must not disagree. */
export function metricsFromHash(
  id: string,
  hash: Record<string, string>,
): { ok: true; metrics: BusinessMetrics } | { ok: false; error: string } {
  if (hash.business_id !== undefined && hash.business_id !== id) {
    return {
      ok: false,
      error: `invalid metrics: business_id is ${JSON.stringify(hash.business_id)}, expected ${JSON.stringify(id)}`,
    };
  }
  const wire: Record<string, unknown> = { ...hash, business_id: id };
  for (const field of NUMERIC_FIELDS) {
    const value = hash[field];
    // A value that is not a number stays a string, so that validation names the field.
    if (value !== undefined && DECIMAL.test(value) && Number.isFinite(Number(value))) {
      wire[field] = Number(value);
    }
  }
  // Other systems write these hashes: a blank name or a zoneless as_of is repaired, not refused.
  const parsed = safeMetricsFromWire(wire, FROM_OTHER_SYSTEMS);
  return parsed.ok ? parsed : { ok: false, error: `invalid metrics: ${parsed.error}` };
}

/** The hash of one business's metrics; derived figures are stored so readers need no defaults. */
export function metricsToHash(m: BusinessMetrics): Record<string, string> {
  const hash: Record<string, string> = {
    business_id: m.businessId,
    revenue: decimal(m.revenue),
    expenses: decimal(m.expenses),
    profit: decimal(m.profit),
    margin: decimal(m.margin),
    customers: decimal(m.customers),
    growth_rate: decimal(m.growthRate),
    health_score: decimal(m.healthScore),
    stage: m.stage,
  };
  if (m.name !== undefined) hash.name = m.name;
  if (m.asOf !== undefined) hash.as_of = m.asOf;
  return hash;
}

/** String(-0) is "0": a negative zero (a loss of -0) would not read back as itself. */
function decimal(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/** Businesses per pipeline round trip when importing. */
const IMPORT_CHUNK = 500;

/**
 * Writes each business's metrics hash, replacing every old field atomically (MULTI: DEL +
 * HSET per business rather than per chunk, so that it also holds on Redis Cluster, where
 * businesses live in different slots), `IMPORT_CHUNK` transactions in flight at a time. Everything is validated before anything is written: one bad entry
 * refuses the whole import. Returns the number of businesses written.
 */
export async function importMetrics(
  redis: RedisClient,
  keys: Keys,
  entries: Iterable<BusinessMetrics | WireMetrics | Readonly<Record<string, unknown>>>,
): Promise<number> {
  const all: BusinessMetrics[] = [];
  const problems: string[] = [];
  let index = 0;
  for (const entry of entries) {
    index++;
    // Validated either way: ids become parts of keys, and a reader must find what it can parse.
    // An import is an operator's: a blank name or a zoneless as_of is refused, as by plan.
    const wire = isBusinessMetrics(entry) ? withoutNulls(metricsToWire(entry)) : entry;
    const parsed = safeMetricsFromWire(wire, { cosmetic: 'refuse' });
    if (parsed.ok) all.push(parsed.metrics);
    else problems.push(`entry ${index}: ${parsed.error}`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    throw new ValidationError(`invalid metrics, nothing imported: ${shown}${more}`, problems);
  }
  for (let i = 0; i < all.length; i += IMPORT_CHUNK) {
    // Transactions sent without waiting for each other share the connection like a pipeline.
    await Promise.all(
      all.slice(i, i + IMPORT_CHUNK).map(async (m) => {
        const key = keys.businessMetrics(m.businessId);
        const replies = await redis.multi().del(key).hset(key, metricsToHash(m)).exec();
        const failed = replies?.find(([err]) => err)?.[0];
        if (failed) throw failed;
      }),
    );
  }
  return all.length;
}

function withoutNulls(wire: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(wire).filter(([, value]) => value !== null));
}

function isBusinessMetrics(entry: object): entry is BusinessMetrics {
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof (entry as { businessId?: unknown }).businessId === 'string'
  );
}
