/** `DELETE /portfolios/{id}`: a portfolio and everything Ballast keeps of it. */
import { z } from 'zod';
import { deletePortfolio } from '../../services/portfolio-delete.js';
import type { RegisterRoutes } from '../context.js';
import { errorResponses, portfolioParams } from '../schemas/common.js';
import { edit } from './edit-meta.js';

const deleteResponse = z.object({
  portfolio_id: z.string(),
  deleted: z.literal(true),
  version: z.number().describe('the version it had when it was deleted'),
  businesses: z.number(),
});

export const registerPortfolioDeleteRoute: RegisterRoutes = (server, { app }) => {
  server.delete(
    '/portfolios/:id',
    {
      schema: {
        tags: ['portfolios'],
        summary: 'Delete a portfolio: its document, reports, history, proposal and index entries',
        description:
          'Refused (409) while one of its jobs runs. The audit keeps who deleted it; nothing else of it is kept. To keep its history, archive it instead (PATCH status archived).',
        params: portfolioParams,
        response: {
          200: deleteResponse,
          400: errorResponses[400],
          404: errorResponses[404],
          409: errorResponses[409],
        },
      },
    },
    async (request) => deletePortfolio(app, request.params.id, edit(request, 'DELETE /portfolios/{id}')),
  );
};
