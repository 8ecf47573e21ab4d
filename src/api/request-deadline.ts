/**
 * Every request is answered within a deadline: a 503 when the route has not answered by then
 * (a Redis that accepts connections and never replies, say). Not fastify's `handlerTimeout`:
 * in fastify 5.12 a request's 'close' (fired once its body has been read) clears that timer,
 * so it never fires for a POST with a body. The route's work carries on; its late answer is
 * dropped (fastify logs "Reply was already sent").
 */
import type { FastifyInstance } from 'fastify';
import { sendError, UnavailableError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's deadline, when it is not the server's (the apply waits for its job). */
    timeoutMs?: number;
  }
}

export function useRequestDeadline(server: FastifyInstance, defaultMs: number): void {
  server.addHook('onRequest', async (request, reply) => {
    const ms = request.routeOptions.config?.timeoutMs ?? defaultMs;
    const timer = setTimeout(() => {
      if (reply.sent || reply.raw.headersSent) return;
      const message = `no answer within ${ms / 1000}s (is Redis reachable? see GET /readyz): a change may or may not have been made; read it back before retrying`;
      request.log.warn({ timeoutMs: ms }, 'request deadline passed');
      sendError(request, reply, new UnavailableError(message));
    }, ms);
    const clear = () => clearTimeout(timer);
    reply.raw.once('finish', clear);
    reply.raw.once('close', clear);
  });
}
