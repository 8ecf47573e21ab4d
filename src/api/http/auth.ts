/**
 * Bearer-token auth with named tokens (BALLAST_API_TOKENS; BALLAST_API_TOKEN is `default`): the
 * name of the token a request carried is who acted (`api:<name>` in history and audit). Tokens
 * are compared in constant time: both sides are hashed to 32 bytes first and every configured
 * token is compared, so neither the content, the length nor which token matched leaks through
 * timing. Browsers (the dashboard, the docs) may send it as the password of HTTP Basic auth.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { NamedToken } from '../../config.js';
import { apiActor } from '../../services/actor.js';
import { errorBody } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts as: `api:<token name>` (`api:anonymous` without auth). */
    actor: string;
  }
  interface FastifyContextConfig {
    /** Served without a token (/healthz, /readyz, and /metrics when BALLAST_METRICS_PUBLIC=true). */
    public?: boolean;
    /**
     * A console or dashboard route: authenticated by the console's session cookie instead (see
     * src/console/console.ts and src/api/dashboard.ts); the cookie never opens any other route.
     */
    console?: boolean;
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Whether `authorization` (the header) carries `token`, as a bearer token or a Basic password. */
export function tokenMatcher(token: string): (authorization: string | undefined) => boolean {
  const match = namedTokenMatcher([{ name: 'default', token }]);
  return (authorization) => match(authorization) !== null;
}

/** The name of the token `authorization` carries, or null. */
export function namedTokenMatcher(
  tokens: readonly NamedToken[],
): (authorization: string | undefined) => string | null {
  const expected = tokens.map((t) => ({ name: t.name, digest: digest(t.token) }));
  return (authorization) => {
    const presented = presentedToken(authorization);
    // Hash even when nothing was presented, so a missing header costs the same as a wrong one.
    const got = digest(presented ?? '');
    let name: string | null = null;
    for (const e of expected) if (timingSafeEqual(got, e.digest) && name === null) name = e.name;
    return presented === null ? null : name;
  };
}

function presentedToken(authorization: string | undefined): string | null {
  if (typeof authorization !== 'string') return null;
  const space = authorization.indexOf(' ');
  if (space < 0) return null;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? null : decoded.slice(colon + 1);
  }
  return null;
}

export interface Auth {
  /** An onRequest hook: every route needs the token unless its config says `public: true`. */
  readonly hook: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  /** For requests refused before routing (malformed URL): they too get a 401 without the token. */
  readonly allows: (request: FastifyRequest) => boolean;
  readonly refuse: (request: FastifyRequest, reply: FastifyReply) => FastifyReply;
}

export function bearerAuth(tokens: readonly NamedToken[]): Auth {
  const matches = namedTokenMatcher(tokens);
  const allows = (request: FastifyRequest) => {
    const name = matches(request.headers.authorization);
    if (name !== null) request.actor = apiActor(name);
    return name !== null;
  };
  const refuse = (request: FastifyRequest, reply: FastifyReply) => {
    const message = request.headers.authorization
      ? 'wrong token: send Authorization: Bearer <BALLAST_API_TOKEN>'
      : 'missing token: send Authorization: Bearer <BALLAST_API_TOKEN>';
    return (
      reply
        .code(401)
        // Basic lets a browser ask for the token (any user name, the token as password).
        .header('www-authenticate', ['Bearer realm="ballast"', 'Basic realm="ballast", charset="UTF-8"'])
        .send(errorBody(401, message))
    );
  };
  return {
    allows,
    refuse,
    hook: async (request, reply) => {
      const config = request.routeOptions.config;
      if (config?.public === true || config?.console === true || allows(request)) return undefined;
      return refuse(request, reply);
    },
  };
}
