/** The sketch's business routes: add, remove, set an allocation. */
import { addBusiness, removeBusiness, setAllocation } from '../../domain/index.js';
import type { RegisterRoutes } from '../context.js';
import { businessParams, errorResponses, portfolioParams } from '../schemas/common.js';
import {
  addBusinessBody,
  setAllocationBody,
  statusWithPortfolio,
  wirePortfolio,
} from '../schemas/portfolio.js';
import { edit } from './edit-meta.js';

const tags = ['businesses'];
const refusals = { 400: errorResponses[400], 404: errorResponses[404], 409: errorResponses[409] };

export const registerBusinessRoutes: RegisterRoutes = (server, { app }) => {
  server.post(
    '/portfolios/:id/businesses',
    {
      schema: {
        tags,
        summary: 'Add a business',
        description:
          'Under equal, every unlocked allocation shares what the locked ones leave; otherwise the new business takes `weight` (default 1/n) and the others shrink in proportion.',
        params: portfolioParams,
        body: addBusinessBody,
        response: { 200: statusWithPortfolio('added'), ...refusals },
      },
    },
    async (request) => {
      const { business_id, weight } = request.body;
      const now = app.clock().toISOString();
      const updated = await app.store.update(
        request.params.id,
        (p) => addBusiness(p, business_id, { weight }, now),
        edit(request, 'POST /portfolios/{id}/businesses'),
      );
      return { status: 'added' as const, portfolio: wirePortfolio(updated) };
    },
  );

  server.delete(
    '/portfolios/:id/businesses/:business_id',
    {
      schema: {
        tags,
        summary: 'Remove a business',
        description:
          'Its weight goes back to the unlocked allocations. 404 for a business that is not there.',
        params: businessParams,
        response: { 200: statusWithPortfolio('removed'), ...refusals },
      },
    },
    async (request) => {
      const now = app.clock().toISOString();
      const updated = await app.store.update(
        request.params.id,
        (p) => removeBusiness(p, request.params.business_id, now),
        edit(request, 'DELETE /portfolios/{id}/businesses/{business_id}'),
      );
      return { status: 'removed' as const, portfolio: wirePortfolio(updated) };
    },
  );

  server.put(
    '/portfolios/:id/businesses/:business_id/allocation',
    {
      schema: {
        tags,
        summary: 'Set weight, priority, lock, bounds or target of one allocation',
        description:
          'An explicit weight is the operator’s: the other unlocked allocations absorb the difference. A change that changes nothing (`{}`) writes nothing: same version.',
        params: businessParams,
        body: setAllocationBody,
        response: { 200: statusWithPortfolio('updated'), ...refusals },
      },
    },
    async (request) => {
      const b = request.body;
      const now = app.clock().toISOString();
      const updated = await app.store.update(
        request.params.id,
        (p) =>
          setAllocation(
            p,
            request.params.business_id,
            {
              weight: b.weight,
              priority: b.priority,
              locked: b.locked,
              minWeight: b.min_weight,
              maxWeight: b.max_weight,
              targetWeight: b.target_weight,
            },
            now,
          ),
        edit(request, 'PUT /portfolios/{id}/businesses/{business_id}/allocation'),
      );
      return { status: 'updated' as const, portfolio: wirePortfolio(updated) };
    },
  );
};
