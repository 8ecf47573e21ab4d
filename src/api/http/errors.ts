/**
 * One mapping from anything a route throws to `{ error, message, details }`: Ballast's refusals
 * by their code, request validation by field, fastify's own 4xx (bad JSON, body too large,
 * unsupported media type) as they are. Only a bug is a 500, and it never echoes internals.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { type ErrorCode, isBallastError } from '../../domain/index.js';
import type { ErrorBody } from '../schemas/common.js';

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  refused: 409,
};

const NAME_BY_STATUS: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  409: 'conflict',
  413: 'too-large',
  414: 'uri-too-long',
  415: 'unsupported-media-type',
  431: 'headers-too-large',
  500: 'internal',
  503: 'unavailable',
};

/** A dependency (the metrics source, Redis) failed: not the client's fault, so a 503. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  readonly statusCode = 503;
}

export interface ErrorReply {
  readonly status: number;
  readonly body: ErrorBody;
}

export function errorBody(status: number, message: string, details: readonly string[] = [], error?: string) {
  return {
    error: error ?? NAME_BY_STATUS[status] ?? (status < 500 ? 'invalid' : 'internal'),
    message,
    details: [...details],
    detail: message,
  } satisfies ErrorBody;
}

/** Where a validation problem was found, as a client names it. */
const PART: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

/** `contentType`: the request's, for a 415 that says what was sent. */
export function describeError(err: unknown, contentType?: string): ErrorReply {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const part = PART[(err as { validationContext?: string }).validationContext ?? 'body'] ?? 'request';
    const issues = err.validation.map((issue) => {
      const path = issue.instancePath.split('/').filter(Boolean).join('.');
      return { where: path ? `${part}.${path}` : part, message: issue.message ?? 'invalid' };
    });
    const details = issues.map((i) => `${i.where}: ${i.message}`);
    // "invalid query: unknown query parameter ...", not "invalid query: query: ...".
    const said = issues.map((i) => (i.where === part ? i.message : `${i.where}: ${i.message}`));
    return { status: 400, body: errorBody(400, `invalid ${part}: ${said.join('; ')}`, details) };
  }
  if (isBallastError(err)) {
    const status = STATUS_BY_CODE[err.code];
    // Every refusal names at least one problem, even when the domain gave only a sentence.
    const details = err.details.length > 0 ? err.details : [err.message];
    return { status, body: errorBody(status, err.message, details, err.code) };
  }
  if (err instanceof UnavailableError) {
    return { status: 503, body: errorBody(503, err.message) };
  }
  const code = (err as Partial<FastifyError> | null)?.code;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const sent = contentType
      ? `Content-Type ${JSON.stringify(contentType.slice(0, 100))}`
      : 'no Content-Type';
    const message = `request bodies are JSON: send Content-Type: application/json (got ${sent})`;
    return { status: 415, body: errorBody(415, message, [code]) };
  }
  // fastify's message repeats the whole URL, query string (and any token pasted there) included.
  if (code === 'FST_ERR_BAD_URL') {
    const message = 'the URL is malformed: a path segment is not valid percent-encoded UTF-8';
    return { status: 400, body: errorBody(400, message, ['path: malformed percent-encoding']) };
  }
  // find-my-way's limit, refused before routing: said as the ids' limits (the path is not echoed).
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const message =
      'a path segment is too long: portfolio, business and owner ids are 1..64 characters, job ids 1..200';
    return { status: 400, body: errorBody(400, message, ['path: a segment over 256 characters']) };
  }
  // The API's connections fail fast when Redis is down (api-redis.ts): not the client's fault.
  if (err instanceof Error && isRedisUnreachable(err)) {
    return {
      status: 503,
      body: errorBody(503, `Redis is not reachable (${err.message}): try again when GET /readyz answers 200`),
    };
  }
  // Redis refusing writes (maxmemory with noeviction, a replica, loading): the request was
  // fine, the store cannot take it now. Nothing was half-written (scripts are refused up front).
  if (err instanceof Error && /^(OOM|READONLY|LOADING|MASTERDOWN|BUSY) /.test(err.message)) {
    return { status: 503, body: errorBody(503, `Redis refused the request: ${err.message}`) };
  }
  const fastifyError = err as Partial<FastifyError> | null;
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = typeof fastifyError?.message === 'string' ? fastifyError.message : 'bad request';
    const details = fastifyError?.code ? [fastifyError.code] : [];
    return { status, body: errorBody(status, message, details) };
  }
  return { status: 500, body: errorBody(500, 'internal error; the server log has the details') };
}

/** ioredis' refusals when the connection is down or dropped (no offline queue, retries spent). */
function isRedisUnreachable(err: Error): boolean {
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /^(Stream isn't writeable|Connection is closed|Command timed out)/.test(err.message)
  );
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body } = describeError(err, request.headers['content-type']);
  if (status >= 500) request.log.error({ err }, 'request failed');
  else request.log.debug({ status, error: body.error, message: body.message }, 'request refused');
  return reply.code(status).send(body);
}
