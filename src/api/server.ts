/**
 * The HTTP API on fastify: the sketch's routes and SPEC section 6's additions, zod schemas for
 * validation and the OpenAPI document, one error mapping, bearer-token auth on everything but
 * health checks. Returned ready to `inject` or `listen`; `startApi` listens.
 */
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { App } from '../app.js';
import type { NamedToken } from '../config.js';
import { registerConsole } from '../console/console.js';
import { RefusedError } from '../domain/index.js';
import { withDeadline } from '../observability/deadline.js';
import { type Prometheus, prometheusFor } from '../observability/prometheus.js';
import { settledWithin } from '../timing.js';
import type { ApiContext, ApiServer, QueueEventsReader, RegisterRoutes } from './context.js';
import { apiRedis } from './http/api-redis.js';
import { bearerAuth } from './http/auth.js';
import { registerDashboard } from './http/dashboard.js';
import { registerDocs } from './http/docs.js';
import { errorBody, sendError, UnavailableError } from './http/errors.js';
import { useJsonBodyParser } from './http/json-body.js';
import { serializeRequest } from './http/log-request.js';
import { useRequestDeadline } from './http/request-deadline.js';
import {
  CLOSE_WAIT_MS,
  EVENTS_OPEN_TIMEOUT_MS,
  REDIS_CONNECT_WAIT_MS,
  REQUEST_TIMEOUT_MS,
} from './http/request-limits.js';
import { strictRoutes } from './http/strict-routes.js';
import { registerAnalysisRoutes } from './routes/analysis.js';
import { registerBusinessRoutes } from './routes/businesses.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerHistoryRoutes } from './routes/history.js';
import { registerPortfolioDeleteRoute } from './routes/portfolio-delete.js';
import { registerPortfolioRoutes } from './routes/portfolios.js';
import { registerProposalRoutes } from './routes/proposals.js';
import { registerRunListRoutes } from './routes/run-list.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerScheduleRoutes } from './routes/schedule.js';

export interface ApiServerOptions {
  /** BALLAST_API_TOKEN: one token, named `default`. */
  readonly token?: string | undefined;
  /** Named tokens (BALLAST_API_TOKENS, with BALLAST_API_TOKEN as `default`): one is required unless `insecureNoAuth`. */
  readonly tokens?: readonly NamedToken[] | undefined;
  /** Serve without auth (`ballast api --insecure-no-auth`); startApi then binds to loopback only. */
  readonly insecureNoAuth?: boolean | undefined;
  /** /metrics without a token (BALLAST_METRICS_PUBLIC=true). */
  readonly metricsPublic?: boolean | undefined;
  /** Share one registry with a worker in the same process (`ballast start`); default: a new one. */
  readonly prometheus?: Prometheus | undefined;
  /** How long `POST /portfolios/{id}/rebalance` waits for its job; default 30 s. */
  readonly applyTimeoutMs?: number | undefined;
  /** Largest request body accepted; default 64 KiB. */
  readonly bodyLimit?: number | undefined;
  /** Longest a request may take before it is answered 503; default 10 s (REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs?: number | undefined;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;
const DEFAULT_APPLY_TIMEOUT_MS = 30_000;
/** Longer than any valid id (64) or job id (200): a longer path segment is refused before routing. */
const MAX_PARAM_LENGTH = 256;

const ROUTES: readonly RegisterRoutes[] = [
  registerPortfolioRoutes,
  registerPortfolioDeleteRoute,
  registerBusinessRoutes,
  registerAnalysisRoutes,
  registerRunRoutes,
  registerRunListRoutes,
  registerHistoryRoutes,
  registerProposalRoutes,
  registerScheduleRoutes,
  registerHealthRoutes,
];

export function createApiServer(app: App, options: ApiServerOptions = {}): ApiServer {
  const tokens = [...(options.tokens ?? [])];
  if (options.token !== undefined && !tokens.some((t) => t.token === options.token)) {
    tokens.push({ name: 'default', token: options.token });
  }
  const token = tokens.length > 0;
  if (!token && !options.insecureNoAuth) {
    throw new RefusedError(
      'the API needs a token: set BALLAST_API_TOKEN or BALLAST_API_TOKENS (16 characters or more), or start it with --insecure-no-auth to serve on 127.0.0.1 without auth',
    );
  }
  if (tokens.some((t) => t.token.length < 16)) {
    throw new RefusedError('an API token must be at least 16 characters');
  }

  const auth = token ? bearerAuth(tokens) : null;
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const server = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast only drops pino's extra generics.
    loggerInstance: app.log.child(
      { component: 'api' },
      {
        redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
        // URLs are logged without their query values: a token pasted into `?token=` stays out.
        serializers: { req: serializeRequest },
      },
    ) as FastifyBaseLogger,
    bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // A malformed URL or an over-long path segment: the same error body as everything else.
    frameworkErrors: (err, request, reply) => {
      if (auth && !auth.allows(request)) auth.refuse(request, reply);
      else sendError(request, reply, err);
    },
  }).withTypeProvider<ZodTypeProvider>();

  const shutdown = new AbortController();
  // First: a request refused by auth or validation is answered long before its deadline.
  useRequestDeadline(server, requestTimeoutMs, shutdown.signal);
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  server.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  server.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
  useJsonBodyParser(server);
  // JSON only: fastify's default text/plain parser would hand a string to routes (a 400 at
  // best, a body silently ignored at worst); without it any other type is a 415.
  server.removeContentTypeParser('text/plain');
  server.decorateRequest('actor', 'api:anonymous');
  if (auth) server.addHook('onRequest', auth.hook);

  const redis = apiRedis(app, { connectWaitMs: REDIS_CONNECT_WAIT_MS, closeWaitMs: CLOSE_WAIT_MS });
  // The reader itself, not only the promise of it ready: closing must reach a reader still
  // connecting (Redis went away while it opened), whose `ready` settles only once Redis is back.
  let events: { readonly reader: QueueEventsReader; readonly ready: Promise<QueueEventsReader> } | undefined;
  const openEvents = () => {
    if (!events) {
      // On the app's connection: a blocking reader needs BullMQ's maxRetriesPerRequest null.
      const opened = redis.app.queue.openEvents(app.redis);
      events = opened;
      opened.ready.catch(() => {
        if (events !== opened) return;
        events = undefined;
        void opened.reader.close().catch(() => undefined);
      });
    }
    return events.ready;
  };
  const ctx: ApiContext = {
    app: redis.app,
    prometheus: options.prometheus ?? prometheusFor(app),
    applyTimeoutMs: options.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS,
    requestTimeoutMs,
    metricsPublic: options.metricsPublic === true,
    shutdown: shutdown.signal,
    queueEvents: () =>
      withDeadline(openEvents(), EVENTS_OPEN_TIMEOUT_MS, 'opening the queue events reader').catch(
        (err: unknown) => {
          throw new UnavailableError(
            `cannot follow jobs now (${err instanceof Error ? err.message : String(err)}): try again when GET /readyz answers 200`,
          );
        },
      ),
  };
  // Before fastify waits for the requests in flight: those waiting on a job answer at once, and
  // so do previews waiting for metrics (their requests' signals are aborted).
  server.addHook('preClose', async () => {
    shutdown.abort(new Error('the API is shutting down'));
  });
  // An answer sent while closing ends its connection: a keep-alive connection left idle after
  // close() began would hold the server open until the client lets go.
  server.addHook('onSend', async (_request, reply, payload) => {
    if (shutdown.signal.aborted) reply.header('connection', 'close');
    return payload;
  });
  server.addHook('onClose', async () => {
    if (events) await settledWithin(events.reader.close(), CLOSE_WAIT_MS);
    await redis.close();
  });

  registerDocs(server, { auth: Boolean(token) });
  // Inside a plugin so that the OpenAPI generator (registered above) sees every route.
  server.register(async (api) => {
    strictRoutes(api, { auth: Boolean(token), unavailable: redis.unavailable, bodyLimit });
    for (const register of ROUTES) register(api, ctx);
  });
  const session = registerConsole(server, ctx, { tokens, unavailable: redis.unavailable });
  registerDashboard(server, redis.app, redis.unavailable, auth ? { auth, session, clock: app.clock } : null);
  return server;
}
