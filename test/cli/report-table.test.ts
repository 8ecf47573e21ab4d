/**
 * The report's table and JSON as `plan` streams them (issue 15) against what was printed before:
 * formatTable's columns over the wire report, and formatJson of the whole wire report. Random
 * tables (names with accents, emoji and wide characters, reasons blank or ending in spaces,
 * actions missing from the ranking and the other way round) and random runs.
 * FC_SEED=<n> replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatJson, formatJsonChunks, formatTable } from '../../src/cli/output.js';
import { DOMAIN_TABLE, percent, reportTableChunks, WIRE_TABLE } from '../../src/cli/report-table.js';
import { formatReportText, reportTextChunksOf } from '../../src/cli/report-text.js';
import {
  actionToWire,
  RefusedError,
  type Report,
  rankingEntryToWire,
  reportToWire,
  reportToWireWith,
  runPortfolio,
  type WireReport,
} from '../../src/domain/index.js';
import { RUNS } from '../domain/property-checks.js';
import { scenarioArb } from '../domain/scenarios.js';

type WireEntry = WireReport['ranking'][number];
type WireAction = WireReport['actions'][number];

/** The table as report-text.ts printed it before it was streamed: formatTable's columns. */
function formatActionsBefore(ranking: readonly WireEntry[], actions: readonly WireAction[]): string {
  interface Row {
    rank: number | null;
    businessId: string;
    name: string | null;
    score: number | null;
    action: WireAction | undefined;
  }
  const byId = new Map(actions.map((a) => [a.business_id, a]));
  const rows: Row[] = ranking.map((e) => ({
    rank: e.rank,
    businessId: e.business_id,
    name: e.name,
    score: e.score,
    action: byId.get(e.business_id),
  }));
  const ranked = new Set(rows.map((row) => row.businessId));
  for (const action of actions) {
    if (!ranked.has(action.business_id)) {
      rows.push({ rank: null, businessId: action.business_id, name: null, score: null, action });
    }
  }
  if (rows.length === 0) return 'No businesses in this portfolio.\n';
  const move = (a: WireAction) =>
    `${percent(a.current_weight * 100, 2)} -> ${percent(a.recommended_weight * 100, 2)}`;
  return formatTable<Row>(
    [
      { header: 'Rank', value: (r) => (r.rank === null ? '-' : String(r.rank)), align: 'right' },
      { header: 'Business', value: (r) => r.businessId },
      ...(rows.some((row) => row.name !== null) ? [{ header: 'Name', value: (r: Row) => r.name ?? '' }] : []),
      { header: 'Score', value: (r) => (r.score === null ? '-' : r.score.toFixed(3)), align: 'right' },
      { header: 'Action', value: (r) => r.action?.action ?? '-' },
      { header: 'Weight', value: (r) => (r.action ? move(r.action) : '-') },
      { header: 'Reason', value: (r) => r.action?.reason ?? '' },
    ],
    rows,
  );
}

const idArb = fc.constantFrom('a', 'b', 'c', 'longer-business-id', 'd', 'e', 'caf\u00e9');
const textArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', '  ', 'trailing  ', 'Caf\u00e9', '\u{1F600}x', '\u65e5\u672c', 'tab\t', 'nbsp\u00a0'),
);
const entryArb: fc.Arbitrary<WireEntry> = fc.record({
  rank: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: null }),
  business_id: idArb,
  name: fc.option(textArb, { nil: null }),
  score: fc.option(fc.double({ min: -1, max: 2, noNaN: true }), { nil: null }),
  revenue: fc.constant(null),
  profit: fc.constant(null),
  margin: fc.constant(null),
  growth_rate: fc.constant(null),
  health_score: fc.constant(null),
  customers: fc.constant(null),
  stage: fc.constant(null),
});
const actionArb: fc.Arbitrary<WireAction> = fc.record({
  business_id: idArb,
  action: fc.constantFrom('increase', 'decrease', 'maintain', 'locked', 'no-metrics'),
  current_weight: fc.double({ min: -0.001, max: 1, noNaN: true }),
  recommended_weight: fc.double({ min: 0, max: 1, noNaN: true }),
  reason: textArb,
});

describe('the streamed report table', () => {
  it('prints what formatTable printed, whatever the cells', () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { maxLength: 8 }),
        fc.array(actionArb, { maxLength: 8 }),
        (ranking, actions) => {
          const text = [...reportTableChunks(ranking, actions, WIRE_TABLE)].join('');
          expect(text).toBe(formatActionsBefore(ranking, actions));
        },
      ),
      RUNS,
    );
  });

  it('prints a run the same from its own entries as from the wire, text and JSON', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        let report: Report;
        try {
          report = runPortfolio({
            portfolio: s.portfolio,
            metrics: s.metrics,
            runId: 'r',
            reportId: 'q',
            trigger: 'manual',
            now: '2026-03-01T00:00:00.000Z',
            dryRun: true,
          }).report;
        } catch (err) {
          // Bounds that cannot be met: refused, no report to print.
          if (err instanceof RefusedError) return;
          throw err;
        }
        const wire = reportToWire(report);
        const { ranking, actions } = report;
        const head = reportToWireWith(report, ranking, actions);
        expect([...reportTextChunksOf(head, ranking, actions, DOMAIN_TABLE)].join('')).toBe(
          formatReportText(wire),
        );
        const json = formatJsonChunks(head, { ranking: rankingEntryToWire, actions: actionToWire });
        expect([...json].join('')).toBe(formatJson(wire));
      }),
      { ...RUNS, numRuns: 200 },
    );
  });

  it('writes a large table in slices of whole lines', () => {
    const ranking: WireEntry[] = [];
    const actions: WireAction[] = [];
    for (let i = 0; i < 3000; i++) {
      const business_id = `biz-${i}`;
      ranking.push({ ...fc.sample(entryArb, { seed: i, numRuns: 1 })[0]!, business_id, rank: i + 1 });
      actions.push({ ...fc.sample(actionArb, { seed: i, numRuns: 1 })[0]!, business_id, reason: 'why' });
    }
    const chunks = [...reportTableChunks(ranking, actions, WIRE_TABLE)];
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.endsWith('\n')).toBe(true);
    expect(chunks.join('')).toBe(formatActionsBefore(ranking, actions));
  });
});

describe('formatJsonChunks', () => {
  it('prints what formatJson prints', () => {
    const longArray = fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 500, maxLength: 1200 });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(fc.string(), fc.oneof(fc.jsonValue(), longArray, fc.constant(undefined))),
        ),
        (value) => {
          expect([...formatJsonChunks(value)].join('')).toBe(formatJson(value));
        },
      ),
      { ...RUNS, numRuns: 60 },
    );
  });

  it('maps the arrays it is told to, short or long', () => {
    const value = { a: [1, 2, 3], b: Array.from({ length: 2000 }, (_, i) => i), c: 'x', d: undefined };
    const double = (n: never) => (n as number) * 2;
    const mapped = { ...value, a: value.a.map((n) => n * 2), b: value.b.map((n) => n * 2) };
    expect([...formatJsonChunks(value, { a: double, b: double })].join('')).toBe(formatJson(mapped));
    expect([...formatJsonChunks({})].join('')).toBe('{}\n');
    expect([...formatJsonChunks({ d: undefined })].join('')).toBe('{}\n');
  });
});
