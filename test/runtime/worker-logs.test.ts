import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recalculateJobId } from '../../jobs/payloads.js';
import { OPERATOR_PRIORITY } from '../../src/adapters/queue.js';
import type { App } from '../../src/app.js';
import { addBusiness, createPortfolio, updatePortfolio } from '../../src/domain/index.js';
import { type RunningWorker, startWorker } from '../../src/runtime/worker.js';
import { TEST_EDIT, testApp } from '../helpers/app.js';
import { MemoryMetricsSource, wire } from '../helpers/memory-metrics.js';
import { useRedisPrefix } from '../helpers/redis.js';

/** SPEC, logs: job id, run id and portfolio id on every job line, failures included. */
const fixture = useRedisPrefix('worker-logs');
const T = '2026-11-25T00:00:00.000Z';
const source = new MemoryMetricsSource().set(wire('wa', 100, 10));

type Line = Record<string, unknown>;
/** The worker's pino output, parsed, with a way to wait for a line. */
const lines: Line[] = [];
const waiters: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const text of chunk.toString().split('\n')) {
      if (text === '') continue;
      const line = JSON.parse(text) as Line;
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
    done();
  },
});
function nextLine(match: (l: Line) => boolean): Promise<Line> {
  const seen = lines.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => waiters.push({ match, resolve }));
}

let app: App;
let worker: RunningWorker;

beforeAll(async () => {
  // Retryable failures are retried once, so that both failure lines show up quickly.
  app = testApp(fixture.prefix, {
    metricsSource: source,
    log: pino({ level: 'info' }, capture),
    env: { BALLAST_JOB_ATTEMPTS: '2' },
  });
  let archived = createPortfolio({ id: 'wl-archived', name: 'a', ownerId: 'o' }, T);
  archived = updatePortfolio(addBusiness(archived, 'wa', {}, T), { status: 'archived' }, T);
  await app.store.create(archived, TEST_EDIT);
  await app.store.create(
    addBusiness(createPortfolio({ id: 'wl-down', name: 'd', ownerId: 'o' }, T), 'down', {}, T),
    TEST_EDIT,
  );
  source.beforeAnswer = async (ids) => {
    if (ids.includes('down')) throw new Error('metrics source down');
  };
  worker = await startWorker(app);
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

async function add(data: unknown, jobId: string): Promise<void> {
  await app.queue.add({ name: 'recalculate', data, jobId, priority: OPERATOR_PRIORITY });
}

const ofJob = (jobId: string, msg: string) => (l: Line) => l.jobId === jobId && l.msg === msg;

describe('worker log lines', () => {
  it('carry the job id, run id and portfolio id when a job fails for good', async () => {
    const runId = 'manual-logs-1';
    const jobId = recalculateJobId(runId, 'wl-archived');
    await add({ portfolioId: 'wl-archived', runId, trigger: 'manual' }, jobId);
    const ids = { jobId, runId, portfolioId: 'wl-archived' };
    expect(await nextLine(ofJob(jobId, 'job failed'))).toMatchObject({ ...ids, job: 'recalculate' });
    expect(await nextLine(ofJob(jobId, 'job attempt failed'))).toMatchObject({ ...ids, attemptsMade: 1 });
  });

  it('carry them on every failed attempt of a job that is retried', async () => {
    const runId = 'manual-logs-2';
    const jobId = recalculateJobId(runId, 'wl-down');
    await add({ portfolioId: 'wl-down', runId, trigger: 'manual' }, jobId);
    const ids = { jobId, runId, portfolioId: 'wl-down', err: 'metrics source down' };
    expect(
      await nextLine((l) => ofJob(jobId, 'job attempt failed')(l) && l.attemptsMade === 2),
    ).toMatchObject(ids);
    const failed = lines.filter(ofJob(jobId, 'job failed'));
    expect(failed).toHaveLength(2);
    for (const line of failed) expect(line).toMatchObject(ids);
  });

  it('carry what can be read of an invalid payload, and nothing that is not a string', async () => {
    await add({ portfolioId: 'not an id', runId: 42, trigger: 'manual' }, 'bad-payload-logs');
    const attempt = await nextLine(ofJob('bad-payload-logs', 'job attempt failed'));
    expect(attempt).toMatchObject({
      portfolioId: 'not an id',
      err: expect.stringMatching(/invalid recalculate payload/),
    });
    expect(attempt).not.toHaveProperty('runId');
    expect(await nextLine(ofJob('bad-payload-logs', 'job failed'))).toMatchObject({
      portfolioId: 'not an id',
    });
    await add('just a string', 'junk-payload-logs');
    expect(await nextLine(ofJob('junk-payload-logs', 'job attempt failed'))).toMatchObject({
      jobId: 'junk-payload-logs',
      job: 'recalculate',
    });
  });
});
