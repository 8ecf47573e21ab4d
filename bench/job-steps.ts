/**
 * The CPU cost of each step of a recalculate job, in-process and without I/O, on the pipeline
 * bench's portfolios (20 businesses drawn from 2,000, the same seed): what a job costs the
 * worker's one core before BullMQ, ioredis and the sockets take their share. Run with
 * `npm run bench:steps`; part of `npm run bench`. Sending the strings (socket writes) is not
 * here: the pipeline's profile shows it (writeUtf8String).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { recalculatePayload } from '../jobs/payloads.js';
import { RedisPortfolioStore } from '../src/adapters/redis-portfolio-store.js';
import { type BusinessMetrics, type Portfolio, reportToWire, runPortfolio } from '../src/domain/index.js';
import { makeMetrics, makePortfolio } from './lib/dataset.js';
import { formatTable } from './lib/table.js';

const SEED = 20_250_601;
const PORTFOLIOS = 2_000;

export interface StepRow {
  readonly step: string;
  readonly microsPerPortfolio: number;
  readonly bytes: number | null;
}

export interface StepsResult {
  readonly bench: 'steps';
  readonly date: string;
  readonly portfolios: number;
  readonly rows: readonly StepRow[];
  readonly totalMicros: number;
}

/** Median over rounds of the per-portfolio time of `fn` over every input, after a warm-up. */
function time<T>(inputs: readonly T[], fn: (input: T) => unknown, rounds = 7): number {
  let sink = 0;
  const pass = () => {
    for (const input of inputs) if (fn(input) !== undefined) sink++;
  };
  const warm = performance.now();
  while (performance.now() - warm < 300) pass();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    pass();
    times.push(Number(process.hrtime.bigint() - start) / 1000 / inputs.length);
  }
  if (sink < 0) console.log(sink);
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

function main(): void {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    console.log('usage: node dist/bench/job-steps.js [--out file.json]');
    return;
  }
  const metricsList = makeMetrics(2_000, SEED);
  const metrics = new Map<string, BusinessMetrics>(metricsList.map((m) => [m.businessId, m]));
  const portfolios = Array.from({ length: PORTFOLIOS }, (_, i) => makePortfolio(i, 20, 2_000, SEED));
  const docs = portfolios.map((p) => RedisPortfolioStore.encode(p));
  const now = '2025-06-02T02:00:00.000Z';
  const run = (p: Portfolio) =>
    runPortfolio({
      portfolio: p,
      metrics,
      now,
      dryRun: false,
      runId: 'r1',
      reportId: `r1.${p.id}`,
      trigger: 'cron',
    });
  const outcomes = portfolios.map(run);
  const wires = outcomes.map((o) => reportToWire(o.report));
  const reports = wires.map((w) => JSON.stringify(w));
  const payloads = portfolios.map((p) => ({
    portfolioId: p.id,
    runId: 'r1',
    trigger: 'cron',
    dryRun: false,
    catchUp: false,
    fanOut: true,
  }));
  const avg = (list: readonly string[]) =>
    list.reduce((sum, s) => sum + Buffer.byteLength(s), 0) / list.length;

  const rows: StepRow[] = [
    {
      step: 'payload validation (zod)',
      microsPerPortfolio: time(payloads, (p) => recalculatePayload.parse(p)),
      bytes: null,
    },
    {
      step: 'read: JSON.parse of the document',
      microsPerPortfolio: time(docs, (d) => JSON.parse(d)),
      bytes: avg(docs),
    },
    {
      step: 'read: RedisPortfolioStore.decode',
      microsPerPortfolio: time(docs, (d) => RedisPortfolioStore.decode(d)),
      bytes: null,
    },
    {
      step: 'runPortfolio (recommend, rank, roll-up, apply)',
      microsPerPortfolio: time(portfolios, run),
      bytes: null,
    },
    {
      step: 'report: reportToWire',
      microsPerPortfolio: time(outcomes, (o) => reportToWire(o.report)),
      bytes: null,
    },
    {
      step: 'report: JSON.stringify',
      microsPerPortfolio: time(wires, (w) => JSON.stringify(w)),
      bytes: avg(reports),
    },
    {
      step: 'write: RedisPortfolioStore.encode',
      microsPerPortfolio: time(outcomes, (o) => RedisPortfolioStore.encode(o.portfolio)),
      bytes: avg(outcomes.map((o) => RedisPortfolioStore.encode(o.portfolio))),
    },
  ];
  // The sum of what a job does (decode contains a JSON.parse of the document).
  const counted = new Set([
    'payload validation (zod)',
    'read: RedisPortfolioStore.decode',
    'runPortfolio (recommend, rank, roll-up, apply)',
    'report: reportToWire',
    'report: JSON.stringify',
    'write: RedisPortfolioStore.encode',
  ]);
  const totalMicros = rows
    .filter((r) => counted.has(r.step))
    .reduce((sum, r) => sum + r.microsPerPortfolio, 0);
  console.log(
    `recalculate job steps, in-process, ${PORTFOLIOS.toLocaleString('en-US')} portfolios of 20 businesses; node ${process.version}`,
  );
  console.log(
    formatTable(
      [
        { header: 'step', value: (r: StepRow) => r.step },
        { header: 'µs/portfolio', value: (r) => r.microsPerPortfolio.toFixed(1), align: 'right' },
        {
          header: 'bytes',
          value: (r) => (r.bytes === null ? '' : Math.round(r.bytes).toLocaleString('en-US')),
          align: 'right',
        },
      ],
      rows,
    ),
  );
  console.log(
    `total of a job's own steps: ${totalMicros.toFixed(0)} µs per portfolio (${Math.round(1e6 / totalMicros).toLocaleString('en-US')} portfolios/s on one core, before BullMQ, Redis and GC)`,
  );
  const result: StepsResult = {
    bench: 'steps',
    date: new Date().toISOString(),
    portfolios: PORTFOLIOS,
    rows,
    totalMicros,
  };
  if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
}

main();
