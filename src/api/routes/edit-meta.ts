import type { FastifyRequest } from 'fastify';
import type { WriteMeta } from '../../domain/index.js';

/** An operator's edit through a route: who (the token's name) and which route. */
export function edit(request: FastifyRequest, route: string): WriteMeta {
  return { actor: request.actor, cause: { type: 'edit', command: route } };
}
