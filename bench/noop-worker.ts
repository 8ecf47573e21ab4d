/**
 * The baseline of bench/pipeline.ts: a BullMQ worker process whose jobs do nothing, with the
 * options Ballast's worker uses (src/adapters/queue-worker.ts createWorker: concurrency, lock and
 * stall settings, removeOnComplete/Fail) and the same kind of connection (src/adapters/redis.ts).
 * Configured by the same BALLAST_* variables as `ballast worker`; prints "ready" when it listens.
 */
import { Worker } from 'bullmq';
import { createKeys } from '../src/adapters/keys.js';
import { createRedis } from '../src/adapters/redis.js';
import { loadConfig } from '../src/config.js';

const config = loadConfig(process.env);
const keys = createKeys(config.prefix);
const connection = createRedis(config);
const worker = new Worker(config.queueName, async () => null, {
  connection,
  prefix: keys.bullPrefix,
  concurrency: config.concurrency,
  lockDuration: config.jobs.lockDurationMs,
  stalledInterval: config.jobs.stalledIntervalMs,
  maxStalledCount: 1,
  removeOnComplete: { count: config.jobs.keepCompleted },
  removeOnFail: { count: config.jobs.keepFailed },
});
worker.on('error', (err) => console.error(`worker error: ${err.message}`));
await worker.waitUntilReady();
console.log('ready');

const stop = async () => {
  await worker.close();
  await connection.quit().catch(() => connection.disconnect());
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
