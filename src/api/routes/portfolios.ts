/** The sketch's portfolio routes: create, show, an owner's list, update. */
import {
  createInputFromWire,
  createPortfolio,
  updateInputFromWire,
  updatePortfolio,
} from '../../domain/index.js';
import { ownerPortfolios } from '../../services/portfolios.js';
import type { RegisterRoutes } from '../context.js';
import { errorResponses, ownerParams, portfolioParams } from '../schemas/common.js';
import {
  createPortfolioBody,
  ownerPortfoliosResponse,
  portfolioWire,
  statusWithPortfolio,
  updatePortfolioBody,
  wirePortfolio,
} from '../schemas/portfolio.js';
import { edit } from './edit-meta.js';

const tags = ['portfolios'];

export const registerPortfolioRoutes: RegisterRoutes = (server, { app }) => {
  server.post(
    '/portfolios',
    {
      schema: {
        tags,
        summary: 'Create a portfolio',
        description:
          'Answers 200 (as the sketch did) with the new portfolio; its `id`, `name` and `status` are the keys the sketch answered. The id `owner` is refused (it would collide with `/portfolios/owner/{owner_id}`).',
        body: createPortfolioBody,
        response: { 200: portfolioWire, 400: errorResponses[400], 409: errorResponses[409] },
      },
    },
    async (request) => {
      // The reserved ids (`owner`) and the settings' names are the domain's, as for the CLI.
      const portfolio = createPortfolio(createInputFromWire(request.body), app.clock().toISOString());
      return wirePortfolio(await app.store.create(portfolio, edit(request, 'POST /portfolios')));
    },
  );

  server.get(
    '/portfolios/:id',
    {
      schema: {
        tags,
        summary: 'Show a portfolio',
        params: portfolioParams,
        response: { 200: portfolioWire, 400: errorResponses[400], 404: errorResponses[404] },
      },
    },
    async (request) => wirePortfolio(await app.store.require(request.params.id)),
  );

  server.get(
    '/portfolios/owner/:owner_id',
    {
      schema: {
        tags,
        summary: "An owner's portfolios",
        description: 'An owner without portfolios has an empty list.',
        params: ownerParams,
        response: { 200: ownerPortfoliosResponse, 400: errorResponses[400] },
      },
    },
    async (request) => {
      const portfolios = await ownerPortfolios(app, request.params.owner_id);
      return {
        portfolios: portfolios.map((p) => ({
          id: p.id,
          name: p.name,
          status: p.status,
          business_count: p.allocations.length,
        })),
      };
    },
  );

  server.patch(
    '/portfolios/:id',
    {
      schema: {
        tags,
        summary: 'Update name, status, strategy, budget or limits',
        description:
          'An update that changes nothing (`{}`, the values it has already) writes nothing: the portfolio comes back with the same version.',
        params: portfolioParams,
        body: updatePortfolioBody,
        response: {
          200: statusWithPortfolio('updated'),
          400: errorResponses[400],
          404: errorResponses[404],
          409: errorResponses[409],
        },
      },
    },
    async (request) => {
      const input = updateInputFromWire(request.body);
      const now = app.clock().toISOString();
      const updated = await app.store.update(
        request.params.id,
        (p) => updatePortfolio(p, input, now),
        edit(request, 'PATCH /portfolios/{id}'),
      );
      return { status: 'updated' as const, portfolio: wirePortfolio(updated) };
    },
  );
};
