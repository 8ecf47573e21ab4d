/** Run and job visibility (issue 14): which runs there were, what each did, and cancelling. */
import type { PortfolioOutcome } from '../../domain/run-state.js';
import { cancelJob, listJobs } from '../../services/jobs.js';
import { cancelRun, listRuns, showRun } from '../../services/runs.js';
import type { RegisterRoutes } from '../context.js';
import { errorResponses, jobParams } from '../schemas/common.js';
import { runParams } from '../schemas/history.js';
import {
  cancelJobResponse,
  cancelRunResponse,
  jobsQuery,
  jobsResponse,
  runDetailResponse,
  runQuery,
  runsQuery,
  runsResponse,
} from '../schemas/run-list.js';

const tags = ['runs'];

export const registerRunListRoutes: RegisterRoutes = (server, ctx) => {
  const { app } = ctx;

  server.get(
    '/runs',
    {
      schema: {
        tags,
        summary: 'The latest nightly runs, newest first',
        description:
          "Scheduled, backfilled and operators' nightly runs, kept as long as their run markers (BALLAST_RUN_MARKER_TTL_S).",
        querystring: runsQuery,
        response: { 200: runsResponse, 400: errorResponses[400] },
      },
    },
    async (request) => ({ runs: await listRuns(app, request.query.limit) }),
  );

  server.get(
    '/runs/:run_id',
    {
      schema: {
        tags,
        summary: "One run: progress, counts, turnover distribution, each portfolio's outcome",
        params: runParams,
        querystring: runQuery,
        response: { 200: runDetailResponse, 400: errorResponses[400], 404: errorResponses[404] },
      },
    },
    async (request) =>
      showRun(app, request.params.run_id, {
        limit: request.query.limit,
        outcome: request.query.outcome as PortfolioOutcome | undefined,
      }),
  );

  server.delete(
    '/runs/:run_id/pending',
    {
      schema: {
        tags,
        summary: 'Cancel what of a run has not started',
        description:
          'Removes the fan-out if it is still queued and every portfolio job still waiting; a running fan-out stops at its next chunk, jobs already running finish. 409 when the run has ended.',
        params: runParams,
        response: {
          200: cancelRunResponse,
          400: errorResponses[400],
          404: errorResponses[404],
          409: errorResponses[409],
        },
      },
    },
    async (request) => cancelRun(app, request.params.run_id, request.actor),
  );

  server.get(
    '/jobs',
    {
      schema: {
        tags,
        summary: "The queue's jobs, newest first",
        querystring: jobsQuery,
        response: { 200: jobsResponse, 400: errorResponses[400] },
      },
    },
    async (request) => ({
      jobs: await listJobs(app, { state: request.query.state, limit: request.query.limit }),
    }),
  );

  server.delete(
    '/jobs/:job_id',
    {
      schema: {
        tags,
        summary: 'Cancel a job that has not started (waiting or delayed)',
        params: jobParams,
        response: {
          200: cancelJobResponse,
          400: errorResponses[400],
          404: errorResponses[404],
          409: errorResponses[409],
        },
      },
    },
    async (request) => cancelJob(app, request.params.job_id, request.actor),
  );
};
