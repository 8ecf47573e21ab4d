/**
 * The bench's own HTTP metrics source (SPEC section 4's routes): answers from memory with
 * bodies serialised once, and counts what it is asked.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BusinessMetrics, metricsToWire } from '../../src/domain/index.js';

export interface BenchMetricsServer {
  readonly url: string;
  /** Requests since the last reset. */
  requests(): number;
  /** Businesses asked for (one per single request, the ids of a batch) since the last reset. */
  businessesAsked(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startBenchMetricsServer(
  metrics: readonly BusinessMetrics[],
): Promise<BenchMetricsServer> {
  const bodies = new Map<string, string>();
  for (const m of metrics) bodies.set(m.businessId, JSON.stringify(metricsToWire(m)));
  let requests = 0;
  let asked = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://bench');
    const single = /^\/businesses\/([^/]+)\/metrics$/.exec(url.pathname);
    if (single) {
      asked++;
      const body = bodies.get(decodeURIComponent(single[1]!));
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(body ?? '{"error":"not found"}');
      return;
    }
    if (url.pathname === '/metrics') {
      const ids = url.searchParams.get('ids')?.split(',') ?? [];
      asked += ids.length;
      const found = ids.map((id) => bodies.get(id)).filter((b): b is string => b !== undefined);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`[${found.join(',')}]`);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    businessesAsked: () => asked,
    reset: () => {
      requests = 0;
      asked = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
