/**
 * An HTTP server that takes every request and never answers: a metrics endpoint that hangs.
 * A test waits for a request to arrive, then for its client to let it go (`clientGone`).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface SilentHttp {
  readonly url: string;
  /** Resolves with the next request received. */
  nextRequest(): Promise<IncomingMessage>;
  close(): Promise<void>;
}

export async function startSilentHttp(): Promise<SilentHttp> {
  const responses = new Set<ServerResponse>();
  const server: Server = createServer((_req, res) => {
    responses.add(res);
    res.once('close', () => responses.delete(res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    nextRequest: async () => {
      const [req] = (await once(server, 'request')) as [IncomingMessage];
      return req;
    },
    close: async () => {
      for (const res of responses) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when `req`'s client has closed it (aborted the request). */
export function clientGone(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.socket.destroyed) resolve();
    else req.socket.once('close', () => resolve());
  });
}
