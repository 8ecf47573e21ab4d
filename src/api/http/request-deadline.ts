/**
 * Every request is answered within a deadline: a 503 when the route has not answered by then
 * (a Redis that accepts connections and never replies, say). Not fastify's `handlerTimeout`:
 * in fastify 5.12 a request's 'close' (fired once its body has been read) clears that timer,
 * so it never fires for a POST with a body. The deadline is meant for Redis: a wait bounded by
 * limits of its own (the HTTP metrics source's time-out per attempt and retries) runs with the
 * clock stopped (`excluding`), so that it ends as its limits say (a business without metrics is
 * no-metrics, SPEC section 4) rather than as a 503 blaming Redis.
 *
 * Each request carries an AbortSignal, aborted once it is answered (the deadline's 503
 * included), when its client goes away, or when the server shuts down: the work still running
 * for it (a metrics fetch) can stop. Redis commands in flight cannot be taken back; their late
 * answer is dropped (fastify logs "Reply was already sent").
 */
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { sendError, UnavailableError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's deadline, when it is not the server's (the apply waits for its job). */
    timeoutMs?: number;
  }
  interface FastifyRequest {
    deadline: RequestDeadline;
  }
}

export interface RequestDeadline {
  /** Aborted once the request is answered or abandoned: the reason says which. */
  readonly signal: AbortSignal;
  /**
   * `work` with the deadline's clock stopped: for a wait that bounds itself and is not Redis's.
   * The deadline resumes with what was left of it once the last such wait is over.
   */
  excluding<T>(work: () => Promise<T>): Promise<T>;
}

/** Reads change nothing: their deadline 503 must not send the client looking for a write. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function deadlineMessage(method: string, ms: number): string {
  const what = `no answer within ${ms / 1000}s (is Redis reachable? see GET /readyz)`;
  return READS.has(method)
    ? `${what}: this is a read, nothing was changed; try again later`
    : `${what}: a change may or may not have been made; read it back before retrying`;
}

export function useRequestDeadline(server: FastifyInstance, defaultMs: number, shutdown: AbortSignal): void {
  server.decorateRequest('deadline', null as unknown as RequestDeadline);
  // One listener for every request in flight (one each would trip Node's listener-leak warning).
  const live = new Set<(why: string) => void>();
  shutdown.addEventListener('abort', () => {
    for (const abort of live) abort('the API is shutting down');
  });
  server.addHook('onRequest', async (request, reply) => {
    const ms = request.routeOptions.config?.timeoutMs ?? defaultMs;
    const controller = new AbortController();
    const abort = (why: string) => {
      if (!controller.signal.aborted) controller.abort(new Error(why));
    };
    let timer: NodeJS.Timeout | undefined;
    let left = ms;
    let armedAt = 0;
    let excluded = 0;
    const fire = () => {
      timer = undefined;
      if (reply.sent || reply.raw.headersSent) return;
      request.log.warn({ timeoutMs: ms }, 'request deadline passed');
      abort(`no answer within ${ms / 1000}s`);
      sendError(request, reply, new UnavailableError(deadlineMessage(request.method, ms)));
    };
    const arm = () => {
      armedAt = performance.now();
      timer = setTimeout(fire, Math.max(0, left));
    };
    const end = () => {
      clearTimeout(timer);
      timer = undefined;
      live.delete(abort);
      abort(reply.sent || reply.raw.writableFinished ? 'the request was answered' : 'the client went away');
    };
    request.deadline = {
      signal: controller.signal,
      excluding: async (work) => {
        if (excluded++ === 0 && timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
          left -= performance.now() - armedAt;
        }
        try {
          return await work();
        } finally {
          if (--excluded === 0 && !controller.signal.aborted && !reply.sent) arm();
        }
      },
    };
    if (shutdown.aborted) abort('the API is shutting down');
    else live.add(abort);
    arm();
    reply.raw.once('finish', end);
    reply.raw.once('close', end);
  });
}
