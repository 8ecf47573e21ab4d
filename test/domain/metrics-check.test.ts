/**
 * The typed check of wire metrics (src/domain/metrics-check.ts) against zod's schema: whatever it
 * accepts, zod accepts and reads to the very same metrics (defaults, NFC names, as_of included);
 * what it leaves to zod keeps zod's answer and message. Seeded: FC_SEED=<n> replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FROM_OPERATOR_FILES,
  type MetricsReadOptions,
  metricsSchema,
  safeMetricsFromWire,
  toMetrics,
} from '../../src/domain/index.js';
import { checkWireMetrics } from '../../src/domain/metrics-check.js';
import { describeIssues } from '../../src/domain/zod-issues.js';
import { check, RUNS } from './property-checks.js';
import { wireMetricsArb } from './wire-metrics-arb.js';

/** The files' everyday entries: what the check is there to take without zod. */
const plainEntryArb = fc.record(
  {
    business_id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    name: fc.oneof(
      fc.stringMatching(/^[ -~]{1,40}$/),
      fc.constantFrom('Café Crème', 'Cafe\u0301', 'Ｆｕｌｌ', '\u{1F600} Smile', null),
    ),
    revenue: fc.oneof(fc.integer({ min: 0, max: 1e9 }), fc.double({ min: -1e12, max: 1e12, noNaN: true })),
    expenses: fc.integer({ min: 0, max: 1e9 }),
    profit: fc.integer({ min: -1e9, max: 1e9 }),
    margin: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    customers: fc.integer({ min: 0, max: 1e6 }),
    growth_rate: fc.double({ min: -100, max: 1000, noNaN: true }),
    health_score: fc.double({ min: 0, max: 100, noNaN: true }),
    stage: fc.constantFrom('growth', 'mature', 'unknown'),
    as_of: fc.oneof(
      fc.constantFrom('2026-12-04T14:49:12.528Z', '2026-01-31', '2026-01-31T02:00:00+01:00'),
      fc.integer({ min: 0, max: 2e12 }),
      fc.constant(null),
    ),
  },
  { requiredKeys: ['business_id', 'revenue', 'growth_rate', 'health_score'] },
);

/** Sometimes a field the schema does not know, or one of its own as an inherited or odd key. */
const entryArb = fc
  .tuple(fc.oneof(wireMetricsArb, plainEntryArb), fc.constantFrom(0, 0, 0, 1, 2, 3))
  .map(([entry, extra]) => {
    if (extra === 1) return { ...entry, customer: 3 };
    if (extra === 2) return JSON.parse(`{"__proto__": 1, ${JSON.stringify(entry).slice(1)}`) as unknown;
    if (extra === 3) return [entry];
    return entry as unknown;
  });

function viaZod(input: unknown, options: MetricsReadOptions) {
  const parsed = metricsSchema(options).safeParse(input);
  return parsed.success
    ? { ok: true as const, metrics: toMetrics(parsed.data) }
    : { ok: false as const, error: describeIssues(parsed.error.issues) };
}

describe('checkWireMetrics', () => {
  it.each([
    ['unknown fields refused', FROM_OPERATOR_FILES],
    ['unknown fields ignored', { unknownFields: 'ignore', cosmetic: 'refuse' } as MetricsReadOptions],
  ])('accepts only what zod accepts, read the same (%s)', (_, options) => {
    const strict = options.unknownFields === 'refuse';
    let fast = 0;
    fc.assert(
      fc.property(entryArb, (input) => {
        const checked = checkWireMetrics(input, strict);
        const zod = viaZod(input, options);
        if (checked !== undefined) {
          fast++;
          check(zod.ok, () => `the check took what zod refuses: ${JSON.stringify(input)}`);
          expect(checked).toStrictEqual(zod.ok ? zod.metrics : undefined);
          // Twice the same (as_of is remembered between entries).
          expect(checkWireMetrics(input, strict)).toStrictEqual(checked);
        }
        expect(safeMetricsFromWire(input, options)).toStrictEqual(zod);
      }),
      RUNS,
    );
    expect(fast).toBeGreaterThan(RUNS.numRuns / 10);
  });

  it('takes the everyday entries itself', () => {
    fc.assert(
      fc.property(plainEntryArb, (input) => {
        check(
          checkWireMetrics(input, true) !== undefined || !viaZod(input, FROM_OPERATOR_FILES).ok,
          () => `left a valid everyday entry to zod: ${JSON.stringify(input)}`,
        );
      }),
      RUNS,
    );
  });

  it('normalises names to NFC and fills the defaults as zod does', () => {
    const input = {
      business_id: 'a',
      name: 'Cafe\u0301',
      revenue: 10,
      expenses: 4,
      growth_rate: 1,
      health_score: 2,
    };
    const checked = checkWireMetrics(input, true);
    expect(checked).toMatchObject({
      name: 'Caf\u00e9',
      stage: 'unknown',
      customers: 0,
      profit: 6,
      margin: 60,
    });
    expect(checked).toStrictEqual(viaZod(input, FROM_OPERATOR_FILES).metrics);
    expect(checkWireMetrics({ ...input, as_of: 1767225600000 }, true)?.asOf).toBe('2026-01-01T00:00:00.000Z');
  });

  it('leaves every fault to zod, so its messages stay', () => {
    const base = { business_id: 'a', revenue: 10, expenses: 4, growth_rate: 1, health_score: 2 };
    for (const input of [
      { ...base, customer: 3 },
      { ...base, name: '  ' },
      { ...base, name: 'a\u202eb' },
      { ...base, as_of: '2026-01-31T02:00:00' },
      { ...base, health_score: 101 },
      { ...base, stage: null },
      { ...base, expenses: undefined },
      { ...base, revenue: 1e-300, expenses: undefined, profit: 1 },
      { ...base, business_id: 'a b' },
    ]) {
      expect(checkWireMetrics(input, true)).toBeUndefined();
      expect(safeMetricsFromWire(input, FROM_OPERATOR_FILES).ok).toBe(false);
    }
  });
});
