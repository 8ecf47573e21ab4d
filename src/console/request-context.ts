/** What console handlers share: the page context, form fields, flash messages, where to go back. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describeError } from '../api/http/errors.js';
import { isBallastError } from '../domain/index.js';
import type { Assets } from './assets.js';
import type { Flash, PageContext } from './views/layout.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session's token name; null without one (or with the console open). */
    consoleUser: string | null;
  }
}

export const FLASH_COOKIE = 'ballast_flash';
/** A flash message longer than this is cut: it travels in a cookie. */
const FLASH_MAX = 1500;

export function isHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

export function pageContext(request: FastifyRequest, reply: FastifyReply, assets: Assets): PageContext {
  return {
    assets,
    user: request.consoleUser,
    csrf: reply.generateCsrf({ secure: isHttps(request) }),
    flash: takeFlash(request, reply),
    path: request.url,
  };
}

export function setFlash(request: FastifyRequest, reply: FastifyReply, flash: Flash): void {
  const message = flash.message.length > FLASH_MAX ? `${flash.message.slice(0, FLASH_MAX)}…` : flash.message;
  reply.setCookie(FLASH_COOKIE, JSON.stringify({ k: flash.kind, m: message }), {
    signed: true,
    path: '/ui',
    httpOnly: true,
    sameSite: 'strict',
    secure: isHttps(request),
    maxAge: 120,
  });
}

/** The flash message the last action left, once: it is cleared as it is read. */
function takeFlash(request: FastifyRequest, reply: FastifyReply): Flash | null {
  const raw = request.cookies[FLASH_COOKIE];
  if (raw === undefined) return null;
  reply.clearCookie(FLASH_COOKIE, { path: '/ui' });
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return null;
  try {
    const parsed = JSON.parse(unsigned.value) as { k?: unknown; m?: unknown };
    if ((parsed.k === 'done' || parsed.k === 'error') && typeof parsed.m === 'string') {
      return { kind: parsed.k, message: parsed.m };
    }
  } catch {
    // A flash cookie we did not write: ignored.
  }
  return null;
}

/** A single text field of a form body (the first, when repeated); undefined when absent. */
export function field(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/** A single query parameter, trimmed; '' when absent. */
export function queryField(query: unknown, name: string): string {
  return (field(query, name) ?? '').trim();
}

/**
 * A path inside the console to come back to after an action or a login; anything else (another
 * site, `//host`, a backslash trick) is replaced by `fallback`.
 */
export function safeBack(value: string | undefined, fallback: string): string {
  if (value === undefined || value.length > 2000) return fallback;
  return /^\/ui(?:$|[/?#](?![/\\]))/.test(value) && !/[\\\r\n]/.test(value) ? value : fallback;
}

/** What an operator is told when an action fails: the refusal's own words, never a stack. */
export function messageOf(err: unknown): string {
  if (isBallastError(err)) {
    const extra = err.details.filter((d) => d !== err.message && !err.message.includes(d));
    return extra.length > 0 ? `${err.message}\n${extra.join('\n')}` : err.message;
  }
  const described = describeError(err);
  if (described.status < 500 || described.status === 503) return described.body.message;
  return 'the action failed unexpectedly; the error is in the API log';
}
