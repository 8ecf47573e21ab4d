import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { App } from '../app.js';
import type { Prometheus } from '../observability/prometheus.js';

export type QueueEventsReader = Awaited<ReturnType<App['queue']['events']>>;

/** What the routes share: no globals. */
export interface ApiContext {
  /** The app on the API's own fail-fast Redis connections (see api-redis.ts). */
  readonly app: App;
  readonly prometheus: Prometheus;
  /** How long `POST /portfolios/{id}/rebalance` waits for its job before answering 202. */
  readonly applyTimeoutMs: number;
  /** Longest a request may take (the apply adds its wait to it). */
  readonly requestTimeoutMs: number;
  /** /metrics without a token (BALLAST_METRICS_PUBLIC=true). */
  readonly metricsPublic: boolean;
  /** Aborted when the server starts closing: requests waiting on a job stop waiting and answer. */
  readonly shutdown: AbortSignal;
  /**
   * One QueueEvents reader for every request that waits on a job, opened on first use; a 503
   * (UnavailableError) when it cannot be opened within a few seconds.
   */
  queueEvents(): Promise<QueueEventsReader>;
}

export type ApiServer = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression<RawServerDefault>,
  RawReplyDefaultExpression<RawServerDefault>,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export type RegisterRoutes = (server: ApiServer, ctx: ApiContext) => void;
