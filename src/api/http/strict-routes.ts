/**
 * What every route of the API shares (the dashboard's and the docs' routes are their plugins'):
 * - a route that declares no query string takes none, and one that declares no body takes none
 *   (`{}` aside): an unknown parameter or a stray body is a 400 that names it, never ignored, so
 *   `POST .../rebalance?dry_run=true` or a misspelt `?dryrun=true` cannot apply for real;
 * - the common error responses (400, 401, 413, 415, 503) in its OpenAPI entry;
 * - a 503 at once, before anything is read or written, while Redis is not reachable.
 */
import type { FastifyRequest, RouteOptions } from 'fastify';
import { ValidationError } from '../../domain/index.js';
import type { ApiServer } from '../context.js';
import { errorResponses, strictQuery, tooLargeResponse, unavailableResponses } from '../schemas/common.js';
import { UnavailableError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: served while Redis is down (health checks, the scrape), which answer for themselves. */
    redis?: boolean;
  }
}

export interface StrictRoutesOptions {
  readonly auth: boolean;
  /** Why Redis cannot serve a request now, or null. */
  readonly unavailable: () => Promise<string | null>;
  /** The server's body limit, as the 413 says it. */
  readonly bodyLimit: number;
}

export function strictRoutes(scope: ApiServer, options: StrictRoutesOptions): void {
  scope.addHook('onRoute', (route) => {
    route.schema ??= {};
    route.schema.querystring ??= strictQuery({});
    const declared = (route.schema.response ?? {}) as Record<string, unknown>;
    route.schema.response = { ...commonErrors(route, options), ...declared };
  });

  scope.addHook('preValidation', async (request) => {
    if (request.routeOptions.schema?.body !== undefined || isNoBody(request.body)) return;
    throw new ValidationError(`${routeName(request)} takes no body: send none (or {})`, [
      `body: ${describeBody(request.body)}${hint(request.body)}`,
    ]);
  });

  scope.addHook('preHandler', async (request) => {
    if (request.routeOptions.config?.redis === false) return;
    const why = await options.unavailable();
    if (why !== null) throw new UnavailableError(why);
  });
}

function commonErrors(route: RouteOptions, options: StrictRoutesOptions): Record<string, unknown> {
  const methods = [route.method].flat();
  const takesBodies = methods.some((m) => m !== 'GET' && m !== 'HEAD');
  return {
    400: errorResponses[400],
    ...(options.auth && route.config?.public !== true ? { 401: errorResponses[401] } : {}),
    ...(takesBodies ? { 413: tooLargeResponse(options.bodyLimit), 415: errorResponses[415] } : {}),
    ...(route.config?.redis !== false
      ? { 503: takesBodies ? unavailableResponses.write : unavailableResponses.read }
      : {}),
  };
}

/** No body, or an empty JSON object (what some clients send with every POST). */
function isNoBody(body: unknown): boolean {
  if (body === undefined) return true;
  return (
    body !== null &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    Object.keys(body as Record<string, unknown>).length === 0
  );
}

function routeName(request: FastifyRequest): string {
  const url = (request.routeOptions.url ?? request.url.split('?')[0] ?? '').replace(/:([a-z_]+)/g, '{$1}');
  return `${request.method} ${url}`;
}

function describeBody(body: unknown): string {
  if (body === null) return 'got null';
  if (Array.isArray(body)) return 'got a JSON array';
  if (typeof body === 'object') {
    const keys = Object.keys(body as Record<string, unknown>);
    const shown = keys
      .slice(0, 5)
      .map((k) => JSON.stringify(k))
      .join(', ');
    return `got field${keys.length > 1 ? 's' : ''} ${shown}${keys.length > 5 ? ', ...' : ''}`;
  }
  return `got a JSON ${typeof body}`;
}

function hint(body: unknown): string {
  const asks = body !== null && typeof body === 'object' && 'dry_run' in (body as object);
  return asks
    ? '; a dry run is GET /portfolios/{id}/rebalance (a preview) or POST /portfolios/{id}/recalculate?dry_run=true'
    : '';
}
