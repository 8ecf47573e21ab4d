/** OpenAPI 3 generated from the routes' zod schemas, served at /docs/json with Swagger UI at /docs. */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export const DOCS_PREFIX = '/docs';

/** Queued with the server's other plugins: routes registered after it appear in the document. */
export function registerDocs(server: FastifyInstance, options: { auth: boolean }): void {
  server.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Ballast API',
        version: '1.0.0',
        description:
          'Portfolio rebalancing: the routes of the original sketch (same paths, snake_case bodies, status codes) plus runs, jobs, reports, health and metrics. Errors answer `{error, message, details}`.',
      },
      tags: [
        { name: 'portfolios' },
        { name: 'businesses' },
        { name: 'rebalancing' },
        { name: 'runs' },
        { name: 'operations' },
      ],
      ...(options.auth
        ? {
            components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
            security: [{ bearer: [] }],
          }
        : {}),
    },
    // Swagger UI's and the dashboard's own routes are hidden by their plugins.
    transform: createJsonSchemaTransform({ skipList: [] }),
    transformObject: jsonSchemaTransformObject,
  });
  server.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
}
