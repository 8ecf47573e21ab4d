/**
 * The BullMQ dashboard (bull-board) at /admin/queues.
 *
 * Who may use it: a browser logged in to the console (its session cookie is SameSite=Strict, so
 * no other site's page can send it), a script with `Authorization: Bearer <token>`, and, to look
 * only, a browser with the token as its HTTP Basic password. Basic credentials never allow an
 * action (pause, retry, clean, remove, promote...): a browser sends them with every request to
 * the host, whichever page made it, so any web page could act through them. Actions coming from
 * another site's page are refused whatever they carry.
 *
 * Nothing it serves loads from outside the server: the web fonts bull-board links from Google
 * are removed from its page (the system fonts stand in), and its page carries a CSP saying so.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.js';
import type { SessionVerifier } from '../../console/session.js';
import { apiActor } from '../../services/actor.js';
import type { Auth } from './auth.js';
import { errorBody } from './errors.js';

export const DASHBOARD_PREFIX = '/admin/queues';

/** How the dashboard checks who is asking; null when the API runs without auth. */
export interface DashboardAccess {
  readonly auth: Auth;
  /** The console's sessions (null: no console login, so only tokens open it). */
  readonly session: SessionVerifier | null;
  readonly clock: () => Date;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The dashboard's own page may load only from this server; bull-board's markup has inline style
 * attributes and a `<style>` block, hence 'unsafe-inline' for styles (never for scripts).
 */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
].join('; ');

export function registerDashboard(
  server: FastifyInstance,
  app: App,
  /** Why Redis cannot serve now, or null: the dashboard's data routes are then a 503 at once. */
  unavailable: () => Promise<string | null>,
  access: DashboardAccess | null = null,
): void {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(DASHBOARD_PREFIX);
  createBullBoard({
    queues: [new BullMQAdapter(app.queue.queue)],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Ballast' } },
  });
  server.register(async (scope) => {
    // The bearer hook skips these routes (src/api/auth.ts): the hook below decides instead.
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), console: true };
    });
    scope.addHook('onRequest', async (request, reply) => admit(access, request, reply));
    scope.addHook('preHandler', async (request, reply) => {
      if (!request.url.startsWith(`${DASHBOARD_PREFIX}/api/`)) return undefined;
      const why = await unavailable();
      return why === null ? undefined : reply.code(503).send(errorBody(503, why));
    });
    scope.addHook('onSend', async (_request, reply, payload) => {
      if (typeof payload !== 'string') return payload;
      if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
        reply.header('content-security-policy', DASHBOARD_CSP);
        reply.header('x-frame-options', 'DENY');
        return withoutExternalLinks(payload);
      }
      // bull-board answers its errors as {error: {key}}: add the `message` every other 4xx has.
      return reply.statusCode < 400 ? payload : withMessage(payload);
    });
    scope.register(adapter.registerPlugin(), { prefix: DASHBOARD_PREFIX });
  });
}

async function admit(
  access: DashboardAccess | null,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const write = !READS.has(request.method);
  if (write && fromAnotherSite(request)) {
    return reply
      .code(403)
      .send(errorBody(403, "dashboard actions are accepted from this server's own pages only"));
  }
  if (access === null) return undefined;
  const session = access.session?.fromCookieHeader(request.headers.cookie, access.clock().getTime());
  if (session) {
    request.actor = apiActor(session.name);
    return undefined;
  }
  if (!access.auth.allows(request)) return access.auth.refuse(request, reply);
  if (!write || schemeOf(request.headers.authorization) === 'bearer') return undefined;
  return reply
    .code(403)
    .send(
      errorBody(
        403,
        'HTTP Basic credentials open the dashboard to look only: to act (pause, retry, clean, remove...), log in to the console at /ui in this browser, or send Authorization: Bearer <token>',
      ),
    );
}

function schemeOf(authorization: string | undefined): string {
  return (authorization ?? '').trim().split(' ')[0]?.toLowerCase() ?? '';
}

/** A request a page of another origin made (the browser says so in Sec-Fetch-Site or Origin). */
function fromAnotherSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || origin === '') return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/** bull-board's page links Google's web fonts: every link to another host is removed. */
export function withoutExternalLinks(page: string): string {
  return page.replace(/<link\b[^>]*\bhref=["'](?:https?:)?\/\/[^"']*["'][^>]*>\s*/gi, '');
}

function withMessage(payload: string): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return payload;
  const record = body as Record<string, unknown>;
  if (typeof record['message'] === 'string' && record['message'] !== '') return payload;
  const error = record['error'];
  const key = typeof error === 'object' && error !== null ? (error as { key?: unknown }).key : error;
  return JSON.stringify({
    ...record,
    message: `dashboard: ${typeof key === 'string' ? key : 'request refused'}`,
  });
}
