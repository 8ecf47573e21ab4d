/**
 * The console's actions: each a POST form carrying the CSRF token, done through the same service
 * as the API's route, then a 303 back to the page with what happened (or why it was refused).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { runIdSchema } from '../../../jobs/payloads.js';
import { isValidId, NotFoundError, ValidationError } from '../../domain/index.js';
import { restorePortfolio } from '../../services/history.js';
import { approvePendingProposal, rejectPendingProposal } from '../../services/proposals.js';
import { revertRun } from '../../services/revert.js';
import { cancelRun } from '../../services/runs.js';
import { CONSOLE_PREFIX, type ConsoleContext } from '../context.js';
import { field, messageOf, safeBack, setFlash } from '../request-context.js';

const NOTE_MAX = 500;

export function registerActions(scope: FastifyInstance, cx: ConsoleContext): void {
  const { app } = cx.api;
  const opts = { preHandler: scope.csrfProtection };

  /** Runs `op`, leaves its message (or its refusal) as the flash, and goes back. */
  const act = async (
    request: FastifyRequest,
    reply: FastifyReply,
    fallback: string,
    op: () => Promise<string>,
  ): Promise<FastifyReply> => {
    const back = safeBack(field(request.body, 'back'), fallback);
    try {
      setFlash(request, reply, { kind: 'done', message: await op() });
    } catch (err) {
      const message = messageOf(err);
      if (message.startsWith('the action failed unexpectedly')) {
        request.log.error({ err }, 'console action failed');
      }
      setFlash(request, reply, { kind: 'error', message });
    }
    return reply.redirect(back, 303);
  };

  const portfolioId = (request: FastifyRequest): string => {
    const { id } = request.params as { id: string };
    if (!isValidId(id)) throw new NotFoundError(`portfolio ${id} not found`);
    return id;
  };
  const runId = (request: FastifyRequest): string => {
    const { run_id: id } = request.params as { run_id: string };
    if (!runIdSchema.safeParse(id).success) throw new NotFoundError(`run ${id} not found`);
    return id;
  };
  const note = (request: FastifyRequest): string | undefined => {
    const text = field(request.body, 'note')?.trim();
    if (text === undefined || text === '') return undefined;
    if (text.length > NOTE_MAX) throw new ValidationError(`the note is longer than ${NOTE_MAX} characters`);
    return text;
  };
  const portfolioPage = (request: FastifyRequest) =>
    `${CONSOLE_PREFIX}/portfolios/${encodeURIComponent((request.params as { id: string }).id)}`;
  const runPage = (request: FastifyRequest) =>
    `${CONSOLE_PREFIX}/runs/${encodeURIComponent((request.params as { run_id: string }).run_id)}`;

  scope.post(`${CONSOLE_PREFIX}/portfolios/:id/proposal/approve`, opts, (request, reply) =>
    act(request, reply, portfolioPage(request), async () => {
      const r = await approvePendingProposal(app, portfolioId(request), {
        actor: request.actor,
        note: note(request),
      });
      return `Approved proposal ${r.report_id}: ${r.changes} change${r.changes === 1 ? '' : 's'} applied, version ${r.version_before} → ${r.version_after}.`;
    }),
  );

  scope.post(`${CONSOLE_PREFIX}/portfolios/:id/proposal/reject`, opts, (request, reply) =>
    act(request, reply, portfolioPage(request), async () => {
      const r = await rejectPendingProposal(app, portfolioId(request), {
        actor: request.actor,
        note: note(request),
      });
      return `Rejected proposal ${r.report_id}; the weights stay (version ${r.version}).`;
    }),
  );

  scope.post(`${CONSOLE_PREFIX}/portfolios/:id/restore`, opts, (request, reply) =>
    act(request, reply, portfolioPage(request), async () => {
      const text = field(request.body, 'version') ?? '';
      if (!/^\d{1,9}$/.test(text)) throw new ValidationError(`version: "${text}" is not a version number`);
      const r = await restorePortfolio(app, portfolioId(request), Number(text), {
        actor: request.actor,
        dryRun: false,
      });
      return r.changed
        ? `Restored version ${r.restored_version} as version ${r.version_after}: ${r.changes}.`
        : `Version ${r.restored_version} has the allocations the portfolio has already: nothing written.`;
    }),
  );

  scope.post(`${CONSOLE_PREFIX}/runs/:run_id/revert`, opts, (request, reply) =>
    act(request, reply, runPage(request), async () => {
      const r = await revertRun(app, runId(request), {
        actor: request.actor,
        dryRun: false,
        force: field(request.body, 'force') === 'true',
      });
      const parts = [
        `Reverted run ${r.run_id}: ${r.reverted.length} portfolio${r.reverted.length === 1 ? '' : 's'} reverted`,
      ];
      if (r.already_reverted.length > 0) parts.push(`${r.already_reverted.length} already reverted`);
      if (r.unchanged.length > 0) parts.push(`${r.unchanged.length} it had not changed`);
      if (r.conflicts.length > 0) {
        const which = r.conflicts.map((c) => `${c.portfolio_id} (${c.reason})`).join('; ');
        throw new ValidationError(
          `${parts.join(', ')}; ${r.conflicts.length} changed since, left as they are: ${which}`,
        );
      }
      return `${parts.join(', ')}.`;
    }),
  );

  scope.post(`${CONSOLE_PREFIX}/runs/:run_id/cancel`, opts, (request, reply) =>
    act(request, reply, runPage(request), async () => {
      const r = await cancelRun(app, runId(request), request.actor);
      return `Cancelled run ${r.run_id}: ${r.cancelled} portfolio job${r.cancelled === 1 ? '' : 's'} removed before they started${r.fan_out_cancelled ? ', and its fan-out' : ''}; it is now ${r.state}.`;
    }),
  );
}
