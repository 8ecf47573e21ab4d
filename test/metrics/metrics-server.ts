import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsRequest {
  /** Path and query as received, e.g. `/businesses/a/metrics` or `/metrics?ids=a,b`. */
  readonly url: string;
  /** The business of a per-business request. */
  readonly id: string | undefined;
  /** The ids of a batch request. */
  readonly ids: readonly string[];
  /** 1 for the first request with this url, 2 for its first retry... */
  readonly hit: number;
}

export type Handler = (req: MetricsRequest, res: ServerResponse) => void | Promise<void>;

/** A metrics endpoint of the test's own that counts what it is asked. */
export interface MetricsServer {
  readonly url: string;
  /** Requests received per url. */
  readonly hits: Map<string, number>;
  /** Every request url, in arrival order. */
  readonly requests: string[];
  /** Most requests open at once (received, response not yet closed). */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

export async function startMetricsServer(handler: Handler): Promise<MetricsServer> {
  const hits = new Map<string, number>();
  const requests: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const url = req.url ?? '/';
    requests.push(url);
    const hit = (hits.get(url) ?? 0) + 1;
    hits.set(url, hit);
    const parsed = new URL(url, 'http://localhost');
    const single = /^\/businesses\/([^/]+)\/metrics$/.exec(parsed.pathname);
    const ids = parsed.searchParams.get('ids')?.split(',') ?? [];
    Promise.resolve(
      handler({ url, id: single ? decodeURIComponent(single[1]!) : undefined, ids, hit }, res),
    ).catch((err: unknown) => {
      res.statusCode = 599;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Valid snake_case metrics for `id`. */
/** An hour ago when the tests start: fresh for the stale-metrics guard (48 h by default). */
export const AS_OF = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000).toISOString();

export function wireMetrics(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    business_id: id,
    name: `Business ${id}`,
    revenue: 1000,
    expenses: 600,
    customers: 12,
    growth_rate: 5.5,
    health_score: 80,
    stage: 'growth',
    as_of: AS_OF,
    ...overrides,
  };
}

/** A promise with its resolve function, for tests that wait on events. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
