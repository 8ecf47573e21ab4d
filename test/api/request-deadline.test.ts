/** The request deadline on its own: a clock that an excluded wait stops, and a signal per request. */
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRequestDeadline } from '../../src/api/http/request-deadline.js';

const DEADLINE_MS = 200;
const shutdown = new AbortController();
const server = Fastify();
const signals: AbortSignal[] = [];

beforeAll(async () => {
  useRequestDeadline(server, DEADLINE_MS, shutdown.signal);
  // Waits 3 deadlines with the clock stopped, then answers.
  server.get('/excluded', async (request) => {
    await request.deadline.excluding(() => delay(3 * DEADLINE_MS));
    return { ok: true };
  });
  // The same, then never answers: the deadline resumes and passes.
  server.get('/excluded-then-stuck', async (request) => {
    signals.push(request.deadline.signal);
    await request.deadline.excluding(() => delay(3 * DEADLINE_MS));
    await new Promise(() => {});
  });
  server.patch('/stuck', async () => new Promise(() => {}));
  await server.ready();
});
afterAll(async () => {
  await server.close();
});

describe('the request deadline', () => {
  it('does not count a wait run with the clock stopped', async () => {
    const r = await server.inject({ method: 'GET', url: '/excluded' });
    expect(r.statusCode, r.body).toBe(200);
  });

  it('resumes after it, passes, says a read changed nothing, and aborts the request signal', async () => {
    const started = Date.now();
    const r = await server.inject({ method: 'GET', url: '/excluded-then-stuck' });
    expect(r.statusCode).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * DEADLINE_MS - 20);
    expect(r.json().message).toBe(
      'no answer within 0.2s (is Redis reachable? see GET /readyz): this is a read, nothing was changed; try again later',
    );
    const signal = signals.at(-1)!;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('no answer within 0.2s');
  });

  it('says a write may or may not have been made', async () => {
    const r = await server.inject({ method: 'PATCH', url: '/stuck' });
    expect(r.statusCode).toBe(503);
    expect(r.json().message).toMatch(
      /: a change may or may not have been made; read it back before retrying$/,
    );
  });
});
