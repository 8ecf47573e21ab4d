import type { FastifyRequest } from 'fastify';

/**
 * How a request appears in the log (fastify's own fields), with the values of its query string
 * redacted: `?token=...` pasted by a client must not reach the log. Parameter names stay, they
 * tell what was asked.
 */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactQuery(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** What a query parameter's name may be made of to be shown: the API's own are like this. */
const PLAIN_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
/** A name of token length (tokens are 16 characters or more) is shown only as plain words. */
const TOKEN_LENGTH = 16;
const WORDS = /^[a-z]{1,12}([_.-][a-z]{1,12})+$/;

/**
 * Whether a query parameter's name may be shown (logged, echoed in a message): a short plain
 * name (`dry_run`, a cache-buster `_`), or a longer one made of words (`include_archived`). A
 * long or odd one may be a secret pasted in the wrong place (`?<token>`), and is not shown.
 */
export function isShowableName(name: string): boolean {
  if (!PLAIN_NAME.test(name)) return false;
  return name.length < TOKEN_LENGTH || WORDS.test(name);
}

/** The name as a message shows it: quoted, or said without it when it is not showable. */
export function showName(name: string): string {
  if (isShowableName(name)) return JSON.stringify(name);
  return name.length >= TOKEN_LENGTH
    ? '(a long name, not shown: it could be a token)'
    : '(a name with unusual characters, not shown)';
}

export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? '' : pair.slice(0, eq);
      return isShowableName(name) ? `${name}=[redacted]` : '[redacted]';
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}
