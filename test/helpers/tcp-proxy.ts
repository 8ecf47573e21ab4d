/**
 * A TCP proxy in front of the test Redis, to take it away from a client without touching the
 * shared server: `drop()` cuts every connection and stops listening (connections are refused,
 * as with a Redis that is down), `hang()` keeps the connections but stops forwarding (a Redis
 * that accepts and never answers), `pass()` serves again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `redis://127.0.0.1:<port>`: the proxy's address. */
  readonly url: string;
  /** Client connections open now (a hung one included): a test can wait for a new client to connect. */
  readonly connections: number;
  pass(): Promise<void>;
  drop(): Promise<void>;
  hang(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(upstreamUrl: string): Promise<TcpProxy> {
  const upstream = new URL(upstreamUrl);
  let mode: 'pass' | 'drop' | 'hang' = 'pass';
  const pairs = new Set<{ client: Socket; server: Socket }>();

  const server: Server = createServer((client) => {
    const target = createConnection({ host: upstream.hostname, port: Number(upstream.port || 6379) });
    const pair = { client, server: target };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      target.destroy();
    };
    client.on('error', end).on('close', end);
    target.on('error', end).on('close', end);
    client.on('data', (chunk) => {
      if (mode === 'pass') target.write(chunk);
    });
    target.on('data', (chunk) => {
      if (mode === 'pass') client.write(chunk);
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const cut = () => {
    for (const pair of pairs) {
      pair.client.destroy();
      pair.server.destroy();
    }
    pairs.clear();
  };
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    pass: async () => {
      // What a hung connection swallowed is lost: its client must reconnect, not carry on.
      if (mode === 'hang') cut();
      mode = 'pass';
      if (!server.listening) await listen(port);
    },
    drop: async () => {
      mode = 'drop';
      const closed = stopListening();
      cut();
      await closed;
    },
    hang: () => {
      mode = 'hang';
    },
    close: async () => {
      mode = 'drop';
      const closed = stopListening();
      cut();
      await closed;
    },
  };
}
