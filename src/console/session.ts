/**
 * The console's session cookie: the name of the token the operator logged in with and when the
 * session ends, signed with @fastify/cookie's signer. The signing secret is an HMAC of the
 * configured tokens, so every API replica with the same tokens accepts the same cookie without
 * sharing a secret of its own, and changing any token ends every session.
 *
 * The cookie only ever opens the console (and the dashboard, see src/api/dashboard.ts): the JSON
 * API reads the Authorization header alone.
 */
import { createHmac } from 'node:crypto';
import { fastifyCookie, sign, unsign } from '@fastify/cookie';
import type { NamedToken } from '../config.js';

export const SESSION_COOKIE = 'ballast_session';
/** How long a login lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const FORMAT = 'v1';

export interface Session {
  /** The token's name: the console acts as `api:<name>`, as the API does with that token. */
  readonly name: string;
  /** Epoch ms after which the cookie is refused. */
  readonly expiresAt: number;
}

/** The signing secret: the same on every replica configured with the same tokens. */
export function sessionSecret(tokens: readonly NamedToken[]): Buffer {
  const material = [...tokens]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((t) => `${t.name}\u0000${t.token}`)
    .join('\n');
  return createHmac('sha256', material).update('ballast console session v1').digest();
}

/** The cookie's value: `v1.<name>.<expires ms>.<signature>`. */
export function sealSession(session: Session, secret: Buffer): string {
  return sign(`${FORMAT}.${session.name}.${session.expiresAt}`, secret);
}

/**
 * The session a cookie value carries, or null when it is missing, forged, malformed, expired,
 * or names a token that is no longer configured.
 */
export function openSession(
  value: string | undefined,
  secret: Buffer,
  nowMs: number,
  names: ReadonlySet<string>,
): Session | null {
  if (typeof value !== 'string' || value === '') return null;
  const unsigned = unsign(value, secret);
  if (!unsigned.valid || unsigned.value === null) return null;
  const [format, name, expires, ...rest] = unsigned.value.split('.');
  if (format !== FORMAT || rest.length > 0 || name === undefined || !names.has(name)) return null;
  if (expires === undefined || !/^\d{1,16}$/.test(expires)) return null;
  const expiresAt = Number(expires);
  // Also refuses a cookie claiming to last longer than a login ever does.
  if (expiresAt <= nowMs || expiresAt > nowMs + SESSION_TTL_MS) return null;
  return { name, expiresAt };
}

/** Verifies the session cookie of a request, from its raw Cookie header (no plugin needed). */
export interface SessionVerifier {
  readonly secret: Buffer;
  readonly names: ReadonlySet<string>;
  fromCookieHeader(header: string | undefined, nowMs: number): Session | null;
}

export function sessionVerifier(tokens: readonly NamedToken[]): SessionVerifier {
  const secret = sessionSecret(tokens);
  const names = new Set(tokens.map((t) => t.name));
  return {
    secret,
    names,
    fromCookieHeader: (header, nowMs) => {
      if (typeof header !== 'string' || header === '') return null;
      let cookies: Record<string, string | undefined>;
      try {
        cookies = fastifyCookie.parse(header);
      } catch {
        return null;
      }
      return openSession(cookies[SESSION_COOKIE], secret, nowMs, names);
    },
  };
}
