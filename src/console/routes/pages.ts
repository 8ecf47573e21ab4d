/** The console's pages (GET): overview, portfolio, run, audit. Each reads through the services. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { runIdSchema } from '../../../jobs/payloads.js';
import {
  isValidId,
  NotFoundError,
  STATUSES,
  ValidationError,
  type WireProposal,
} from '../../domain/index.js';
import { DEFAULT_AUDIT_LIMIT, portfolioHistory, readAudit } from '../../services/history.js';
import { listPortfolios, portfolioRows } from '../../services/portfolios.js';
import { listProposals, showProposal } from '../../services/proposals.js';
import { listRuns, showRun } from '../../services/runs.js';
import { CONSOLE_PREFIX, type ConsoleContext, sendPage } from '../context.js';
import type { Html } from '../html.js';
import { isHttps, pageContext, queryField } from '../request-context.js';
import { auditPage } from '../views/audit.js';
import type { PageContext } from '../views/layout.js';
import { loginPage } from '../views/login.js';
import { overviewPage } from '../views/overview.js';
import { portfolioPage } from '../views/portfolio.js';
import { runPage } from '../views/run.js';
import { parseReports } from './reports.js';
import { schedulePanelData } from './schedule-panel.js';

const PAGE_SIZE = 25;
const HISTORY_SHOWN = 50;
const REPORTS_SHOWN = 10;
const RUNS_SHOWN = 10;

export function registerPages(scope: FastifyInstance, cx: ConsoleContext): void {
  const { app } = cx.api;
  const page = (request: FastifyRequest, reply: FastifyReply, render: (ctx: PageContext) => Html) =>
    sendPage(reply, render(pageContext(request, reply, cx.assets)));

  // Public so that /ui itself is the login form without a session (no redirect, and no data).
  scope.get(CONSOLE_PREFIX, { config: { consolePublic: true } }, async (request, reply) => {
    if (cx.verifier !== null && request.consoleUser === null) {
      const csrf = reply.generateCsrf({ secure: isHttps(request) });
      return sendPage(reply, loginPage(cx.assets, { csrf, next: CONSOLE_PREFIX, error: null }));
    }
    const owner = queryField(request.query, 'owner');
    const status = queryField(request.query, 'status');
    const after = queryField(request.query, 'after');
    const statusFilter = (STATUSES as readonly string[]).includes(status)
      ? (status as (typeof STATUSES)[number])
      : undefined;
    const [list, runs, proposals, schedule] = await Promise.all([
      listPortfolios(app, {
        owner: owner === '' ? undefined : owner,
        status: statusFilter,
        after: after === '' ? undefined : after,
        limit: PAGE_SIZE,
      }),
      listRuns(app, RUNS_SHOWN),
      listProposals(app, 1),
      schedulePanelData(cx),
    ]);
    const rows = await portfolioRows(app, list.portfolios);
    return page(request, reply, (ctx) =>
      overviewPage(ctx, {
        filters: { owner, status: statusFilter ?? '', after },
        rows,
        next: list.next,
        pendingProposals: proposals.total,
        schedule,
        runs,
      }),
    );
  });

  scope.get(`${CONSOLE_PREFIX}/portfolios/:id`, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!isValidId(id)) throw new NotFoundError(`portfolio ${id} not found`);
    const portfolio = await app.store.require(id);
    const [proposal, history, stored] = await Promise.all([
      showProposal(app, id).catch((err: unknown): WireProposal | null => {
        if (err instanceof NotFoundError) return null;
        throw err;
      }),
      portfolioHistory(app, id, HISTORY_SHOWN),
      app.reports.list(id, REPORTS_SHOWN),
    ]);
    const reports = parseReports(stored, (entry) =>
      request.log.warn({ portfolioId: id, entry }, 'unreadable report in the stream'),
    );
    return page(request, reply, (ctx) => portfolioPage(ctx, { portfolio, proposal, history, reports }));
  });

  scope.get(`${CONSOLE_PREFIX}/runs/:run_id`, async (request, reply) => {
    const { run_id: runId } = request.params as { run_id: string };
    if (!runIdSchema.safeParse(runId).success) throw new NotFoundError(`run ${runId} not found`);
    const run = await showRun(app, runId, { limit: 500 });
    return page(request, reply, (ctx) => runPage(ctx, run));
  });

  scope.get(`${CONSOLE_PREFIX}/audit`, async (request, reply) => {
    const filters = {
      portfolio: queryField(request.query, 'portfolio'),
      actor: queryField(request.query, 'actor'),
      since: queryField(request.query, 'since'),
    };
    const limit = DEFAULT_AUDIT_LIMIT * 2;
    let error: string | null = null;
    const entries = await readAudit(app, {
      portfolioId: filters.portfolio || undefined,
      actor: filters.actor || undefined,
      since: filters.since || undefined,
      limit,
    }).catch((err: unknown) => {
      // A `since` that is not a time: said above an empty list, the filters kept to fix it.
      if (err instanceof ValidationError) {
        error = err.message;
        return [];
      }
      throw err;
    });
    return page(request, reply, (ctx) => auditPage(ctx, { filters, entries, limit, error }));
  });
}
