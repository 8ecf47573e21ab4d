/**
 * The pipeline's ceiling without BullMQ (bench:pipeline --ceiling): one process runs the nightly
 * run's recalculations through the worker's own processor (payload check, handler, commit, run
 * end), BALLAST_CONCURRENCY at a time, but takes them from a loop instead of BullMQ's queue. No
 * job is fetched, locked, completed or added: what a chunked fan-out (one BullMQ job per block of
 * portfolios) could at best reach. Configured by the same variables as `ballast worker`, plus
 * BENCH_RUN_ID and BENCH_PORTFOLIOS; prints one JSON line `{ ms, cpuMs }` when done.
 */
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { jobProcessor } from '../src/runtime/worker.js';
import { portfolioId } from './lib/dataset.js';

const config = loadConfig(process.env);
const app = createApp(config);
const runId = process.env.BENCH_RUN_ID ?? 'ceiling';
const n = Number(process.env.BENCH_PORTFOLIOS ?? '10000');
const processor = jobProcessor(app);
const signal = new AbortController().signal;

// As the fan-out records it, so that the commit script judges the run's end as in a night.
await app.reports.recordFanOut(runId, n, app.clock().toISOString());
const cpu = process.cpuUsage();
const started = performance.now();
let next = 0;
const lane = async () => {
  for (let i = next++; i < n; i = next++) {
    const data = { portfolioId: portfolioId(i), runId, trigger: 'manual', fanOut: true };
    await processor('recalculate', data, {
      jobId: `${runId}.${data.portfolioId}`,
      name: 'recalculate',
      attemptsMade: 0,
      signal,
      updateProgress: async () => {},
    });
  }
};
await Promise.all(Array.from({ length: config.concurrency }, lane));
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }));
await app.close();
