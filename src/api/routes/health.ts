/** Liveness, readiness and the Prometheus scrape. */
import { z } from 'zod';
import { type RedisMemory, readRedisMemory } from '../../adapters/redis-memory.js';
import { withDeadline } from '../../observability/deadline.js';
import type { RegisterRoutes } from '../context.js';
import { healthResponse, readyResponse } from '../schemas/runs.js';

/** Readiness answers within this even when Redis hangs (commands wait through outages otherwise). */
const READY_TIMEOUT_MS = 1000;
/**
 * Above this share of maxmemory /readyz says "degraded": with noeviction Redis refuses writes at
 * the limit, and a nightly run's jobs then fail (docs/operations.md, "Redis settings").
 */
const MEMORY_DEGRADED_RATIO = 0.9;

/** used/max when Redis has a limit; null without one, or when INFO did not answer. */
function memoryUse(memory: RedisMemory | null): { used: number; max: number; ratio: number } | null {
  if (!memory || memory.max <= 0) return null;
  return { used: memory.used, max: memory.max, ratio: memory.used / memory.max };
}

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
        summary:
          'Redis answers and the queue is reachable (503 otherwise); "degraded" when Redis is nearly full',
        description: [
          '200 `ready`: Redis answers and the queue is reachable, each within a second.',
          `200 \`degraded\`: the same, but Redis uses more than ${MEMORY_DEGRADED_RATIO * 100}% of its maxmemory;`,
          'with maxmemory-policy noeviction it refuses writes at the limit and jobs fail, so free memory or raise maxmemory.',
          '`memory` (`used`, `max` in bytes, `ratio` = used/max) is present whenever Redis has a maxmemory.',
          '503 `unavailable`: Redis or the queue did not answer within a second.',
        ].join(' '),
        security: [],
        response: { 200: readyResponse, 503: readyResponse },
      },
    },
    async (_request, reply) => {
      const [redis, queue, memory] = await Promise.all([
        withDeadline(app.redis.ping(), READY_TIMEOUT_MS, 'redis ping').then(
          () => 'ok' as const,
          () => 'down' as const,
        ),
        withDeadline(app.queue.counts(), READY_TIMEOUT_MS, 'queue counts').then(
          () => 'ok' as const,
          () => 'down' as const,
        ),
        // Not knowing the memory (INFO refused or slow) does not make the API unready.
        withDeadline(readRedisMemory(app.redis), READY_TIMEOUT_MS, 'redis memory').then(
          (m) => memoryUse(m),
          () => null,
        ),
      ]);
      if (redis !== 'ok' || queue !== 'ok') {
        return reply.code(503).send({ status: 'unavailable', redis, queue });
      }
      const status = memory && memory.ratio > MEMORY_DEGRADED_RATIO ? 'degraded' : 'ready';
      return reply.code(200).send({ status, redis, queue, ...(memory ? { memory } : {}) });
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
