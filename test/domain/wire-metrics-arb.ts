/**
 * Random metrics in the wire shape, valid or not, for the round-trip properties: figures at and
 * past their limits, names with control characters, as_of in every form (epoch milliseconds in
 * and out of range, microseconds, ISO strings of extended years, zoneless timestamps, text).
 */
import fc from 'fast-check';
import { AS_OF_MAX_MS, STAGES } from '../../src/domain/index.js';

const figure = (limit: number) =>
  fc.oneof(
    { arbitrary: fc.double({ min: -limit, max: limit, noNaN: true }), weight: 4 },
    { arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }), weight: 4 },
    { arbitrary: fc.constantFrom(0, -0, 5e-324, -5e-324, 1e-300, 0.1, limit, -limit), weight: 2 },
    // Past the limits, and not numbers at all: refused everywhere.
    { arbitrary: fc.constantFrom(limit * 2, Number.NaN, Number.POSITIVE_INFINITY, '12', null), weight: 1 },
  );

/** Any instant a Date can hold, years -271821 to 275760. */
const instant = fc.date({ noInvalidDate: true });

const asOf = fc.oneof(
  { arbitrary: fc.integer({ min: -1000, max: AS_OF_MAX_MS + 1000 }), weight: 3 },
  { arbitrary: fc.double({ min: -1e17, max: 1e17, noNaN: true }), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      0,
      -1,
      AS_OF_MAX_MS,
      AS_OF_MAX_MS + 1,
      8.64e15,
      1769824800000.5,
      1769824800000000,
    ),
    weight: 1,
  },
  { arbitrary: instant.map((d) => d.toISOString()), weight: 2 },
  { arbitrary: instant.map((d) => d.toISOString().slice(0, 10)), weight: 1 },
  { arbitrary: instant.map((d) => d.toISOString().slice(0, 19)), weight: 1 },
  { arbitrary: instant.map((d) => d.toISOString().replace('Z', '+05:30')), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '2026-01-31T02:00:00',
      '2026-01-31 02:00:00.123456',
      '2026-02-30',
      '1969-12-31',
      '',
    ),
    weight: 1,
  },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
);

const name = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 220 }), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '',
      '   ',
      'Acme\tInc',
      '\u001b[31mRed\u001b[0m',
      'x'.repeat(201),
      '\u{1F600}'.repeat(101),
    ),
    weight: 1,
  },
);

export const wireMetricsArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    business_id: fc.oneof(
      fc.constantFrom('acme', 'b-1', 'x_9'),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
      fc.string(),
    ),
    name: fc.oneof(name, fc.constant(null)),
    revenue: figure(1e15),
    expenses: figure(1e15),
    profit: figure(1e15),
    margin: figure(1e12),
    customers: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 1000 }), weight: 4 },
      { arbitrary: fc.constantFrom(1e15, -1, 2.5), weight: 1 },
    ),
    growth_rate: figure(1e12),
    health_score: fc.oneof(
      { arbitrary: fc.double({ min: 0, max: 100, noNaN: true }), weight: 4 },
      { arbitrary: fc.constantFrom(0, 100, 101, -1), weight: 1 },
    ),
    stage: fc.constantFrom(...STAGES, 'teenage'),
    as_of: fc.oneof(asOf, fc.constant(null)),
  },
  { requiredKeys: ['business_id', 'revenue', 'growth_rate', 'health_score'] },
);

/** Without the null fields, as the import writes entries (a hash holds no null). */
export function withoutNulls(wire: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(wire).filter(([, value]) => value !== null));
}
