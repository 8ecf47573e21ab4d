/** The sketch's portfolio routes: create, show, an owner's list, update. */
import { createPortfolio, updatePortfolio, ValidationError } from '../../domain/index.js';
import { ownerPortfolios } from '../../services/portfolios.js';
import type { RegisterRoutes } from '../context.js';
import { edit } from '../edit-meta.js';
import { generatePortfolioId } from '../portfolio-id.js';
import { errorResponses, ownerParams, portfolioParams } from '../schemas/common.js';
import {
  createPortfolioBody,
  ownerPortfoliosResponse,
  portfolioWire,
  statusWithPortfolio,
  updatePortfolioBody,
  wirePortfolio,
} from '../schemas/portfolio.js';

/**
 * `/portfolios/owner/{owner_id}` is the owner listing, so a portfolio called `owner` would lose
 * its `/metrics`, `/ranking`, `/rebalance`, `/reports`... routes to it: refused on create.
 */
const RESERVED_IDS = new Set(['owner']);

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
      const b = request.body;
      if (b.id !== undefined && RESERVED_IDS.has(b.id)) {
        throw new ValidationError(
          `"${b.id}" cannot be a portfolio id: /portfolios/owner/{owner_id} lists an owner's portfolios`,
          [`body.id: "${b.id}" is reserved`],
        );
      }
      const portfolio = createPortfolio(
        {
          id: b.id ?? generatePortfolioId(),
          name: b.name,
          ownerId: b.owner_id,
          status: b.status,
          strategy: b.strategy,
          totalBudget: b.total_budget,
          targetRoi: b.target_roi,
          driftThreshold: b.drift_threshold,
          attentionHoursPerWeek: b.attention_hours_per_week,
          maxTurnover: b.max_turnover,
          applyMode: b.apply_mode,
          maxAutoTurnover: b.max_auto_turnover,
          rebalanceTrigger: b.rebalance_trigger,
          driftType: b.drift_type,
          minTrade: b.min_trade,
        },
        app.clock().toISOString(),
      );
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
      const b = request.body;
      const now = app.clock().toISOString();
      const updated = await app.store.update(
        request.params.id,
        (p) =>
          updatePortfolio(
            p,
            {
              name: b.name,
              status: b.status,
              strategy: b.strategy,
              totalBudget: b.total_budget,
              targetRoi: b.target_roi,
              driftThreshold: b.drift_threshold,
              attentionHoursPerWeek: b.attention_hours_per_week,
              maxTurnover: b.max_turnover,
              applyMode: b.apply_mode,
              maxAutoTurnover: b.max_auto_turnover,
              rebalanceTrigger: b.rebalance_trigger,
              driftType: b.drift_type,
              minTrade: b.min_trade,
            },
            now,
          ),
        edit(request, 'PATCH /portfolios/{id}'),
      );
      return { status: 'updated' as const, portfolio: wirePortfolio(updated) };
    },
  );
};
