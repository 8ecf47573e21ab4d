/** The sketch's read-outs on live metrics (roll-up, ranking, rebalance preview) and the apply. */
import type { RegisterRoutes } from '../context.js';
import { errorResponses, portfolioParams, unavailableResponses } from '../schemas/common.js';
import {
  applyResponse,
  previewResponse,
  queuedResponse,
  rankingResponse,
  rollupWire,
} from '../schemas/portfolio.js';
import { previewRun, totalReallocation } from './preview.js';
import { applyNow } from './rebalance.js';

const tags = ['rebalancing'];
const lookups = { 400: errorResponses[400], 404: errorResponses[404] };

export const registerAnalysisRoutes: RegisterRoutes = (server, ctx) => {
  const { app } = ctx;

  server.get(
    '/portfolios/:id/metrics',
    {
      schema: {
        tags,
        summary: 'Roll-up of the businesses’ live metrics',
        description:
          'The sketch’s keys plus businesses with and without metrics, revenue-weighted growth and ROI against target.',
        params: portfolioParams,
        response: { 200: rollupWire, ...lookups, 503: unavailableResponses.metrics },
      },
    },
    async (request) => {
      const report = await previewRun(app, await app.store.require(request.params.id), request.deadline);
      return report.metrics!;
    },
  );

  server.get(
    '/portfolios/:id/ranking',
    {
      schema: {
        tags,
        summary: 'Businesses ranked by normalised profit, growth and health',
        description: 'Businesses without metrics follow, unranked (`rank: null`).',
        params: portfolioParams,
        response: { 200: rankingResponse, ...lookups, 503: unavailableResponses.metrics },
      },
    },
    async (request) => {
      const report = await previewRun(app, await app.store.require(request.params.id), request.deadline);
      return { rankings: report.ranking };
    },
  );

  server.get(
    '/portfolios/:id/rebalance',
    {
      schema: {
        tags,
        summary: 'Preview a rebalance (dry run: nothing is applied or published)',
        params: portfolioParams,
        response: { 200: previewResponse, ...lookups, 503: unavailableResponses.metrics },
      },
    },
    async (request) => {
      const portfolio = await app.store.require(request.params.id);
      const report = await previewRun(app, portfolio, request.deadline);
      return {
        portfolio_id: report.portfolio_id,
        strategy: report.strategy,
        version: portfolio.version,
        total_reallocation: totalReallocation(report),
        turnover: report.turnover,
        turnover_scale: report.turnover_scale,
        changes: report.changes,
        held: report.held,
        flags: report.flags,
        actions: report.actions,
      };
    },
  );

  server.post(
    '/portfolios/:id/rebalance',
    {
      // It waits for the job up to applyTimeoutMs: the request deadline is that and a margin.
      config: { timeoutMs: ctx.applyTimeoutMs + ctx.requestTimeoutMs },
      schema: {
        tags,
        summary: 'Apply a rebalance now, through the recalculate job',
        description:
          'Enqueues a recalculate job ahead of nightly work and waits for a worker to finish it (compare-and-set apply, published report). `changes` counts the allocations that moved (or would have: with status `held`, a guard or the apply mode held the recommendation as the portfolio’s proposal, see GET /portfolios/{id}/proposal). When no worker finishes it in time the answer is 202 and the job stays queued.',
        params: portfolioParams,
        response: { 200: applyResponse, 202: queuedResponse, ...lookups, 409: errorResponses[409] },
      },
    },
    async (request, reply) => {
      const outcome = await applyNow(ctx, request.params.id);
      if (outcome.kind === 'queued') {
        const why =
          outcome.why === 'shutdown'
            ? `the API is shutting down before job ${outcome.jobId} finished`
            : `no worker finished job ${outcome.jobId} within ${ctx.applyTimeoutMs / 1000}s`;
        reply.code(202);
        return {
          status: 'queued' as const,
          job_id: outcome.jobId,
          run_id: outcome.runId,
          message: `${why}; it stays queued and applies when a worker takes it (GET /jobs/${outcome.jobId})`,
        };
      }
      const r = outcome.result;
      return {
        status: r.held ? ('held' as const) : ('rebalanced' as const),
        changes: r.changes,
        applied: r.applied,
        held: r.held,
        turnover: r.turnover,
        job_id: outcome.jobId,
        run_id: outcome.runId,
        report_id: r.reportId,
        skipped: r.skipped === null ? null : { reason: r.skipped },
      };
    },
  );
};
