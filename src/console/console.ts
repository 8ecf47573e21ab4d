/**
 * The web console at /ui, registered by the API server: server-rendered pages over the same
 * services as the JSON API's routes. It authenticates with its own session cookie (see
 * session.ts) instead of the bearer token: its routes say `console: true`, which the bearer hook
 * skips (src/api/auth.ts). Cookies, form bodies and CSRF tokens exist in this scope only: the
 * JSON API stays JSON-only and Bearer-only.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api/context.js';
import { describeError } from '../api/http/errors.js';
import type { NamedToken } from '../config.js';
import { apiActor } from '../services/actor.js';
import { loadAssets } from './assets.js';
import { CONSOLE_PREFIX, type ConsoleContext, sendPage } from './context.js';
import { registerLogin } from './login.js';
import { isHttps, pageContext } from './request-context.js';
import { registerActions } from './routes/actions.js';
import { registerPages } from './routes/pages.js';
import { type SessionVerifier, sessionVerifier } from './session.js';
import { errorPage } from './views/layout.js';
import { loginPage } from './views/login.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a console session: the login form, the static files. */
    consolePublic?: boolean;
  }
}

export const CSRF_COOKIE = 'ballast_csrf';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface ConsoleOptions {
  /** The API's tokens; none means the console is open (`--insecure-no-auth`, loopback only). */
  readonly tokens: readonly NamedToken[];
  /** Why Redis cannot serve now, or null: pages then say so at once. */
  readonly unavailable: () => Promise<string | null>;
}

/** Registers /ui; returns the session verifier (null when open) for the dashboard to share. */
export function registerConsole(
  server: FastifyInstance,
  api: ApiContext,
  options: ConsoleOptions,
): SessionVerifier | null {
  const verifier = options.tokens.length > 0 ? sessionVerifier(options.tokens) : null;
  // Flash and CSRF cookies are signed with their own key, never the session's.
  const cookieSecret = verifier
    ? createHmac('sha256', verifier.secret).update('ballast console cookies').digest()
    : randomBytes(32);
  const cx: ConsoleContext = { api, assets: loadAssets(), verifier, tokens: options.tokens };

  server.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), console: true };
      // Pages, not API: kept out of the OpenAPI document.
      route.schema = { ...(route.schema ?? {}), hide: true };
    });
    await scope.register(fastifyCookie, { secret: cookieSecret, hook: 'onRequest' });
    await scope.register(fastifyFormbody);
    await scope.register(fastifyCsrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: CSRF_COOKIE,
      cookieOpts: { path: CONSOLE_PREFIX, sameSite: 'strict', httpOnly: true, signed: true },
    });
    scope.decorateRequest('consoleUser', null);

    scope.addHook('onRequest', async (request, reply) => {
      if (verifier === null) return undefined;
      const session = verifier.fromCookieHeader(request.headers.cookie, api.app.clock().getTime());
      if (session) {
        request.consoleUser = session.name;
        request.actor = apiActor(session.name);
        return undefined;
      }
      if (request.routeOptions.config?.consolePublic === true) return undefined;
      // No data without a session: every page (and every action) goes to the login form.
      const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
      return reply.redirect(`${CONSOLE_PREFIX}/login${next}`, 303);
    });

    scope.addHook('preHandler', async (request, reply) => {
      // The login form and the static files need no Redis; every page showing data does (a 503
      // page at once, rather than a request failing on a connection that is not there).
      if (request.routeOptions.config?.redis === false) return undefined;
      if (verifier !== null && request.consoleUser === null) return undefined;
      const why = await options.unavailable();
      if (why === null) return undefined;
      return sendPage(reply.code(503), errorPage(pageContext(request, reply, cx.assets), 'Unavailable', why));
    });

    scope.addHook('onSend', async (request, reply, payload) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'same-origin');
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('cross-origin-resource-policy', 'same-origin');
      if (!request.url.startsWith(`${CONSOLE_PREFIX}/static/`)) reply.header('cache-control', 'no-store');
      return payload;
    });

    scope.setErrorHandler((err: FastifyError, request, reply) => consoleError(cx, err, request, reply));

    scope.get(
      `${CONSOLE_PREFIX}/static/:name`,
      { config: { consolePublic: true, redis: false } },
      async (request, reply) => {
        const { name } = request.params as { name: string };
        const found = cx.assets.byName.get(name);
        if (!found) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
        const versioned = (request.query as { v?: unknown }).v === found.url.split('v=')[1];
        reply.header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache');
        return reply.type(found.type).send(found.body);
      },
    );

    registerLogin(scope, cx);
    registerPages(scope, cx);
    registerActions(scope, cx);

    scope.get(`${CONSOLE_PREFIX}/*`, async (request, reply) =>
      sendPage(
        reply.code(404),
        errorPage(
          pageContext(request, reply, cx.assets),
          'Not found',
          `Nothing at ${request.url.split('?')[0]}.`,
        ),
      ),
    );
  });
  return verifier;
}

const CSRF_CODES = new Set(['FST_CSRF_MISSING_SECRET', 'FST_CSRF_INVALID_TOKEN']);

/** Errors as pages: the refusal's words and its status, never a stack trace. */
function consoleError(cx: ConsoleContext, err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let status: number;
  let title: string;
  let message: string;
  if (CSRF_CODES.has(err.code)) {
    status = 403;
    title = 'Refused';
    message =
      'This form was not sent from a page of this console (its CSRF token is missing or wrong): nothing was changed. Reload the page and try again.';
  } else {
    const described = describeError(err, request.headers['content-type']);
    status = described.status;
    title = status === 404 ? 'Not found' : status >= 500 ? 'Unavailable' : 'Refused';
    message = described.body.message;
    if (status >= 500 && status !== 503) {
      request.log.error({ err }, 'console request failed');
      title = 'Internal error';
      message = 'Something went wrong on the server; the error is in the API log.';
    }
  }
  if (cx.verifier !== null && request.consoleUser === null) {
    const csrf = reply.generateCsrf({ secure: isHttps(request) });
    return sendPage(reply.code(status), loginPage(cx.assets, { csrf, next: CONSOLE_PREFIX, error: message }));
  }
  return sendPage(reply.code(status), errorPage(pageContext(request, reply, cx.assets), title, message));
}
