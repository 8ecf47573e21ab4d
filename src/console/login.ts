/** Logging in to the console with an API token, and out. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { namedTokenMatcher } from '../api/http/auth.js';
import { CONSOLE_PREFIX, type ConsoleContext, sendPage } from './context.js';
import { field, isHttps, queryField, safeBack } from './request-context.js';
import { SESSION_COOKIE, SESSION_TTL_MS, sealSession } from './session.js';
import { loginPage } from './views/login.js';

export function registerLogin(scope: FastifyInstance, cx: ConsoleContext): void {
  const matches = namedTokenMatcher(cx.tokens);

  const form = (request: FastifyRequest, reply: FastifyReply, next: string, error: string | null) =>
    sendPage(
      reply,
      loginPage(cx.assets, { csrf: reply.generateCsrf({ secure: isHttps(request) }), next, error }),
    );

  scope.get(
    `${CONSOLE_PREFIX}/login`,
    { config: { consolePublic: true, redis: false } },
    async (request, reply) => {
      const next = safeBack(queryField(request.query, 'next'), CONSOLE_PREFIX);
      if (cx.verifier === null || request.consoleUser !== null) return reply.redirect(next, 303);
      return form(request, reply, next, null);
    },
  );

  scope.post(
    `${CONSOLE_PREFIX}/login`,
    { config: { consolePublic: true, redis: false }, preHandler: scope.csrfProtection },
    async (request, reply) => {
      const next = safeBack(field(request.body, 'next'), CONSOLE_PREFIX);
      if (cx.verifier === null) return reply.redirect(next, 303);
      const token = field(request.body, 'token') ?? '';
      const name = token === '' ? null : matches(`Bearer ${token}`);
      if (name === null) {
        request.log.info('console login refused: wrong token');
        return form(request, reply.code(401), next, 'That is not one of the API tokens.');
      }
      const expiresAt = cx.api.app.clock().getTime() + SESSION_TTL_MS;
      reply.setCookie(SESSION_COOKIE, sealSession({ name, expiresAt }, cx.verifier.secret), {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: isHttps(request),
        maxAge: SESSION_TTL_MS / 1000,
      });
      request.log.info({ token: name }, 'console login');
      return reply.redirect(next, 303);
    },
  );

  scope.post(
    `${CONSOLE_PREFIX}/logout`,
    { config: { redis: false }, preHandler: scope.csrfProtection },
    async (request, reply) => {
      reply.clearCookie(SESSION_COOKIE, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: isHttps(request),
      });
      return reply.redirect(`${CONSOLE_PREFIX}/login`, 303);
    },
  );
}
