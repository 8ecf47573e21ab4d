/** History and undo: a portfolio's versions, restore, revert of a run, the audit stream. */

import {
  DEFAULT_AUDIT_LIMIT,
  DEFAULT_HISTORY_LIMIT,
  portfolioHistory,
  readAudit,
  restorePortfolio,
} from '../../services/history.js';
import { revertRun } from '../../services/revert.js';
import type { RegisterRoutes } from '../context.js';
import { errorResponses, portfolioParams } from '../schemas/common.js';
import {
  auditQuery,
  auditResponse,
  historyQuery,
  historyResponse,
  restoreBody,
  restoreResponse,
  revertBody,
  revertResponse,
  runParams,
} from '../schemas/history.js';

const tags = ['history'];

export const registerHistoryRoutes: RegisterRoutes = (server, { app }) => {
  server.get(
    '/portfolios/:id/history',
    {
      schema: {
        tags,
        summary: "A portfolio's versions, newest first",
        description: 'Each record: version, when, actor, cause, the allocations after it and what changed.',
        params: portfolioParams,
        querystring: historyQuery,
        response: { 200: historyResponse, 400: errorResponses[400], 404: errorResponses[404] },
      },
    },
    async (request) => portfolioHistory(app, request.params.id, request.query.limit ?? DEFAULT_HISTORY_LIMIT),
  );

  server.post(
    '/portfolios/:id/restore',
    {
      schema: {
        tags,
        summary: 'Restore the allocations of an earlier version, as a new version',
        description:
          'Weights, locks, bounds, targets and priorities become those of `version` (compare-and-set). 409 when the businesses differ from that version’s (named), 404 when the history no longer keeps it (the message says which versions it keeps).',
        params: portfolioParams,
        body: restoreBody,
        response: {
          200: restoreResponse,
          400: errorResponses[400],
          404: errorResponses[404],
          409: errorResponses[409],
        },
      },
    },
    async (request) =>
      restorePortfolio(app, request.params.id, request.body.version, {
        actor: request.actor,
        dryRun: request.body.dry_run ?? false,
      }),
  );

  server.post(
    '/runs/:run_id/revert',
    {
      // No body is a plain revert: validated as `{}`.
      preValidation: async (request) => {
        if (request.body === null || request.body === undefined) request.body = {};
      },
      schema: {
        tags,
        summary: 'Take back every change a run made',
        description:
          'Every portfolio the run changed goes back to its weights before the run, as a new version. A portfolio changed since is a conflict naming the change, unless `force` (then only what the run moved is taken back). 409 while the run still has jobs waiting or running.',
        params: runParams,
        body: revertBody,
        response: {
          200: revertResponse,
          400: errorResponses[400],
          404: errorResponses[404],
          409: errorResponses[409],
        },
      },
    },
    async (request) =>
      revertRun(app, request.params.run_id, {
        actor: request.actor,
        dryRun: request.body?.dry_run ?? false,
        force: request.body?.force ?? false,
      }),
  );

  server.get(
    '/audit',
    {
      schema: {
        tags,
        summary: 'Every change to every portfolio, newest first',
        querystring: auditQuery,
        response: { 200: auditResponse, 400: errorResponses[400] },
      },
    },
    async (request) => {
      const q = request.query;
      const entries = await readAudit(app, {
        portfolioId: q.portfolio,
        actor: q.actor,
        since: q.since,
        limit: q.limit ?? DEFAULT_AUDIT_LIMIT,
      });
      return { entries };
    },
  );
};
