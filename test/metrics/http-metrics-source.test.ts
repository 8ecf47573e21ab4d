import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHttpMetricsSource,
  type HttpMetricsSourceOptions,
} from '../../src/adapters/metrics/http-metrics-source.js';
import {
  AS_OF,
  deferred,
  type MetricsServer,
  sendJson,
  startMetricsServer,
  wireMetrics,
} from './metrics-server.js';

const TIMEOUT_MS = 200;

/** Small time-outs and next to no backoff, so that the whole file runs in about a second. */
function source(server: MetricsServer, overrides: Partial<HttpMetricsSourceOptions> = {}) {
  return createHttpMetricsSource({
    baseUrl: server.url,
    timeoutMs: TIMEOUT_MS,
    retries: 2,
    backoffMs: 1,
    concurrency: 8,
    batchSize: 0,
    ...overrides,
  });
}

const one = (id: string) => `/businesses/${id}/metrics`;

describe('http metrics source, one request per business', () => {
  let server: MetricsServer;
  beforeAll(async () => {
    server = await startMetricsServer((req, res) => {
      const id = req.id ?? '';
      switch (id) {
        case 'slow':
          return; // never answers: the client times out
        case 'down':
          return sendJson(res, { error: 'boom' }, 500);
        case 'flaky':
          return req.hit === 1 ? sendJson(res, 'unavailable', 503) : sendJson(res, wireMetrics(id));
        case 'gone':
          return sendJson(res, { error: 'no such business' }, 404);
        case 'refused':
          return sendJson(res, { error: 'bad request' }, 400);
        case 'bad-json':
          return sendJson(res, '{"business_id": "bad-json", revenue: ');
        case 'wrong-types':
          return sendJson(res, wireMetrics(id, { revenue: 'lots', growth_rate: true }));
        case 'health-140':
          return sendJson(res, wireMetrics(id, { health_score: 140 }));
        case 'neg-customers':
          return sendJson(res, wireMetrics(id, { customers: -3 }));
        case 'nan-string':
          return sendJson(res, wireMetrics(id, { revenue: 'NaN' }));
        case 'other-id':
          return sendJson(res, wireMetrics('someone-else'));
        case 'not-an-object':
          return sendJson(res, [1, 2, 3]);
        case 'blank-name':
          return sendJson(res, wireMetrics(id, { name: '' }));
        case 'tab-name':
          return sendJson(res, wireMetrics(id, { name: 'Acme\tInc' }));
        case 'naive-as-of':
          return sendJson(res, wireMetrics(id, { as_of: '2026-01-31T02:00:00' }));
        case 'micro-as-of':
          return sendJson(res, wireMetrics(id, { as_of: 1769824800000000 }));
        default:
          return sendJson(res, wireMetrics(id));
      }
    });
  });
  afterAll(() => server.close());

  it('parses correct answers from snake_case into camelCase', async () => {
    const { metrics, missing } = await source(server).fetch(['a', 'b']);
    expect(missing.size).toBe(0);
    expect(metrics.get('a')).toEqual({
      businessId: 'a',
      name: 'Business a',
      revenue: 1000,
      expenses: 600,
      profit: 400,
      margin: 40,
      customers: 12,
      growthRate: 5.5,
      healthScore: 80,
      stage: 'growth',
      asOf: AS_OF,
    });
    expect(metrics.get('b')?.businessId).toBe('b');
  });

  it('retries 5xx answers, then reports the business missing', async () => {
    const { metrics, missing } = await source(server).fetch(['down']);
    expect(metrics.size).toBe(0);
    expect(missing.get('down')).toBe('HTTP 500 after 3 attempts');
    expect(server.hits.get(one('down'))).toBe(3);
  });

  it('recovers when a retry succeeds', async () => {
    const { metrics, missing } = await source(server).fetch(['flaky']);
    expect(missing.size).toBe(0);
    expect(metrics.get('flaky')?.revenue).toBe(1000);
    expect(server.hits.get(one('flaky'))).toBe(2);
  });

  it('retries time-outs, then reports the business missing', async () => {
    const { missing } = await source(server).fetch(['slow']);
    expect(missing.get('slow')).toBe(`timed out after ${TIMEOUT_MS} ms (3 attempts)`);
    expect(server.hits.get(one('slow'))).toBe(3);
  });

  it('takes 404 as "no metrics" and does not retry it or other 4xx', async () => {
    const { missing } = await source(server).fetch(['gone', 'refused']);
    expect(missing.get('gone')).toBe('not found (HTTP 404)');
    expect(missing.get('refused')).toBe('HTTP 400 (not retried)');
    expect(server.hits.get(one('gone'))).toBe(1);
    expect(server.hits.get(one('refused'))).toBe(1);
  });

  it('flags invalid answers with the reason, without retrying them', async () => {
    const ids = [
      'bad-json',
      'wrong-types',
      'health-140',
      'neg-customers',
      'nan-string',
      'other-id',
      'not-an-object',
      'fine',
    ];
    const { metrics, missing } = await source(server).fetch(ids);
    expect([...metrics.keys()]).toEqual(['fine']);
    expect(missing.get('bad-json')).toMatch(/^invalid metrics: not JSON/);
    expect(missing.get('wrong-types')).toMatch(/^invalid metrics: .*revenue: .*growth_rate: /);
    expect(missing.get('health-140')).toMatch(/^invalid metrics: health_score: .*100/);
    expect(missing.get('neg-customers')).toMatch(/^invalid metrics: customers: .*0/);
    expect(missing.get('nan-string')).toMatch(/^invalid metrics: revenue: /);
    expect(missing.get('other-id')).toBe(
      'invalid metrics: business_id is "someone-else", expected "other-id"',
    );
    expect(missing.get('not-an-object')).toMatch(/^invalid metrics: /);
    for (const id of ids) expect(server.hits.get(one(id)), id).toBe(1);
  });

  it('repairs what other systems get wrong in names and timestamps, rather than dropping the metrics', async () => {
    // Before the fix each of the first three was "invalid metrics", and the business no-metrics.
    const ids = ['blank-name', 'tab-name', 'naive-as-of', 'micro-as-of'];
    const http = source(server);
    const { metrics, missing } = await http.fetch(ids);
    expect(metrics.get('blank-name')).toMatchObject({ name: undefined, revenue: 1000 });
    expect(metrics.get('tab-name')?.name).toBe('Acme Inc');
    expect(metrics.get('naive-as-of')?.asOf).toBe('2026-01-31T02:00:00Z');
    // An as_of out of range is refused as everywhere: the rule is the same for every source.
    expect(metrics.has('micro-as-of')).toBe(false);
    expect(missing.get('micro-as-of')).toMatch(
      /^invalid metrics: as_of: must be epoch milliseconds .*microseconds/,
    );
    expect(http.stats().errors).toBe(1);
  });

  it('retries network errors, then reports the business missing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const src = createHttpMetricsSource({
      baseUrl: `http://127.0.0.1:${port}/`,
      timeoutMs: TIMEOUT_MS,
      retries: 1,
      backoffMs: 1,
      concurrency: 2,
      batchSize: 0,
    });
    const { missing } = await src.fetch(['a']);
    expect(missing.get('a')).toBe('network error: ECONNREFUSED (2 attempts)');
    expect(src.stats()).toEqual({ calls: 2, businessesRequested: 1, errors: 2 });
  });

  it('counts requests, businesses and errors', async () => {
    const src = source(server);
    await src.fetch(['c', 'c', 'down', 'gone', 'health-140']);
    // c: 1 call; down: 3 failed calls; gone: 1 call, not an error; health-140: 1 call, invalid.
    expect(src.stats()).toEqual({ calls: 6, businessesRequested: 4, errors: 4 });
  });

  it("throws the caller's abort reason instead of reporting businesses missing", async () => {
    const controller = new AbortController();
    const src = source(server, { timeoutMs: 10_000 });
    const pending = src.fetch(['slow', 'd'], controller.signal);
    const reason = new Error('job cancelled');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('logs a warning for a request that failed for good', async () => {
    const warnings: unknown[] = [];
    const src = source(server, { log: { warn: (obj) => warnings.push(obj) } });
    await src.fetch(['down']);
    expect(warnings).toEqual([{ url: `${server.url}${one('down')}`, reason: 'HTTP 500 after 3 attempts' }]);
  });
});

describe('http metrics source, batches', () => {
  let server: MetricsServer;
  beforeAll(async () => {
    server = await startMetricsServer((req, res) => {
      if (req.ids.includes('broken')) return sendJson(res, { not: 'an array' });
      if (req.ids.includes('x500') && req.hit === 1) return sendJson(res, 'oops', 502);
      // `d` is left out of every answer; `bad` answers garbage; unasked ids are ignored.
      const answer = req.ids
        .filter((id) => id !== 'd')
        .map((id) => (id === 'bad' ? wireMetrics(id, { health_score: 140 }) : wireMetrics(id)));
      return sendJson(res, [...answer, wireMetrics('unasked')]);
    });
  });
  afterAll(() => server.close());

  it('sends one request per batchSize ids; an id absent from the answer is missing', async () => {
    const src = source(server, { batchSize: 2 });
    const { metrics, missing } = await src.fetch(['a', 'b', 'c', 'd', 'e', 'bad', 'a']);
    expect(server.requests).toHaveLength(3);
    expect([...server.requests].sort()).toEqual([
      '/metrics?ids=a,b',
      '/metrics?ids=c,d',
      '/metrics?ids=e,bad',
    ]);
    expect([...metrics.keys()].sort()).toEqual(['a', 'b', 'c', 'e']);
    expect(missing.get('d')).toBe('not in the batch answer');
    expect(missing.get('bad')).toMatch(/^invalid metrics: health_score: /);
    expect(metrics.has('unasked')).toBe(false);
    expect(src.stats()).toMatchObject({ calls: 3, businessesRequested: 6 });
  });

  it('retries a failed batch and flags a batch answer that is not an array', async () => {
    const { metrics, missing } = await source(server, { batchSize: 10 }).fetch(['x500', 'y']);
    expect(missing.size).toBe(0);
    expect([...metrics.keys()].sort()).toEqual(['x500', 'y']);
    expect(server.hits.get('/metrics?ids=x500,y')).toBe(2);
    const broken = await source(server, { batchSize: 10 }).fetch(['broken', 'z']);
    expect(broken.missing.get('z')).toBe('invalid metrics: the batch answer is not an array');
    expect(server.hits.get('/metrics?ids=broken,z')).toBe(1);
  });
});

describe('http metrics source, bounded concurrency', () => {
  const CONCURRENCY = 3;
  const IDS = Array.from({ length: 10 }, (_, i) => `b${i}`);
  let server: MetricsServer;
  let held: (() => void)[] = [];
  let received = 0;

  beforeAll(async () => {
    // Requests are held until `CONCURRENCY` of them are open (or all have come), so that a client
    // that sent more at once would be seen with more in flight.
    server = await startMetricsServer((req, res) => {
      received++;
      held.push(() => sendJson(res, wireMetrics(req.id ?? '')));
      if (held.length === CONCURRENCY || received === IDS.length) {
        const release = held;
        held = [];
        for (const answer of release) answer();
      }
    });
  });
  afterAll(() => server.close());

  it('never has more than `concurrency` requests in flight', async () => {
    // Counted on the client too: requests are started synchronously, so an unbounded client
    // is caught whatever the timing of their arrival at the server.
    let started = 0;
    let maxStarted = 0;
    const fetchImpl: typeof fetch = async (input, init) => {
      maxStarted = Math.max(maxStarted, ++started);
      try {
        return await fetch(input, init);
      } finally {
        started--;
      }
    };
    const { metrics } = await source(server, { concurrency: CONCURRENCY, fetchImpl }).fetch(IDS);
    expect(metrics.size).toBe(IDS.length);
    expect(maxStarted).toBe(CONCURRENCY);
    expect(server.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(server.requests).toHaveLength(IDS.length);
  });
});

describe('http metrics source, waiting on events', () => {
  it('aborts a request in flight as soon as the caller aborts', async () => {
    const arrived = deferred();
    const server = await startMetricsServer(() => arrived.resolve());
    try {
      const controller = new AbortController();
      const pending = source(server, { timeoutMs: 10_000 }).fetch(['x'], controller.signal);
      await arrived.promise;
      controller.abort(new Error('shutting down'));
      await expect(pending).rejects.toThrow('shutting down');
      expect(server.hits.get(one('x'))).toBe(1);
    } finally {
      await server.close();
    }
  });
});
