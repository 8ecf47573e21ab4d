/** The BullMQ dashboard (bull-board) at /admin/queues, behind the same token as the API. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { errorBody } from './errors.js';

export const DASHBOARD_PREFIX = '/admin/queues';

export function registerDashboard(
  server: FastifyInstance,
  app: App,
  /** Why Redis cannot serve now, or null: the dashboard's data routes are then a 503 at once. */
  unavailable: () => Promise<string | null>,
): void {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(DASHBOARD_PREFIX);
  createBullBoard({
    queues: [new BullMQAdapter(app.queue.queue)],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Ballast' } },
  });
  server.register(async (scope) => {
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.url.startsWith(`${DASHBOARD_PREFIX}/api/`)) return undefined;
      const why = await unavailable();
      return why === null ? undefined : reply.code(503).send(errorBody(503, why));
    });
    // bull-board answers its errors as {error: {key}}: add the `message` every other 4xx has.
    scope.addHook('onSend', async (_request, reply, payload) => {
      if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
      return withMessage(payload);
    });
    scope.register(adapter.registerPlugin(), { prefix: DASHBOARD_PREFIX });
  });
}

function withMessage(payload: string): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return payload;
  const record = body as Record<string, unknown>;
  if (typeof record['message'] === 'string' && record['message'] !== '') return payload;
  const error = record['error'];
  const key = typeof error === 'object' && error !== null ? (error as { key?: unknown }).key : error;
  return JSON.stringify({
    ...record,
    message: `dashboard: ${typeof key === 'string' ? key : 'request refused'}`,
  });
}
