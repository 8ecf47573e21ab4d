/**
 * Closing the server while `POST /portfolios/{id}/rebalance` waits for its job (no worker up):
 * the wait stops at once and answers 202 (the job stays queued), so that a SIGTERM does not
 * wait out the 30 s apply timeout. The real process is in api-process.test.ts.
 */
import type { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import type { App } from '../../src/app.js';
import { testApp } from '../helpers/app.js';
import { useRedisPrefix } from '../helpers/redis.js';
import { AUTH, inject, TOKEN } from './api-fixture.js';

const redis = useRedisPrefix('api-shutdown');
let app: App;
let events: QueueEvents;

beforeAll(async () => {
  app = testApp(redis.prefix);
  events = await app.queue.events(app.redis);
});
afterAll(async () => {
  await events?.close();
  await app?.close();
});

/** Resolves with the id of the next job added to the queue. */
function nextAdded(): Promise<string> {
  return new Promise((resolve) => events.once('added', ({ jobId }: { jobId: string }) => resolve(jobId)));
}

describe('closing the API', () => {
  it('answers an apply waiting for a worker with 202 at once, and closes within a couple of seconds', async () => {
    // The default wait: without the fix, close() would wait it out.
    const server = createApiServer(app, { token: TOKEN, applyTimeoutMs: 30_000 });
    let closed = false;
    try {
      expect(
        (await inject(server, 'POST', '/portfolios', { id: 'sd', name: 'sd', owner_id: 'o' }, AUTH)).status,
      ).toBe(200);
      await inject(server, 'POST', '/portfolios/sd/businesses', { business_id: 'b1' }, AUTH);
      const added = nextAdded();
      const pending = inject(server, 'POST', '/portfolios/sd/rebalance', undefined, AUTH);
      const jobId = await added;

      const started = Date.now();
      await server.close();
      closed = true;
      const r = await pending;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(r.status, r.text).toBe(202);
      expect(r.json).toMatchObject({ status: 'queued', job_id: jobId });
      expect(r.json.message).toMatch(/shutting down.*stays queued/);
      // Nothing was lost: the job waits for a worker.
      expect((await app.queue.getJob(jobId))?.state).toBe('waiting');
    } finally {
      if (!closed) await server.close();
    }
  });
});
