/** The BullMQ dashboard (bull-board) at /admin/queues, behind the same token as the API. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.js';

export const DASHBOARD_PREFIX = '/admin/queues';

export function registerDashboard(server: FastifyInstance, app: App): void {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(DASHBOARD_PREFIX);
  createBullBoard({
    queues: [new BullMQAdapter(app.queue.queue)],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Ballast' } },
  });
  server.register(adapter.registerPlugin(), { prefix: DASHBOARD_PREFIX });
}
