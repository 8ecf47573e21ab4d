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
  readonly app: App;
  readonly prometheus: Prometheus;
  /** How long `POST /portfolios/{id}/rebalance` waits for its job before answering 202. */
  readonly applyTimeoutMs: number;
  /** /metrics without a token (BALLAST_METRICS_PUBLIC=true). */
  readonly metricsPublic: boolean;
  /** One QueueEvents reader for every request that waits on a job, opened on first use. */
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
