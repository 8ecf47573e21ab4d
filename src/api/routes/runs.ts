/** SPEC section 6's additions: enqueue runs, follow jobs, read published reports. */
import { NotFoundError } from '../../domain/index.js';
import { enqueueNightly } from '../../services/runs.js';
import type { RegisterRoutes } from '../context.js';
import { snakeKeys } from '../http/snake-case.js';
import { errorResponses, jobParams, portfolioParams } from '../schemas/common.js';
import {
  enqueuedResponse,
  jobResponse,
  recalculateQuery,
  reportsQuery,
  reportsResponse,
  reportWire,
} from '../schemas/runs.js';
import { enqueueRecalculate } from './rebalance.js';

const DEFAULT_REPORTS = 20;

export const registerRunRoutes: RegisterRoutes = (server, ctx) => {
  const { app } = ctx;

  server.post(
    '/portfolios/:id/recalculate',
    {
      schema: {
        tags: ['runs'],
        summary: 'Enqueue a recalculation of one portfolio (ahead of nightly work)',
        params: portfolioParams,
        querystring: recalculateQuery,
        response: {
          202: enqueuedResponse,
          400: errorResponses[400],
          404: errorResponses[404],
          409: errorResponses[409],
        },
      },
    },
    async (request, reply) => {
      const { jobId, runId } = await enqueueRecalculate(
        ctx,
        request.params.id,
        request.query.dry_run ?? false,
      );
      reply.code(202);
      return { job_id: jobId, run_id: runId };
    },
  );

  server.post(
    '/runs/nightly',
    {
      schema: {
        tags: ['runs'],
        summary: 'Run the nightly rebalancing of every portfolio now',
        description: 'Paused and archived portfolios get a "skipped" report, as in the scheduled run.',
        response: { 202: enqueuedResponse },
      },
    },
    async (request, reply) => {
      const { runId, jobId } = await enqueueNightly(app, { trigger: 'manual', actor: request.actor });
      reply.code(202);
      return { job_id: jobId, run_id: runId };
    },
  );

  server.get(
    '/jobs/:job_id',
    {
      schema: {
        tags: ['runs'],
        summary: 'State, progress, result or failure reason of a job',
        params: jobParams,
        response: { 200: jobResponse, 400: errorResponses[400], 404: errorResponses[404] },
      },
    },
    async (request) => {
      const job = await app.queue.getJob(request.params.job_id);
      if (!job) {
        throw new NotFoundError(
          `job ${request.params.job_id} not found (completed jobs are trimmed after BALLAST_KEEP_COMPLETED)`,
        );
      }
      return {
        id: job.id,
        name: job.name,
        state: job.state,
        progress: snakeKeys(job.progress),
        data: snakeKeys(job.data),
        result: snakeKeys(job.result),
        failed_reason: job.failedReason,
        attempts_made: job.attemptsMade,
        created_at: new Date(job.timestamp).toISOString(),
        finished_at: job.finishedOn === null ? null : new Date(job.finishedOn).toISOString(),
      };
    },
  );

  server.get(
    '/portfolios/:id/reports',
    {
      schema: {
        tags: ['runs'],
        summary: "A portfolio's published reports, newest first",
        params: portfolioParams,
        querystring: reportsQuery,
        response: { 200: reportsResponse, 400: errorResponses[400], 404: errorResponses[404] },
      },
    },
    async (request) => {
      const portfolio = await app.store.require(request.params.id);
      const entries = await app.reports.list(portfolio.id, request.query.limit ?? DEFAULT_REPORTS);
      const reports = [];
      for (const entry of entries) {
        const parsed = reportWire.safeParse(parseJson(entry.report));
        if (parsed.success) reports.push(parsed.data);
        else
          request.log.warn({ portfolioId: portfolio.id, entry: entry.id }, 'unreadable report in the stream');
      }
      return { portfolio_id: portfolio.id, reports };
    },
  );
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
