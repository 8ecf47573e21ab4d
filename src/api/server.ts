/**
 * The HTTP API on fastify: the sketch's routes and SPEC section 6's additions, zod schemas for
 * validation and the OpenAPI document, one error mapping, bearer-token auth on everything but
 * health checks. Returned ready to `inject` or `listen`; `startApi` listens.
 */
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { App } from '../app.js';
import { RefusedError } from '../domain/index.js';
import { type Prometheus, prometheusFor } from '../observability/prometheus.js';
import { bearerAuth } from './auth.js';
import type { ApiContext, ApiServer, QueueEventsReader, RegisterRoutes } from './context.js';
import { registerDashboard } from './dashboard.js';
import { registerDocs } from './docs.js';
import { errorBody, sendError } from './errors.js';
import { useJsonBodyParser } from './json-body.js';
import { registerAnalysisRoutes } from './routes/analysis.js';
import { registerBusinessRoutes } from './routes/businesses.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerPortfolioRoutes } from './routes/portfolios.js';
import { registerRunRoutes } from './routes/runs.js';

export interface ApiServerOptions {
  /** BALLAST_API_TOKEN: required unless `insecureNoAuth`. */
  readonly token?: string | undefined;
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
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;
const DEFAULT_APPLY_TIMEOUT_MS = 30_000;
/** Longer than any valid id (64) or job id (200): a longer path segment is refused before routing. */
const MAX_PARAM_LENGTH = 256;

const ROUTES: readonly RegisterRoutes[] = [
  registerPortfolioRoutes,
  registerBusinessRoutes,
  registerAnalysisRoutes,
  registerRunRoutes,
  registerHealthRoutes,
];

export function createApiServer(app: App, options: ApiServerOptions = {}): ApiServer {
  const token = options.token;
  if (!token && !options.insecureNoAuth) {
    throw new RefusedError(
      'the API needs a token: set BALLAST_API_TOKEN (16 characters or more), or start it with --insecure-no-auth to serve on 127.0.0.1 without auth',
    );
  }
  if (token !== undefined && token.length < 16) {
    throw new RefusedError('BALLAST_API_TOKEN must be at least 16 characters');
  }

  const auth = token ? bearerAuth(token) : null;
  const server = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast only drops pino's extra generics.
    loggerInstance: app.log.child(
      { component: 'api' },
      { redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' } },
    ) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // A malformed URL or an over-long path segment: the same error body as everything else.
    frameworkErrors: (err, request, reply) => {
      if (auth && !auth.allows(request)) auth.refuse(request, reply);
      else sendError(request, reply, err);
    },
  }).withTypeProvider<ZodTypeProvider>();

  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  server.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  server.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
  useJsonBodyParser(server);
  if (auth) server.addHook('onRequest', auth.hook);

  let events: Promise<QueueEventsReader> | undefined;
  const ctx: ApiContext = {
    app,
    prometheus: options.prometheus ?? prometheusFor(app),
    applyTimeoutMs: options.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS,
    metricsPublic: options.metricsPublic === true,
    queueEvents: () => {
      events ??= app.queue.events(app.redis).catch((err: unknown) => {
        events = undefined;
        throw err;
      });
      return events;
    },
  };
  server.addHook('onClose', async () => {
    const opened = await events?.catch(() => undefined);
    await opened?.close();
  });

  registerDocs(server, { auth: Boolean(token) });
  // Inside a plugin so that the OpenAPI generator (registered above) sees every route.
  server.register(async (api) => {
    for (const register of ROUTES) register(api, ctx);
  });
  registerDashboard(server, app);
  return server;
}
