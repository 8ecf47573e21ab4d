/** Liveness, readiness and the Prometheus scrape. */
import { z } from 'zod';
import { withDeadline } from '../../observability/deadline.js';
import type { RegisterRoutes } from '../context.js';
import { healthResponse, readyResponse } from '../schemas/runs.js';

/** Readiness answers within this even when Redis hangs (commands wait through outages otherwise). */
const READY_TIMEOUT_MS = 1000;

export const registerHealthRoutes: RegisterRoutes = (server, ctx) => {
  const { app, metricsPublic } = ctx;

  server.get(
    '/healthz',
    {
      config: { public: true, redis: false },
      schema: {
        tags: ['operations'],
        summary: 'The process is up',
        security: [],
        response: { 200: healthResponse },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  server.get(
    '/readyz',
    {
      config: { public: true, redis: false },
      schema: {
        tags: ['operations'],
        summary: 'Redis answers and the queue is reachable (503 otherwise)',
        security: [],
        response: { 200: readyResponse, 503: readyResponse },
      },
    },
    async (_request, reply) => {
      const [redis, queue] = await Promise.all([
        withDeadline(app.redis.ping(), READY_TIMEOUT_MS, 'redis ping').then(
          () => 'ok' as const,
          () => 'down' as const,
        ),
        withDeadline(app.queue.counts(), READY_TIMEOUT_MS, 'queue counts').then(
          () => 'ok' as const,
          () => 'down' as const,
        ),
      ]);
      const ready = redis === 'ok' && queue === 'ok';
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', redis, queue });
    },
  );

  server.get(
    '/metrics',
    {
      // Served during an outage too: the queue gauge has its own deadline.
      config: { public: metricsPublic, redis: false },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        description: metricsPublic
          ? 'Served without a token (BALLAST_METRICS_PUBLIC=true).'
          : 'Needs the token unless BALLAST_METRICS_PUBLIC=true.',
        ...(metricsPublic ? { security: [] } : {}),
        response: {
          // Text, not JSON: a string is sent as it is (the schema is only documentation).
          200: {
            description: 'The metrics in the Prometheus text exposition format (version 0.0.4)',
            content: { 'text/plain': { schema: z.string() } },
          },
        },
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await ctx.prometheus.scrape();
      return reply.type(contentType).send(body);
    },
  );
};
