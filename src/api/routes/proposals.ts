/** Proposals: recommendations held by a guard or the apply mode, waiting for an operator. */
import {
  approvePendingProposal,
  DEFAULT_PROPOSALS_LIMIT,
  listProposals,
  rejectPendingProposal,
  showProposal,
} from '../../services/proposals.js';
import type { RegisterRoutes } from '../context.js';
import { errorResponses, portfolioParams } from '../schemas/common.js';
import {
  approveResponse,
  proposalsQuery,
  proposalsResponse,
  proposalWire,
  rejectResponse,
  resolveBody,
} from '../schemas/proposals.js';

const tags = ['proposals'];

export const registerProposalRoutes: RegisterRoutes = (server, { app }) => {
  server.get(
    '/proposals',
    {
      schema: {
        tags,
        summary: 'Pending proposals, the longest-waiting first',
        description: 'The header `x-total-count` says how many are pending in all.',
        querystring: proposalsQuery,
        response: { 200: proposalsResponse, 400: errorResponses[400] },
      },
    },
    async (request, reply) => {
      const list = await listProposals(app, request.query.limit ?? DEFAULT_PROPOSALS_LIMIT);
      reply.header('x-total-count', String(list.total));
      return list.proposals;
    },
  );

  server.get(
    '/portfolios/:id/proposal',
    {
      schema: {
        tags,
        summary: "A portfolio's pending proposal",
        description: '404 when the portfolio is unknown or has no pending proposal.',
        params: portfolioParams,
        response: { 200: proposalWire, 400: errorResponses[400], 404: errorResponses[404] },
      },
    },
    async (request) => showProposal(app, request.params.id),
  );

  const noBodyIsEmpty = async (request: { body: unknown }) => {
    if (request.body === null || request.body === undefined) request.body = {};
  };

  server.post(
    '/portfolios/:id/proposal/approve',
    {
      preValidation: noBodyIsEmpty,
      schema: {
        tags,
        summary: 'Apply exactly the proposal’s weights',
        description:
          'Compare-and-set against the version the proposal was computed on; recorded in history and audit (cause approve). 409 naming every change when the portfolio changed since; 404 when there is no pending proposal.',
        params: portfolioParams,
        body: resolveBody,
        response: {
          200: approveResponse,
          400: errorResponses[400],
          404: errorResponses[404],
          409: errorResponses[409],
        },
      },
    },
    async (request) =>
      approvePendingProposal(app, request.params.id, { actor: request.actor, note: request.body?.note }),
  );

  server.post(
    '/portfolios/:id/proposal/reject',
    {
      preValidation: noBodyIsEmpty,
      schema: {
        tags,
        summary: 'Discard the proposal; the weights stay',
        description: 'Recorded in the audit stream (cause reject). 404 when there is no pending proposal.',
        params: portfolioParams,
        body: resolveBody,
        response: { 200: rejectResponse, 400: errorResponses[400], 404: errorResponses[404] },
      },
    },
    async (request) =>
      rejectPendingProposal(app, request.params.id, { actor: request.actor, note: request.body?.note }),
  );
};
