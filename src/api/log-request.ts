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

/**
 * Whether a query parameter's name may be shown (logged, echoed in a message): a short name, as
 * the API's are. A longer one may be a secret pasted in the wrong place (tokens are 16
 * characters or more).
 */
export function isShowableName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(name);
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
